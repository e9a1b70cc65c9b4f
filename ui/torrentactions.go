package ui

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"github.com/swarmdrop/swarmdrop/engine"
)

// onDuplicate says that a torrent added again is already in the list,
// and offers the trackers the new copy has that it lacks.
func (m *mainWindow) onDuplicate(ev engine.TorrentDuplicate) {
	n := 0
	for _, tier := range ev.NewTrackers {
		n += len(tier)
	}
	if n == 0 {
		m.host.message("Already in the list", fmt.Sprintf("“%s” is already in the list.", ev.Name))
		return
	}
	m.host.confirm("Already in the list", fmt.Sprintf("“%s” is already in the list. The copy just added has %s it lacks:\n%s\n\nAdd them?",
		ev.Name, plural(n, "tracker"), trackerLines(ev.NewTrackers)), "Add trackers", func() {
		m.be.AddTrackers(ev.InfoHash, ev.NewTrackers)
		m.status.say(plural(n, "tracker") + " added to “" + ev.Name + "”")
	})
}

// trackerLines lists tiers of trackers, one a line, at most ten.
func trackerLines(tiers [][]string) string {
	var lines []string
	for _, tier := range tiers {
		lines = append(lines, tier...)
	}
	if len(lines) > 10 {
		lines = append(lines[:10], fmt.Sprintf("and %d more", len(lines)-10))
	}
	return strings.Join(lines, "\n")
}

// moveData asks for a folder and moves torrent t's data there (the
// engine copies, then removes the old copy; the row shows the progress).
func (m *mainWindow) moveData(t engine.TorrentStatus) {
	fd := dialog.NewFolderOpen(func(u fyne.ListableURI, err error) {
		if err == nil && u != nil {
			m.startMove(t, u.Path())
		}
	}, m.win)
	fd.Resize(fileDialogSize(m.win))
	fd.Show()
}

// startMove moves torrent t's data into dir, once dir is known to be
// writable.
func (m *mainWindow) startMove(t engine.TorrentStatus, dir string) {
	if err := writableDir(dir); err != nil {
		m.showError(fmt.Errorf("moving “%s”: %w", t.Name, err))
		return
	}
	m.be.Move(t.InfoHash, dir)
	m.status.say(fmt.Sprintf("Moving “%s” to %s", t.Name, dir))
}

// recheck verifies the selected torrents' data again.
func (m *mainWindow) recheck(ts []engine.TorrentStatus) {
	for _, t := range ts {
		m.be.Recheck(t.InfoHash)
	}
}

// limitsDialog sets one torrent's own rate limits, in KiB/s (0: none).
type limitsDialog struct {
	down, up *keyEntry
	problem  *widget.Label
	dlg      *keyDialog
}

func (m *mainWindow) showLimits(t engine.TorrentStatus) *limitsDialog {
	k := &dialogKeys{}
	l := &limitsDialog{down: newKeyEntry(k), up: newKeyEntry(k), problem: widget.NewLabel("")}
	l.problem.Importance = widget.DangerImportance
	l.down.SetText(strconv.FormatInt(t.MaxDownloadRate/1024, 10))
	l.up.SetText(strconv.FormatInt(t.MaxUploadRate/1024, 10))
	set := func() {
		down, err := atoiField("download limit", l.down.Text)
		if err == nil && down < 0 {
			err = fmt.Errorf("download limit: %d is below 0", down)
		}
		up, uerr := atoiField("upload limit", l.up.Text)
		if uerr == nil && up < 0 {
			uerr = fmt.Errorf("upload limit: %d is below 0", up)
		}
		if err == nil {
			err = uerr
		}
		if err != nil {
			l.problem.SetText(err.Error())
			return
		}
		l.dlg.Hide()
		m.be.SetTorrentLimits(t.InfoHash, int64(down)*1024, int64(up)*1024)
	}
	ok := newKeyButton(k, "Set", nil, set)
	ok.Importance = widget.HighImportance
	k.confirm = set
	form := widget.NewForm(
		widget.NewFormItem("Download limit", container.NewBorder(nil, nil, nil, widget.NewLabel("KiB/s"), l.down)),
		widget.NewFormItem("Upload limit", container.NewBorder(nil, nil, nil, widget.NewLabel("KiB/s"), l.up)))
	note := widget.NewLabel("0: no limit of its own (the limits in Settings still apply).")
	l.dlg = m.host.newDialog("Limits of “"+t.Name+"”", container.NewVBox(form, note, l.problem), k,
		newKeyButton(k, "Cancel", nil, func() { l.dlg.Hide() }), ok)
	l.dlg.first = l.down
	l.dlg.Resize(dialogSize(m.win, 460, 0))
	l.dlg.Show()
	return l
}

