package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/swarmdrop/swarmdrop/engine"
)

// mainWindow is Swarmdrop's window: toolbar, torrent list, details of the
// current torrent and status bar. Its methods run on the Fyne thread;
// feed brings the engine's snapshots and events there.
type mainWindow struct {
	app     fyne.App
	win     fyne.Window
	be      Backend
	host    *dialogHost
	list    *torrentList
	details *detailsPanel
	status  *statusBar
	split   *container.Split
	filter  *widget.Select
	search  *searchEntry
	tools   *toolbarLayout

	pause, resume, remove *widget.Button
	// shortcuts are the window's keyboard shortcuts, also given to them by
	// the focused list and search field (which would keep them otherwise).
	shortcuts fyne.ShortcutHandler

	tray         bool // a system tray menu is set
	snap         engine.Snapshot
	creates      map[int]*createDialog // by request id
	republishes  map[int]republish     // "Publish new version" requests (and publications with an imported key), by request id
	adds         map[string]*addDialog // open add dialogs by info hash
	lastCreate   *createDialog         // the create dialog opened last
	settings     *settingsDialog       // while open
	health       *healthPanel          // while open
	notListening *keyDialog            // says the port is taken, while open
	listenErr    bool                  // the last snapshot said we do not listen
	quitting     *keyDialog            // asks before quitting, while open
	stopFeed     func()                // ends the feed and waits for it (set by run)
	onSnapshot   func()                // called after each snapshot is shown (tests)
}

func newMainWindow(a fyne.App, be Backend) *mainWindow {
	s := be.Settings()
	m := &mainWindow{app: a, be: be, win: a.NewWindow("Swarmdrop"), creates: map[int]*createDialog{}, republishes: map[int]republish{}, adds: map[string]*addDialog{}}
	m.host = &dialogHost{win: m.win}
	m.host.shortcut = m.shortcuts.TypedShortcut
	m.details = newDetailsPanel(be.ResumeIgnoringSpace)
	m.details.files.onOpen = func(p string) { m.openPath(m.details.t, p) }
	m.details.files.onPriority = m.setPriority
	m.details.onUpdateNow = m.updateNow
	m.details.onAutoUpdate = m.setAutoUpdate
	m.list = newTorrentList(s.Layout.Columns, sortLayout{s.Layout.SortBy, s.Layout.SortDesc})
	m.list.onSelect = m.showSelected
	m.list.onOpen = m.openData
	m.list.onMenu = m.showRowMenu
	m.list.onKey = m.onListKey
	m.list.onShortcut = m.shortcuts.TypedShortcut
	m.list.onLayout = m.saveLayout
	m.status = newStatusBar(m.onHealth)

	pause := newToolButton("Pause", theme.MediaPauseIcon(), m.onPause)
	resume := newToolButton("Resume", theme.MediaPlayIcon(), m.onResume)
	remove := newToolButton("Remove", theme.DeleteIcon(), m.onRemove)
	m.pause, m.resume, m.remove = pause.btn, resume.btn, remove.btn
	m.filter = widget.NewSelect(stateFilters, m.list.setFilter)
	m.filter.SetSelected(filterAll)
	m.search = newSearchEntry(m)
	toolbar, tools := newToolbar(
		[]any{newToolButton("Add torrent", theme.FolderOpenIcon(), m.onAddTorrent),
			newToolButton("Add magnet", theme.ContentPasteIcon(), m.onAddMagnet),
			newToolButton("Create torrent", theme.ContentAddIcon(), m.onCreate),
			toolSeparator(), pause, resume, remove},
		[]any{m.filter, m.search, toolSeparator(),
			newToolButton("DHT health", theme.InfoIcon(), m.onHealth),
			newToolButton("Settings", theme.SettingsIcon(), m.onSettings)},
		m.search)
	m.tools = tools
	m.showSelected()

	m.split = container.NewVSplit(m.list.content(), m.details.root)
	m.split.Offset = 0.5
	if f := s.Layout.Split; f >= 0.1 && f <= 0.9 {
		m.split.Offset = f
	}
	m.win.SetContent(container.NewBorder(
		container.NewVBox(toolbar, widget.NewSeparator()),
		container.NewVBox(widget.NewSeparator(), m.status.content()), nil, nil, m.split))
	size := fyne.NewSize(1000, 640)
	if s.WindowWidth >= 400 && s.WindowHeight >= 300 {
		size = fyne.NewSize(s.WindowWidth, s.WindowHeight)
	}
	m.win.Resize(size)
	m.win.SetOnDropped(m.onDropped)
	m.win.SetCloseIntercept(m.onClose)
	m.addShortcuts()
	m.addTray()
	return m
}

