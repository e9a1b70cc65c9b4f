package ui

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/swarmdrop/swarmdrop/engine"
)

// mainWindow is Swarmdrop's window: toolbar, torrent list, details of the
// selection and status bar. Its methods run on the Fyne thread; feed
// brings the engine's snapshots and events there.
type mainWindow struct {
	app     fyne.App
	win     fyne.Window
	be      Backend
	list    *torrentList
	details *detailsPanel
	status  *statusBar

	pause, resume, remove *widget.Button

	tray         bool // a system tray menu is set
	snap         engine.Snapshot
	creates      map[int]*createDialog // by request id
	lastCreate   *createDialog         // the create dialog opened last
	settings     *settingsDialog       // while open
	health       *healthPanel          // while open
	notListening dialog.Dialog         // says the port is taken, while open
	listenErr    bool                  // the last snapshot said we do not listen
	stopFeed     func()                // ends the feed and waits for it (set by run)
	onSnapshot   func()                // called after each snapshot is shown (tests)
}

func newMainWindow(a fyne.App, be Backend) *mainWindow {
	m := &mainWindow{app: a, be: be, win: a.NewWindow("Swarmdrop"), creates: map[int]*createDialog{}}
	m.details = newDetailsPanel(be.ResumeIgnoringSpace)
	m.list = newTorrentList(m.onSelect)
	m.status = newStatusBar(m.onHealth)
	tool := func(label string, icon fyne.Resource, f func()) *widget.Button {
		b := widget.NewButtonWithIcon(label, icon, f)
		b.Importance = widget.LowImportance
		return b
	}
	m.pause = tool("Pause", theme.MediaPauseIcon(), m.onPause)
	m.resume = tool("Resume", theme.MediaPlayIcon(), m.onResume)
	m.remove = tool("Remove", theme.DeleteIcon(), m.onRemove)
	m.onSelect("")
	toolbar := container.NewHBox(
		tool("Add torrent", theme.FolderOpenIcon(), m.onAddTorrent),
		tool("Add magnet", theme.ContentPasteIcon(), m.onAddMagnet),
		tool("Create torrent", theme.ContentAddIcon(), m.onCreate),
		widget.NewSeparator(), m.pause, m.resume, m.remove, layoutSpacer(), m.list.sortChoice(),
		tool("DHT health", theme.InfoIcon(), m.onHealth),
		tool("Settings", theme.SettingsIcon(), m.onSettings),
	)
	split := container.NewVSplit(m.list.content(), m.details.root)
	split.Offset = 0.5
	m.win.SetContent(container.NewBorder(
		container.NewVBox(toolbar, widget.NewSeparator()),
		container.NewVBox(widget.NewSeparator(), m.status.content()), nil, nil, split))
	size := fyne.NewSize(1000, 640)
	if s := be.Settings(); s.WindowWidth >= 400 && s.WindowHeight >= 300 {
		size = fyne.NewSize(s.WindowWidth, s.WindowHeight)
	}
	m.win.Resize(size)
	m.win.SetOnDropped(m.onDropped)
	m.win.SetCloseIntercept(m.onClose)
	m.addShortcuts()
	m.addTray()
	return m
}

func (m *mainWindow) addShortcuts() {
	c := m.win.Canvas()
	for key, f := range map[fyne.KeyName]func(){
		fyne.KeyO: m.onAddTorrent, fyne.KeyN: m.onCreate, fyne.KeyQ: m.quit,
		fyne.KeyM: m.onAddMagnet, fyne.KeyComma: m.onSettings,
	} {
		c.AddShortcut(&desktop.CustomShortcut{KeyName: key, Modifier: fyne.KeyModifierShortcutDefault},
			func(fyne.Shortcut) { f() })
	}
	c.SetOnTypedKey(func(ev *fyne.KeyEvent) {
		if ev.Name == fyne.KeyDelete {
			m.onRemove()
		}
	})
}

