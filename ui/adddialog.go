package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/swarmdrop/swarmdrop/engine"
)

// addDialog asks how to add one torrent the engine holds in
// StateWaitingFiles: which files (a tree with check boxes and
// priorities), into which folder, started or paused, and whether to ask
// again. A magnet link's dialog opens at once and fills its tree when the
// metadata arrives; Add before that wants every file. Cancel removes the
// torrent, which has written nothing. Used on the Fyne thread only.
type addDialog struct {
	ih     string
	name   *widget.Label
	info   *widget.Label
	tree   *fileTree
	dir    *keySelectEntry
	paused *keyCheck
	again  *keyCheck
	add    *keyButton
	dlg    *keyDialog
	filled bool // the tree holds the torrent's files
	gone   int  // snapshots in a row without the torrent

	// onAdd starts the torrent with the choice; onCancel removes it.
	onAdd    func(dir string, files []filePriority, paused, dontAsk bool)
	onCancel func()
}

// waitingText is what the dialog says while a magnet link's file list is
// not known yet.
const waitingText = "Fetching the list of files from peers… Add now to download every file."

func newAddDialog(h *dialogHost, ih, name, dir string, recent []string) *addDialog {
	k := &dialogKeys{}
	a := &addDialog{ih: ih, name: widget.NewLabelWithStyle(name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		info: widget.NewLabel(waitingText), tree: newFileTree(true, k),
		onAdd: func(string, []filePriority, bool, bool) {}, onCancel: func() {}}
	a.name.Truncation = fyne.TextTruncateEllipsis
	a.info.Wrapping = fyne.TextWrapWord
	a.tree.onChange = a.showChosen
	options := []string{dir}
	for _, d := range recent {
		if d != "" && d != dir {
			options = append(options, d)
		}
	}
	a.dir = newKeySelectEntry(k, options)
	a.dir.SetText(dir)
	browse := newKeyButton(k, "Choose…", theme.FolderOpenIcon(), func() {
		fd := dialog.NewFolderOpen(func(u fyne.ListableURI, err error) {
			if err == nil && u != nil {
				a.dir.SetText(u.Path())
			}
		}, h.win)
		fd.Resize(fileDialogSize(h.win))
		fd.Show()
	})
	a.paused = newKeyCheck(k, "Start paused", nil)
	a.again = newKeyCheck(k, "Don't ask again (Settings brings this dialog back)", nil)
	a.add = newKeyButton(k, "Add", theme.ConfirmIcon(), a.onAddTapped)
	a.add.Importance = widget.HighImportance
	cancel := newKeyButton(k, "Cancel", nil, func() { a.dlg.Hide(); a.onCancel() })
	k.confirm, k.cancel = a.onAddTapped, cancel.OnTapped

	top := container.NewVBox(a.name, a.info)
	bottom := container.NewVBox(
		container.NewBorder(nil, nil, widget.NewLabel("Save in"), browse, a.dir),
		a.paused, a.again)
	content := container.NewBorder(top, bottom, nil, nil, a.tree.root)
	a.dlg = h.newDialog("Add torrent", content, k, cancel, a.add)
	a.dlg.first = a.add
	a.dlg.Resize(dialogSize(h.win, 720, 560))
	return a
}

// apply shows the torrent's latest status: its files once known.
func (a *addDialog) apply(t engine.TorrentStatus) {
	if t.Name != "" && a.name.Text != t.Name {
		a.name.SetText(t.Name)
	}
	if a.filled || len(t.Files) == 0 {
		return
	}
	a.filled = true
	a.tree.set(fileEntries(t.Files))
	a.showChosen()
}

// showChosen says how much of the torrent is chosen.
func (a *addDialog) showChosen() {
	if !a.filled {
		return
	}
	var total int64
	for _, f := range a.tree.files {
		total += f.Size
	}
	n, size := a.tree.chosen()
	a.info.SetText(fmt.Sprintf("%s of %s chosen: %s of %s.", formatCount(n), plural(len(a.tree.files), "file"),
		formatSize(size), formatSize(total)))
	if n == 0 {
		a.add.Disable()
	} else {
		a.add.Enable()
	}
}

// priorities is the choice of files, nil while they are not known (every
// file is then wanted).
func (a *addDialog) priorities() []filePriority {
	if !a.filled {
		return nil
	}
	return a.tree.priorities()
}

func (a *addDialog) onAddTapped() {
	if a.add.Disabled() {
		return
	}
	dir := strings.TrimSpace(a.dir.Text)
	if err := writableDir(dir); err != nil {
		a.info.SetText("Choose another folder: " + err.Error() + ".")
		return
	}
	a.dlg.Hide()
	a.onAdd(dir, a.priorities(), a.paused.Checked, a.again.Checked)
}

// askFiles opens the add dialog of torrent ih, which the engine holds
// until the choice is made (AddOptions.WaitForFiles); name is what to
// call it until its own name is known.
func (m *mainWindow) askFiles(ih, name string) {
	if a := m.adds[ih]; a != nil {
		a.dlg.Show()
		return
	}
	s := m.be.Settings()
	dir := s.DownloadDir
	t, known := m.torrent(ih)
	if known && t.Dir != "" {
		dir = t.Dir
	}
	a := newAddDialog(m.host, ih, name, dir, s.RecentDirs)
	a.onAdd = func(dir string, files []filePriority, paused, dontAsk bool) {
		delete(m.adds, ih)
		m.be.StartChosen(ih, dir, files, paused)
		s := m.be.Settings()
		s.AddRecentDir(dir)
		s.SkipAddDialog = dontAsk
		if err := m.be.SetSettings(s); err != nil {
			m.showError(fmt.Errorf("saving the settings: %w", err))
		}
	}
	a.onCancel = func() {
		delete(m.adds, ih)
		m.be.Remove(ih, false)
	}
	m.adds[ih] = a
	if known {
		a.apply(t)
	}
	a.dlg.Show()
}

// applyAdds shows the open add dialogs their torrents' news, and closes
// those whose torrent went or no longer waits.
func (m *mainWindow) applyAdds() {
	for ih, a := range m.adds {
		t, ok := m.torrent(ih)
		switch {
		case ok && !started(t.State):
			// Waiting, or on its way there: a magnet link goes from
			// fetching its metadata through checking to waiting.
			a.apply(t)
			a.gone = 0
		case ok:
			// Started elsewhere (a second add of the same link).
			delete(m.adds, ih)
			a.dlg.Hide()
		default:
			// Added a moment ago, the torrent may not be in this
			// snapshot yet; gone for a few snapshots, it was removed.
			if a.gone++; a.gone > 3 {
				delete(m.adds, ih)
				a.dlg.Hide()
			}
		}
	}
}

// started tells whether a torrent in state s no longer waits for its
// choice of files.
func started(s engine.TorrentState) bool {
	switch s {
	case engine.StateDownloading, engine.StateSeeding, engine.StatePaused, engine.StateError, engine.StateMoving:
		return true
	}
	return false
}

// torrent returns the latest status of torrent ih.
func (m *mainWindow) torrent(ih string) (engine.TorrentStatus, bool) {
	for _, t := range m.snap.Torrents {
		if t.InfoHash == ih {
			return t, true
		}
	}
	return engine.TorrentStatus{}, false
}