// peerDialog asks for a peer's address to connect to.
type peerDialog struct {
	addr    *keyEntry
	problem *widget.Label
	dlg     *keyDialog
}

func (m *mainWindow) showAddPeer(t engine.TorrentStatus) *peerDialog {
	k := &dialogKeys{}
	p := &peerDialog{addr: newKeyEntry(k), problem: widget.NewLabel("")}
	p.problem.Importance = widget.DangerImportance
	p.addr.SetPlaceHolder("192.0.2.7:6881 or [2001:db8::7]:6881")
	add := func() {
		if err := m.be.AddPeer(t.InfoHash, strings.TrimSpace(p.addr.Text)); err != nil {
			p.problem.SetText(capitalize(err.Error()))
			return
		}
		p.dlg.Hide()
		m.status.say("Connecting to " + strings.TrimSpace(p.addr.Text))
	}
	ok := newKeyButton(k, "Add peer", nil, add)
	ok.Importance = widget.HighImportance
	k.confirm = add
	p.dlg = m.host.newDialog("Add a peer to “"+t.Name+"”", container.NewVBox(widget.NewLabel("Address of the peer:"), p.addr, p.problem), k,
		newKeyButton(k, "Cancel", nil, func() { p.dlg.Hide() }), ok)
	p.dlg.first = p.addr
	p.dlg.Resize(dialogSize(m.win, 460, 0))
	p.dlg.Show()
	return p
}

// hasMetadata tells whether torrent t's metadata is known (a magnet
// link's arrives from peers): only then can its .torrent be saved.
func hasMetadata(t engine.TorrentStatus) bool { return t.PiecesTotal > 0 }

// saveTorrentLabel is the row menu's item to save a .torrent; it says why
// it is disabled while a magnet link's metadata is on its way.
func saveTorrentLabel(t engine.TorrentStatus, one bool) string {
	if one && !hasMetadata(t) {
		return "Save .torrent… (metadata not received yet)"
	}
	return "Save .torrent…"
}

// saveTorrent asks where to save torrent t's .torrent ("NAME.torrent"
// in its data's folder at first) and saves it there.
func (m *mainWindow) saveTorrent(t engine.TorrentStatus) {
	if !hasMetadata(t) {
		m.host.message("No .torrent yet", fmt.Sprintf("The metadata of “%s” has not been received yet: its .torrent can be saved once it has.", t.Name))
		return
	}
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		// The engine answers from its own goroutine: wait for it
		// off the Fyne thread.
		go func() {
			err := m.writeTorrent(t.InfoHash, w)
			fyne.Do(func() { m.torrentSaved(t, w.URI().Path(), err) })
		}()
	}, m.win)
	d.SetFileName(torrentFileName(t.Name))
	if u, err := storage.ListerForURI(storage.NewFileURI(t.Dir)); err == nil {
		d.SetLocation(u)
	}
	d.Resize(fileDialogSize(m.win))
	d.Show()
}

// torrentFileName is the name a torrent's .torrent is offered under:
// its name with ".torrent", path separators replaced.
func torrentFileName(name string) string {
	name = strings.NewReplacer("/", "_", "\\", "_").Replace(strings.TrimSpace(name))
	if name == "" || name == "." || name == ".." {
		name = "torrent"
	}
	return name + ".torrent"
}

// writeTorrent writes the .torrent of torrent infoHash, as the engine
// gives it, to w and closes w.
func (m *mainWindow) writeTorrent(infoHash string, w io.WriteCloser) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	data, err := m.be.TorrentFile(ctx, infoHash)
	if err == nil {
		_, err = w.Write(data)
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return err
}

// torrentSaved says what saving torrent t's .torrent at path did.
func (m *mainWindow) torrentSaved(t engine.TorrentStatus, path string, err error) {
	if err != nil {
		m.showError(fmt.Errorf("saving the .torrent of “%s”: %w", t.Name, err))
		return
	}
	m.status.say("Saved " + filepath.Base(path)) // the folder is the one just chosen
}