// addTray puts Swarmdrop in the system tray where there is one. On
// Linux and BSD the tray speaks D-Bus: without a session bus Fyne's tray
// fails (and crashes on quit), so there is no tray then.
func (m *mainWindow) addTray() {
	d, ok := m.app.(desktop.App)
	if !ok || (runtime.GOOS != "windows" && runtime.GOOS != "darwin" && os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "") {
		return
	}
	m.tray = true
	quit := fyne.NewMenuItem("Quit", m.quit)
	quit.IsQuit = true
	d.SetSystemTrayMenu(fyne.NewMenu("Swarmdrop",
		fyne.NewMenuItem("Show Swarmdrop", m.raise),
		fyne.NewMenuItem("Pause all", m.be.PauseAll),
		fyne.NewMenuItem("Resume all", m.be.ResumeAll),
		fyne.NewMenuItemSeparator(), quit))
}

// applySnapshot shows the engine's state.
func (m *mainWindow) applySnapshot(s engine.Snapshot) {
	m.snap = s
	m.list.apply(s.Torrents)
	m.status.apply(s, len(m.be.Settings().Contacts()) > 0)
	m.showSelected()
	if m.health != nil {
		m.health.apply(s)
	}
	m.checkListening(s)
	if m.onSnapshot != nil {
		m.onSnapshot()
	}
}

// checkListening says once, in a dialog, that the engine cannot listen on
// its port, and how to fix it; the status bar keeps saying it.
func (m *mainWindow) checkListening(s engine.Snapshot) {
	was := m.listenErr
	m.listenErr = s.ListenErr != nil
	if s.ListenErr == nil {
		if m.notListening != nil {
			m.notListening.Hide()
		}
		return
	}
	if was {
		return
	}
	text := widget.NewLabel(fmt.Sprintf("Swarmdrop cannot listen for peers: %v.\n\n"+
		"Another program is probably using this port. Choose another one in Settings; "+
		"Swarmdrop tries it as soon as you save. Until then, torrents use only the connections "+
		"Swarmdrop opens itself, and the DHT is off.", s.ListenErr))
	text.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustomConfirm("Not listening", "Choose another port", "Later", text, func(ok bool) {
		m.notListening = nil
		if ok {
			m.onSettings()
			m.settings.showNetwork()
		}
	}, m.win)
	d.Resize(fyne.NewSize(560, 0))
	m.notListening = d
	d.Show()
}

// handleEvent reacts to a one-off engine event.
func (m *mainWindow) handleEvent(ev engine.Event) {
	if id := createRequest(ev); id != 0 {
		if c := m.creates[id]; c != nil {
			c.handleEvent(ev)
			if ev, ok := ev.(engine.Created); ok {
				m.notify("Torrent ready", ev.Name+" is seeding; share its magnet link or .torrent file.")
			}
			if _, ok := ev.(engine.CreateProgress); !ok {
				delete(m.creates, id)
			}
			return
		}
	}
	switch ev := ev.(type) {
	case engine.TorrentFinished:
		m.notify("Download finished", ev.Name)
	case engine.PingResult:
		if m.settings != nil {
			m.settings.handlePing(ev)
		}
	case engine.Problem:
		// A torrent's own failure (TorrentFailed) shows in its row; these
		// show nowhere else.
		m.showError(ev.Err)
	}
}

// createRequest returns the request id of a torrent creation's event, or 0.
func createRequest(ev engine.Event) int {
	switch ev := ev.(type) {
	case engine.CreateProgress:
		return ev.Request
	case engine.Created:
		return ev.Request
	case engine.CreateFailed:
		return ev.Request
	}
	return 0
}

func (m *mainWindow) notify(title, body string) {
	m.app.SendNotification(fyne.NewNotification(title, body))
}

func (m *mainWindow) showError(err error) { dialog.ShowError(err, m.win) }

