package ui

import (
	"fmt"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/swarmdrop/swarmdrop/engine"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

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
	d.Resize(fileDialogSize(m.win))
	d.Show()
}

// fileDialogSize is the size of a file dialog: large, within the window.
func fileDialogSize(w fyne.Window) fyne.Size {
	s := w.Canvas().Size()
	return fyne.NewSize(min(800, s.Width-20), min(560, s.Height-20))
}

func (m *mainWindow) onAddMagnet() {
	newMagnetDialog(m.host, func(uri string) { m.addMagnet(uri) }).dlg.Show()
}

// addTorrentFile adds a .torrent file, through the add dialog unless
// the user said not to ask.
func (m *mainWindow) addTorrentFile(path string) error {
	return m.added(filepath.Base(path), func(opt engine.AddOptions) (string, error) {
		ih, err := m.be.AddTorrentFile(path, opt)
		if err != nil {
			err = fmt.Errorf("adding torrent: %w", err)
		}
		return ih, err
	})
}

// addMagnet adds a magnet link, through the add dialog (which fills its
// file tree once the metadata arrives) unless the user said not to ask.
func (m *mainWindow) addMagnet(uri string) error {
	uri = strings.TrimSpace(uri)
	name := uri
	if mg, err := metainfo.ParseMagnet(uri); err == nil && mg.Name != "" {
		name = mg.Name
	}
	if mm, err := metainfo.ParseMutableMagnet(uri); err == nil {
		return m.follow(uri, mm)
	}
	return m.added(name, func(opt engine.AddOptions) (string, error) {
		ih, err := m.be.AddMagnet(uri, opt)
		if err != nil {
			err = fmt.Errorf("adding magnet link: %w", err)
		}
		return ih, err
	})
}

// follow follows an updatable link (BEP 46): the engine finds its
// current version in the DHT and adds it, so there are no files to
// choose yet.
func (m *mainWindow) follow(uri string, mm *metainfo.MutableMagnet) error {
	if _, err := m.be.AddMagnet(uri, engine.AddOptions{}); err != nil { // into the engine's download folder
		err = fmt.Errorf("following the updatable link: %w", err)
		m.showError(err)
		return err
	}
	name := mm.Name
	if name == "" {
		name = "the publication"
	}
	m.status.say(fmt.Sprintf("Following “%s”: looking up its current version", name))
	return nil
}

// added runs add with the add dialog's options and opens the dialog; a
// torrent already in the list is said so instead.
func (m *mainWindow) added(name string, add func(engine.AddOptions) (string, error)) error {
	ask := !m.be.Settings().SkipAddDialog
	ih, err := add(engine.AddOptions{WaitForFiles: ask})
	if err != nil {
		m.showError(err)
		return err
	}
	if _, ok := m.torrent(ih); ok && m.adds[ih] == nil {
		// Already in the list: the engine's TorrentDuplicate says so.
		return nil
	}
	if ask && ih != "" {
		m.askFiles(ih, name)
	}
	return nil
}

// setPriority gives the files at these indexes of the current torrent
// priority p (from the details' file tree).
func (m *mainWindow) setPriority(indexes []int, p filePriority) {
	t := m.details.t
	if !m.details.shown || len(t.Files) == 0 {
		return
	}
	n := 0
	for _, f := range t.Files {
		n = max(n, f.Index+1)
	}
	files := make([]filePriority, n)
	for _, f := range t.Files {
		files[f.Index] = f.Priority
	}
	for _, i := range indexes {
		if i >= 0 && i < n {
			files[i] = p
		}
	}
	m.be.SetFilePriorities(t.InfoHash, files)
}

func (m *mainWindow) onCreate() {
	k := &dialogKeys{}
	var d *keyDialog
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
		fd.Resize(fileDialogSize(m.win))
		fd.Show()
	}
	msg := widget.NewLabel("Publish a file or a folder as a trackerless torrent.\nYou can also drop files and folders on the window.\n" +
		"Moving an updatable publication from another machine? Import its key (saved there with Export key…).")
	file := newKeyButton(k, "A file…", theme.FileIcon(), func() { pick(false) })
	folder := newKeyButton(k, "A folder…", theme.FolderIcon(), func() { pick(true) })
	key := newKeyButton(k, "Import key…", theme.LoginIcon(), func() { d.Hide(); m.importKey() })
	d = m.host.newDialog("Create torrent", msg, k, newKeyButton(k, "Cancel", nil, func() { d.Hide() }), key, file, folder)
	k.confirm, d.first = folder.OnTapped, folder
	d.Show()
}

// openCreate opens the create dialog for paths.
func (m *mainWindow) openCreate(paths []string) *createDialog {
	c, err := newCreateDialog(m.host, m.be, paths, m.be.DefaultNodes(m.snap), func(c *createDialog, id int) {
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
