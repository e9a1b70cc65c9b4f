package ui

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"github.com/swarmdrop/swarmdrop/engine"
)

// dataPath is where a torrent's data is: its file, or its folder.
func dataPath(t engine.TorrentStatus) string {
	if len(t.Files) > 0 {
		top, _, _ := strings.Cut(filepath.ToSlash(t.Files[0].Path), "/")
		return filepath.Join(t.Dir, filepath.FromSlash(top))
	}
	return filepath.Join(t.Dir, t.Name)
}

// openFile opens a file or folder with the desktop's application for it.
func (m *mainWindow) openFile(p string) {
	if _, err := os.Stat(p); err != nil {
		m.host.message("Nothing to open", fmt.Sprintf("%s is not on disk (yet).", p))
		return
	}
	if err := m.app.OpenURL(&url.URL{Scheme: "file", Path: p}); err != nil {
		m.showError(fmt.Errorf("opening %s: %w", p, err))
	}
}

// openData opens a torrent's data: its file, or its folder.
// A torrent waiting for its choice of files opens its add dialog.
func (m *mainWindow) openData(infoHash string) {
	t, ok := m.torrent(infoHash)
	switch {
	case !ok:
	case t.State == engine.StateWaitingFiles:
		m.askFiles(t.InfoHash, t.Name)
	default:
		m.openFile(dataPath(t))
	}
}

// openPath opens a file or folder of torrent t by its slash-separated path
// in the torrent.
func (m *mainWindow) openPath(t engine.TorrentStatus, p string) {
	m.openFile(filepath.Join(t.Dir, filepath.FromSlash(p)))
}

// openFolder opens the folder holding a torrent's data.
func (m *mainWindow) openFolder(t engine.TorrentStatus) {
	m.openFile(filepath.Dir(dataPath(t)))
}

// copyMagnets puts the magnet links of ts on the clipboard, one a line.
func (m *mainWindow) copyMagnets(ts []engine.TorrentStatus) {
	var links []string
	for _, t := range ts {
		if t.Magnet != "" {
			links = append(links, t.Magnet)
		}
	}
	if len(links) == 0 {
		return
	}
	m.app.Clipboard().SetContent(strings.Join(links, "\n"))
	if len(links) == 1 {
		m.status.say("Magnet link copied")
	} else {
		m.status.say(fmt.Sprintf("%d magnet links copied", len(links)))
	}
}

// rowMenu is the context menu of the selected torrents.
func (m *mainWindow) rowMenu() *fyne.Menu {
	sel := m.list.selected()
	cur, _ := m.list.currentTorrent()
	item := func(label string, on bool, f func()) *fyne.MenuItem {
		it := fyne.NewMenuItem(label, f)
		it.Disabled = !on
		return it
	}
	one := len(sel) == 1
	open := "Open"
	if one && len(cur.Files) > 1 {
		open = "Open folder of the data"
	}
	waiting := one && cur.State == engine.StateWaitingFiles
	settled := one && !waiting && cur.State != engine.StateMoving && cur.State != engine.StateMetadata
	items := []*fyne.MenuItem{
		item(open, one && !waiting, func() { m.openData(cur.InfoHash) }),
		item("Show in folder", one && !waiting, func() { m.openFolder(cur) }),
	}
	if waiting {
		items = append(items, item("Choose files…", true, func() { m.askFiles(cur.InfoHash, cur.Name) }))
	}
	items = append(items,
		item(map[bool]string{true: "Copy magnet link", false: "Copy magnet links"}[one], true, func() { m.copyMagnets(sel) }),
		item(saveTorrentLabel(cur, one), one && hasMetadata(cur), func() { m.saveTorrent(cur) }),
		fyne.NewMenuItemSeparator(),
		item("Pause", anyPausable(sel), m.onPause),
		item("Resume", anyResumable(sel), m.onResume),
		item("Force re-check", len(sel) > 0, func() { m.recheck(sel) }),
		fyne.NewMenuItemSeparator(),
		item("Move data to…", settled, func() { m.moveData(cur) }),
		item("Set limits…", one, func() { m.showLimits(cur) }),
		item("Add peer…", one, func() { m.showAddPeer(cur) }),
	)
	if one {
		if pub := m.publicationMenu(cur); pub != nil {
			items = append(items, fyne.NewMenuItemSeparator())
			items = append(items, pub...)
		}
	}
	items = append(items,
		fyne.NewMenuItemSeparator(),
		item("Remove…", len(sel) > 0, m.onRemove),
	)
	return fyne.NewMenu("", items...)
}

// showRowMenu shows the selection's context menu at pos.
func (m *mainWindow) showRowMenu(pos fyne.Position) {
	if len(m.list.selected()) == 0 {
		return
	}
	widget.ShowPopUpMenuAtPosition(m.rowMenu(), m.win.Canvas(), pos)
}

// showRemoveDialog asks whether to keep or delete the data of the
// torrents ts being removed.
func showRemoveDialog(h *dialogHost, ts []engine.TorrentStatus, onRemove func(withData bool)) *keyDialog {
	what := "“" + ts[0].Name + "”"
	if len(ts) > 1 {
		what = plural(len(ts), "torrent")
	}
	msg := widget.NewLabel("Remove " + what + " from the list?\nDeleting the data removes the downloaded files; files you published stay where they are.")
	msg.Wrapping = fyne.TextWrapWord
	k := &dialogKeys{}
	var d *keyDialog
	keep := newKeyButton(k, "Remove, keep data", nil, func() { d.Hide(); onRemove(false) })
	keep.Importance = widget.HighImportance
	del := newKeyButton(k, "Remove and delete data", nil, func() { d.Hide(); onRemove(true) })
	del.Importance = widget.DangerImportance
	d = h.newDialog("Remove torrent", msg, k, newKeyButton(k, "Cancel", nil, func() { d.Hide() }), keep, del)
	k.confirm, d.first = keep.OnTapped, keep
	d.Resize(fyne.NewSize(min(560, h.win.Canvas().Size().Width-40), 0))
	d.Show()
	return d
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
// the rest; while one of our publications is selected, it first offers
// to add the rest to that publication (see offerPublicationDrop).
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
	create := func() {
		if p.AskSplit {
			m.askSplit(p.Create)
		} else {
			m.openCreate(p.Create)
		}
	}
	if len(p.Create) > 0 && !m.offerPublicationDrop(p.Create, create) {
		create()
	}
}

// askSplit asks whether several dropped items make one torrent or one each.
func (m *mainWindow) askSplit(paths []string) {
	msg := widget.NewLabel(fmt.Sprintf("You dropped %d items. Make one torrent holding all of them, or one torrent per item?", len(paths)))
	msg.Wrapping = fyne.TextWrapWord
	k := &dialogKeys{}
	var d *keyDialog
	all := newKeyButton(k, "One for all", nil, func() { d.Hide(); m.openCreate(paths) })
	all.Importance = widget.HighImportance
	d = m.host.newDialog("Create torrents", msg, k,
		newKeyButton(k, "Cancel", nil, func() { d.Hide() }),
		newKeyButton(k, "One per item", nil, func() {
			d.Hide()
			for _, p := range paths {
				m.openCreate([]string{p})
			}
		}), all)
	k.confirm, d.first = all.OnTapped, all
	d.Resize(fyne.NewSize(min(480, m.win.Canvas().Size().Width-40), 0))
	d.Show()
}
