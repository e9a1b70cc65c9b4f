package ui

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/swarmdrop/swarmdrop/engine"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/publish"
)

// maxKeyImport bounds what "Import key…" reads of the chosen file: a key
// file is one line of 65 bytes.
const maxKeyImport = 64 << 10

// importKey asks for a key file saved by "Export key…" on another
// machine, keeps the key in the state folder (mode 0600) and asks which
// folder to publish with it: the publication goes on from there.
func (m *mainWindow) importKey() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		defer r.Close()
		data, err := io.ReadAll(io.LimitReader(r, maxKeyImport+1))
		m.importKeyData(r.URI().Name(), data, err)
	}, m.win)
	d.Resize(fileDialogSize(m.win))
	d.Show()
}

// importKeyData takes in the content of the key file name (readErr: the
// error reading it): a key is saved and the folder to publish with it
// asked for; anything else is refused with an error saying what a key
// file is. It returns the saved key's path, "" when refused.
func (m *mainWindow) importKeyData(name string, data []byte, readErr error) string {
	if readErr != nil {
		m.showError(fmt.Errorf("importing the key %s: %w", name, readErr))
		return ""
	}
	path, err := m.be.ImportKey(data)
	if errors.Is(err, publish.ErrBadKeyFile) {
		m.showError(fmt.Errorf("the file %s is not a publication key: a key is the file “Export key…” saves, one line of 64 hex digits (%w)", name, err))
		return ""
	}
	if err != nil {
		m.showError(fmt.Errorf("importing the key %s: %w", name, err))
		return ""
	}
	m.status.say("Key imported: choose the folder it publishes")
	fd := dialog.NewFolderOpen(func(u fyne.ListableURI, err error) {
		if err == nil && u != nil {
			m.publishWithKey(u.Path(), path)
		}
	}, m.win)
	fd.Resize(fileDialogSize(m.win))
	fd.Show()
	return path
}

// publishWithKey publishes path with the imported key keyFile: its next
// version (the engine asks the DHT for the current one) under the
// publication's link, when path has the name of the folder first
// published (the name is the publication's salt).
func (m *mainWindow) publishWithKey(path, keyFile string) {
	id := m.be.Publish(engine.PublishRequest{Path: path, KeyFile: keyFile,
		Nodes: metainfo.FormatNodes(m.be.DefaultNodes(m.snap))})
	m.republishes[id] = republish{name: filepath.Base(path), imported: true}
	m.status.say(fmt.Sprintf("Publishing “%s” with the imported key…", filepath.Base(path)))
}

// askUnfollow asks whether to stop following a publication, and whether
// its downloaded files stay (seeding as a plain torrent) or go.
func (m *mainWindow) askUnfollow(p engine.PublicationStatus) *keyDialog {
	msg := widget.NewLabel(fmt.Sprintf("Stop following “%s”? Its new versions will no longer be downloaded. "+
		"Keep the files downloaded so far (they stay in the list, seeding), or delete them?", p.Name))
	msg.Wrapping = fyne.TextWrapWord
	k := &dialogKeys{}
	var d *keyDialog
	keep := newKeyButton(k, "Keep files", nil, func() { d.Hide(); m.unfollow(p, false) })
	keep.Importance = widget.HighImportance
	del := newKeyButton(k, "Delete files", nil, func() { d.Hide(); m.unfollow(p, true) })
	del.Importance = widget.DangerImportance
	d = m.host.newDialog("Unfollow", msg, k, newKeyButton(k, "Cancel", nil, func() { d.Hide() }), del, keep)
	k.confirm, d.first = keep.OnTapped, keep
	d.Resize(fyne.NewSize(min(520, m.win.Canvas().Size().Width-40), 0))
	d.Show()
	return d
}

// unfollow stops following p, and with deleteFiles removes its torrent
// and downloaded files too.
func (m *mainWindow) unfollow(p engine.PublicationStatus, deleteFiles bool) {
	m.be.Unfollow(p.ID)
	if deleteFiles && p.InfoHash != "" {
		m.be.Remove(p.InfoHash, true)
		m.status.say(fmt.Sprintf("“%s” no longer followed; its files are deleted", p.Name))
		return
	}
	m.status.say(fmt.Sprintf("“%s” no longer followed; its files stay and seed", p.Name))
}
