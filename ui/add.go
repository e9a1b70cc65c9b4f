package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/swarmdrop/swarmdrop/engine"
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
	msg := widget.NewLabel("Publish a file or a folder as a trackerless torrent.\nYou can also drop files and folders on the window.")
	file := newKeyButton(k, "A file…", theme.FileIcon(), func() { pick(false) })
	folder := newKeyButton(k, "A folder…", theme.FolderIcon(), func() { pick(true) })
	d = m.host.newDialog("Create torrent", msg, k, newKeyButton(k, "Cancel", nil, func() { d.Hide() }), file, folder)
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
