package ui

import (
	"fmt"
	"os"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"github.com/swarmdrop/swarmdrop/engine"
	"github.com/swarmdrop/swarmdrop/engine/publish"
)

// dropTarget returns the publication that dropped files can be added to:
// ours, alone selected in the list, when its published path is a folder.
func (m *mainWindow) dropTarget() (engine.PublicationStatus, bool) {
	cur, ok := m.selectedTorrent()
	if !ok || len(m.list.selected()) != 1 {
		return engine.PublicationStatus{}, false
	}
	p, ok := m.publicationOf(cur.InfoHash)
	if !ok || !p.Publisher || p.Path == "" {
		return engine.PublicationStatus{}, false
	}
	if st, err := os.Stat(p.Path); err != nil || !st.IsDir() {
		return engine.PublicationStatus{}, false
	}
	return p, true
}

// offerPublicationDrop asks, when files are dropped while one of our
// publications is selected, whether they are added to it (as its next
// version) or make a new torrent; it reports whether it asked.
func (m *mainWindow) offerPublicationDrop(paths []string, newTorrent func()) bool {
	p, ok := m.dropTarget()
	if !ok {
		return false
	}
	m.askAddToPublication(p, paths, newTorrent)
	return true
}

// askAddToPublication asks whether the dropped paths go into the folder
// of publication p, published as its next version, or make a new torrent
// (newTorrent).
func (m *mainWindow) askAddToPublication(p engine.PublicationStatus, paths []string, newTorrent func()) *keyDialog {
	what := plural(len(paths), "item")
	msg := widget.NewLabel(fmt.Sprintf("Add the %s you dropped to “%s” (%s) and publish version %d? "+
		"Everyone following it gets them. Or make a new torrent of them.", what, p.Name, p.Path, p.Version+1))
	msg.Wrapping = fyne.TextWrapWord
	k := &dialogKeys{}
	var d *keyDialog
	add := newKeyButton(k, "Add to “"+p.Name+"”", nil, func() { d.Hide(); m.addToPublication(p, paths) })
	add.Importance = widget.HighImportance
	d = m.host.newDialog("Add to the publication?", msg, k, newKeyButton(k, "Cancel", nil, func() { d.Hide() }),
		newKeyButton(k, "New torrent", nil, func() { d.Hide(); newTorrent() }), add)
	k.confirm, d.first = add.OnTapped, add
	d.Resize(fyne.NewSize(min(560, m.win.Canvas().Size().Width-40), 0))
	d.Show()
	return d
}

// addToPublication copies paths into p's folder, asking first when
// names there would be replaced (folders of the same name are merged),
// and publishes the next version. Unless it asks, it returns the channel
// of copyAndPublish.
func (m *mainWindow) addToPublication(p engine.PublicationStatus, paths []string) <-chan struct{} {
	ex := publish.Existing(p.Path, paths)
	if len(ex) == 0 {
		return m.copyAndPublish(p, paths, false)
	}
	names := ex
	if len(names) > 5 {
		names = append(names[:5:5], fmt.Sprintf("and %d more", len(ex)-5))
	}
	m.host.confirm("Replace?", fmt.Sprintf("“%s” already holds %s. Replace them? (A folder is merged with the one of the same name; its files of the same names are replaced.)",
		p.Name, strings.Join(names, ", ")), "Replace", func() { m.copyAndPublish(p, paths, true) })
	return nil
}

// copyAndPublish copies paths into p's folder in the background, then
// publishes the next version (or shows why not). The channel is closed
// once that is done.
func (m *mainWindow) copyAndPublish(p engine.PublicationStatus, paths []string, replace bool) <-chan struct{} {
	m.status.say(fmt.Sprintf("Adding %s to “%s”…", plural(len(paths), "item"), p.Name))
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := publish.CopyInto(p.Path, paths, replace)
		fyne.Do(func() {
			if err != nil {
				m.showError(fmt.Errorf("adding to “%s”: %w (nothing was published)", p.Name, err))
				return
			}
			m.publishNewVersion(p)
		})
	}()
	return done
}