// selectedTorrent returns the selected torrent's latest status.
func (m *mainWindow) selectedTorrent() (engine.TorrentStatus, bool) {
	for _, t := range m.snap.Torrents {
		if t.InfoHash == m.list.selected && t.InfoHash != "" {
			return t, true
		}
	}
	return engine.TorrentStatus{}, false
}

func (m *mainWindow) onSelect(string) {
	m.showSelected()
}

// showSelected updates the details and the selection's buttons.
func (m *mainWindow) showSelected() {
	t, ok := m.selectedTorrent()
	m.details.show(t, ok, m.snap.Time)
	for _, b := range []*widget.Button{m.pause, m.resume, m.remove} {
		b.Disable()
	}
	if !ok {
		return
	}
	m.remove.Enable()
	if t.State == engine.StatePaused || t.State == engine.StateError {
		m.resume.Enable()
	} else {
		m.pause.Enable()
	}
}

func (m *mainWindow) onPause() {
	if t, ok := m.selectedTorrent(); ok {
		m.be.Pause(t.InfoHash)
	}
}

func (m *mainWindow) onResume() {
	if t, ok := m.selectedTorrent(); ok {
		m.be.Resume(t.InfoHash)
	}
}

func (m *mainWindow) onRemove() {
	t, ok := m.selectedTorrent()
	if !ok {
		return
	}
	showRemoveDialog(m.win, t.Name, func(withData bool) { m.be.Remove(t.InfoHash, withData) })
}

func (m *mainWindow) onAddTorrent() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil {
			m.showError(err)
			return
		}
		if r == nil {
			return
		}
		r.Close()
		m.addTorrentFile(r.URI().Path())
	}, m.win)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".torrent"}))
	d.Resize(fyne.NewSize(800, 560))
	d.Show()
}

func (m *mainWindow) onAddMagnet() {
	newMagnetDialog(m.win, func(uri string) { m.addMagnet(uri) }).dlg.Show()
}

func (m *mainWindow) addTorrentFile(path string) error {
	if _, err := m.be.AddTorrentFile(path, engine.AddOptions{}); err != nil {
		err = fmt.Errorf("adding torrent: %w", err)
		m.showError(err)
		return err
	}
	return nil
}

func (m *mainWindow) addMagnet(uri string) error {
	if _, err := m.be.AddMagnet(strings.TrimSpace(uri), engine.AddOptions{}); err != nil {
		err = fmt.Errorf("adding magnet link: %w", err)
		m.showError(err)
		return err
	}
	return nil
}

// intake adds command-line or handed-over arguments: magnet links and
// torrent files; no arguments means "show the window". It returns what
// could not be added (also shown in the window).
func (m *mainWindow) intake(items []string) error {
	if len(items) == 0 {
		m.raise()
		return nil
	}
	var errs []error
	p := classifyDrop(items)
	for _, u := range p.Magnets {
		errs = append(errs, m.addMagnet(u))
	}
	// Anything else given to open is taken for a torrent file, whatever
	// its name: the engine says when it is not one.
	for _, f := range append(p.Torrents, p.Create...) {
		errs = append(errs, m.addTorrentFile(f))
	}
	m.raise()
	return errors.Join(errs...)
}

// onDropped adds dropped .torrent files and opens the create dialog for
// the rest.
func (m *mainWindow) onDropped(_ fyne.Position, uris []fyne.URI) {
	var paths []string
	for _, u := range uris {
		if u.Scheme() == "file" {
			paths = append(paths, u.Path())
		} else {
			paths = append(paths, u.String())
		}
	}
	m.handleDrop(paths)
}

func (m *mainWindow) handleDrop(paths []string) {
	p := classifyDrop(paths)
	for _, u := range p.Magnets {
		m.addMagnet(u)
	}
	for _, f := range p.Torrents {
		m.addTorrentFile(f)
	}
	switch {
	case len(p.Create) == 0:
	case !p.AskSplit:
		m.openCreate(p.Create)
	default:
		m.askSplit(p.Create)
	}
}