// addShortcuts sets the window's keyboard: Ctrl+O, Ctrl+M and Ctrl+N add
// and create, Ctrl+P and Ctrl+R pause and resume the selection (with
// Shift: every torrent), Ctrl+F goes to the search, Ctrl+L to the list,
// Ctrl+, opens Settings, Ctrl+Q quits. Keys typed with nothing focused go
// to the open dialog (Return, Escape) or else to the list.
func (m *mainWindow) addShortcuts() {
	c := m.win.Canvas()
	ctrl := fyne.KeyModifierShortcutDefault
	for _, sc := range []struct {
		key fyne.KeyName
		mod fyne.KeyModifier
		f   func()
	}{
		{fyne.KeyO, ctrl, m.onAddTorrent}, {fyne.KeyN, ctrl, m.onCreate}, {fyne.KeyQ, ctrl, m.quit},
		{fyne.KeyM, ctrl, m.onAddMagnet}, {fyne.KeyComma, ctrl, m.onSettings},
		{fyne.KeyP, ctrl, m.onPause}, {fyne.KeyR, ctrl, m.onResume},
		{fyne.KeyP, ctrl | fyne.KeyModifierShift, m.be.PauseAll},
		{fyne.KeyR, ctrl | fyne.KeyModifierShift, m.be.ResumeAll},
		{fyne.KeyF, ctrl, func() { c.Focus(m.search) }},
		{fyne.KeyL, ctrl, m.list.table.focus},
	} {
		f := sc.f
		s := &desktop.CustomShortcut{KeyName: sc.key, Modifier: sc.mod}
		c.AddShortcut(s, func(fyne.Shortcut) { f() })
		m.shortcuts.AddShortcut(s, func(fyne.Shortcut) { f() })
	}
	c.SetOnTypedKey(func(ev *fyne.KeyEvent) {
		if m.host.handleKey(ev) {
			return
		}
		m.list.typedKey(ev)
	})
}

// onListKey handles the list's keys it does not use itself: Space pauses
// or resumes the selection, Delete removes it.
func (m *mainWindow) onListKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeySpace:
		m.togglePause()
	case fyne.KeyDelete:
		m.onRemove()
	}
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
	m.applyAdds()
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
	k := &dialogKeys{}
	var d *keyDialog
	choose := newKeyButton(k, "Choose another port", nil, func() {
		d.Hide()
		m.onSettings()
		m.settings.showNetwork()
	})
	choose.Importance = widget.HighImportance
	d = m.host.newDialog("Not listening", text, k, newKeyButton(k, "Later", nil, func() { d.Hide() }), choose)
	k.confirm, d.first = choose.OnTapped, choose
	d.SetOnClosed(func() { m.notListening = nil })
	d.Resize(fyne.NewSize(min(560, m.win.Canvas().Size().Width-40), 0))
	m.notListening = d
	d.Show()
}

// handleEvent reacts to a one-off engine event.
func (m *mainWindow) handleEvent(ev engine.Event) {
	if id := createRequest(ev); id != 0 {
		if c := m.creates[id]; c != nil {
			c.handleEvent(ev)
			switch ev := ev.(type) {
			case engine.Created:
				m.notify("Torrent ready", ev.Name+" is seeding; share its magnet link or .torrent file.")
			case engine.Published:
				m.notify("Publication ready", ev.Name+" is seeding; share its updatable link.")
			}
			if _, ok := ev.(engine.CreateProgress); !ok {
				delete(m.creates, id)
			}
			return
		}
	}
	if m.handlePublicationEvent(ev) {
		return
	}
	switch ev := ev.(type) {
	case engine.TorrentFinished:
		m.notify("Download finished", ev.Name)
	case engine.TorrentDuplicate:
		m.onDuplicate(ev)
	case engine.MoveFinished:
		m.status.say(fmt.Sprintf("“%s” moved to %s", ev.Name, ev.Dir))
	case engine.MoveFailed:
		m.showError(fmt.Errorf("moving “%s”: %w (its data stays where it was)", ev.Name, ev.Err))
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
	case engine.Published:
		return ev.Request
	case engine.CreateFailed:
		return ev.Request
	}
	return 0
}