// askSplit asks whether several dropped items make one torrent or one each.
func (m *mainWindow) askSplit(paths []string) {
	msg := widget.NewLabel(fmt.Sprintf("You dropped %d items. Make one torrent holding all of them, or one torrent per item?", len(paths)))
	msg.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustomWithoutButtons("Create torrents", msg, m.win)
	d.SetButtons([]fyne.CanvasObject{
		widget.NewButton("Cancel", d.Hide),
		widget.NewButton("One per item", func() {
			d.Hide()
			for _, p := range paths {
				m.openCreate([]string{p})
			}
		}),
		widget.NewButton("One for all", func() { d.Hide(); m.openCreate(paths) }),
	})
	d.Resize(fyne.NewSize(480, 0))
	d.Show()
}

func (m *mainWindow) onCreate() {
	var d *dialog.CustomDialog
	pick := func(folder bool) {
		d.Hide()
		cb := func(path string) { m.openCreate([]string{path}) }
		var fd *dialog.FileDialog
		if folder {
			fd = dialog.NewFolderOpen(func(u fyne.ListableURI, err error) {
				if err == nil && u != nil {
					cb(u.Path())
				}
			}, m.win)
		} else {
			fd = dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
				if err == nil && r != nil {
					r.Close()
					cb(r.URI().Path())
				}
			}, m.win)
		}
		fd.Resize(fyne.NewSize(800, 560))
		fd.Show()
	}
	msg := widget.NewLabel("Publish a file or a folder as a trackerless torrent.\nYou can also drop files and folders on the window.")
	d = dialog.NewCustomWithoutButtons("Create torrent", msg, m.win)
	d.SetButtons([]fyne.CanvasObject{widget.NewButton("Cancel", d.Hide),
		widget.NewButtonWithIcon("A file…", theme.FileIcon(), func() { pick(false) }),
		widget.NewButtonWithIcon("A folder…", theme.FolderIcon(), func() { pick(true) })})
	d.Show()
}

// openCreate opens the create dialog for paths.
func (m *mainWindow) openCreate(paths []string) *createDialog {
	c, err := newCreateDialog(m.win, m.be, paths, m.be.DefaultNodes(m.snap), func(c *createDialog, id int) {
		m.creates[id] = c
	})
	if err != nil {
		m.showError(err)
		return nil
	}
	c.dlg.Show()
	m.lastCreate = c
	return c
}

func (m *mainWindow) onSettings() {
	if m.settings != nil {
		return
	}
	m.settings = newSettingsDialog(m.win, m.be, m.snap.ListenPort, m.snap.ListenErr != nil, func() { m.settings = nil })
	m.settings.dlg.Show()
}

func (m *mainWindow) onHealth() {
	if m.health != nil {
		return
	}
	m.health = newHealthPanel(m.win, func() { m.health = nil })
	m.health.apply(m.snap)
	m.health.dlg.Show()
}

// raise shows the window and brings it to the front.
func (m *mainWindow) raise() {
	m.win.Show()
	m.win.RequestFocus()
}

// onClose hides the window when Swarmdrop keeps running in the tray, and
// quits otherwise.
func (m *mainWindow) onClose() {
	if m.tray && m.be.Settings().KeepInTray {
		m.saveSize()
		m.win.Hide()
		return
	}
	m.quit()
}

// quit remembers the window's size, stops the feed and ends the program.
func (m *mainWindow) quit() {
	m.saveSize()
	if m.stopFeed != nil {
		m.stopFeed()
	}
	m.app.Quit()
}

func (m *mainWindow) saveSize() {
	size := m.win.Canvas().Size()
	s := m.be.Settings()
	if size.Width < 1 || (s.WindowWidth == size.Width && s.WindowHeight == size.Height) {
		return
	}
	s.WindowWidth, s.WindowHeight = size.Width, size.Height
	if err := m.be.SetSettings(s); err != nil {
		fyne.LogError("saving the window size", err)
	}
}