func (m *mainWindow) notify(title, body string) {
	m.app.SendNotification(fyne.NewNotification(title, body))
}

func (m *mainWindow) showError(err error) { m.host.showError(err) }

// selectedTorrent returns the current torrent's latest status.
func (m *mainWindow) selectedTorrent() (engine.TorrentStatus, bool) {
	return m.list.currentTorrent()
}

// showSelected updates the details and the selection's buttons.
func (m *mainWindow) showSelected() {
	t, ok := m.selectedTorrent()
	m.details.show(t, ok, m.snap.Time)
	p, isPub := m.publicationOf(t.InfoHash)
	m.details.showPublication(p, ok && isPub)
	sel := m.list.selected()
	setEnabled(m.remove, len(sel) > 0)
	setEnabled(m.pause, anyPausable(sel))
	setEnabled(m.resume, anyResumable(sel))
}

// setEnabled enables or disables b when it is not so already (each
// change redraws the button and its icon).
func setEnabled(b *widget.Button, on bool) {
	switch {
	case on && b.Disabled():
		b.Enable()
	case !on && !b.Disabled():
		b.Disable()
	}
}

func canResume(t engine.TorrentStatus) bool {
	return t.State == engine.StatePaused || t.State == engine.StateError
}

func anyResumable(ts []engine.TorrentStatus) bool {
	for _, t := range ts {
		if canResume(t) {
			return true
		}
	}
	return false
}

func anyPausable(ts []engine.TorrentStatus) bool {
	for _, t := range ts {
		if !canResume(t) {
			return true
		}
	}
	return false
}

func (m *mainWindow) onPause() {
	for _, t := range m.list.selected() {
		if !canResume(t) {
			m.be.Pause(t.InfoHash)
		}
	}
}

func (m *mainWindow) onResume() {
	for _, t := range m.list.selected() {
		if canResume(t) {
			m.be.Resume(t.InfoHash)
		}
	}
}

// togglePause pauses the selection, or resumes it when all of it is
// paused.
func (m *mainWindow) togglePause() {
	if anyPausable(m.list.selected()) {
		m.onPause()
	} else {
		m.onResume()
	}
}

func (m *mainWindow) onRemove() {
	sel := m.list.selected()
	if len(sel) == 0 {
		return
	}
	showRemoveDialog(m.host, sel, func(withData bool) {
		for _, t := range sel {
			m.be.Remove(t.InfoHash, withData)
		}
	})
}

func (m *mainWindow) onSettings() {
	if m.settings != nil {
		return
	}
	m.settings = newSettingsDialog(m.host, m.be, m.snap.ListenPort, m.snap.ListenErr != nil, m.trayHost(), func() { m.settings = nil })
	m.settings.dlg.Show()
}

func (m *mainWindow) onHealth() {
	if m.health != nil {
		return
	}
	m.health = newHealthPanel(m.host, func() { m.health = nil })
	m.health.apply(m.snap)
	m.health.dlg.Show()
}

// raise shows the window and brings it to the front.
func (m *mainWindow) raise() {
	m.win.Show()
	m.win.RequestFocus()
}

// searchEntry is the name search: Escape empties it, Down goes to the
// list, and the window's shortcuts keep working while it has the focus.
type searchEntry struct {
	widget.Entry
	m *mainWindow
}

func newSearchEntry(m *mainWindow) *searchEntry {
	e := &searchEntry{m: m}
	e.PlaceHolder = "Search names"
	e.ActionItem = widget.NewIcon(theme.SearchIcon())
	e.OnChanged = m.list.setSearch
	e.ExtendBaseWidget(e)
	return e
}

// TypedKey empties the field on Escape and moves to the list on Down.
func (e *searchEntry) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyEscape:
		e.SetText("")
		return
	case fyne.KeyDown, fyne.KeyReturn, fyne.KeyEnter:
		e.m.list.table.focus()
		if e.m.list.current == "" {
			e.m.list.moveTo(0, false)
		}
		return
	}
	e.Entry.TypedKey(ev)
}

// TypedShortcut passes the window's shortcuts on.
func (e *searchEntry) TypedShortcut(s fyne.Shortcut) {
	if _, ok := s.(*desktop.CustomShortcut); ok {
		e.m.shortcuts.TypedShortcut(s)
		return
	}
	e.Entry.TypedShortcut(s)
}
