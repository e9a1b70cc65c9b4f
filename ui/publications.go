package ui

import (
	"fmt"
	"io"
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"

	"github.com/swarmdrop/swarmdrop/engine"
)

// publicationOf returns the updatable publication (BEP 46) whose current
// version is the torrent infoHash, as the last snapshot tells.
func (m *mainWindow) publicationOf(infoHash string) (engine.PublicationStatus, bool) {
	for _, p := range m.snap.Publications {
		if p.InfoHash == infoHash && infoHash != "" {
			return p, true
		}
	}
	return engine.PublicationStatus{}, false
}

// publicationMenu is the row menu's part for the current torrent when it
// is a publication: for ours, a new version and the key; for one we
// follow, the update, the auto-update switch and Unfollow. Nil
// otherwise.
func (m *mainWindow) publicationMenu(t engine.TorrentStatus) []*fyne.MenuItem {
	p, ok := m.publicationOf(t.InfoHash)
	if !ok {
		return nil
	}
	if p.Publisher {
		exportItem := fyne.NewMenuItem("Export key…", func() { m.exportKey(p) })
		exportItem.Disabled = p.KeyFile == ""
		return []*fyne.MenuItem{
			fyne.NewMenuItem("Publish new version", func() { m.publishNewVersion(p) }),
			exportItem,
			fyne.NewMenuItem("Copy updatable link", func() { m.copyLink(p) }),
		}
	}
	update := fyne.NewMenuItem(updateLabel(p), func() { m.updateNow(p) })
	update.Disabled = p.Available <= p.Version
	auto := fyne.NewMenuItem("Update automatically", func() { m.setAutoUpdate(p, !p.AutoUpdate) })
	auto.Checked = p.AutoUpdate
	return []*fyne.MenuItem{update, auto, fyne.NewMenuItem("Copy updatable link", func() { m.copyLink(p) }),
		fyne.NewMenuItem("Unfollow…", func() { m.askUnfollow(p) })}
}

// updateLabel names the "Update now" action, with the version it fetches.
func updateLabel(p engine.PublicationStatus) string {
	if p.Available > p.Version {
		return fmt.Sprintf("Update now (to version %d)", p.Available)
	}
	return "Update now"
}

// publicationText is the details' line on a publication.
func publicationText(p engine.PublicationStatus) string {
	var s string
	if p.Publisher {
		s = fmt.Sprintf("Updatable, version %d — you publish it (drop files on the window to add them, or Publish new version after changing %s)", p.Version, p.Path)
	} else {
		s = fmt.Sprintf("Updatable, version %d", p.Version)
		if p.Available > p.Version {
			s += fmt.Sprintf(" — version %d available", p.Available)
		}
	}
	if p.Err != "" {
		s += " — last problem: " + p.Err
	}
	return s
}

// publishNewVersion publishes the publication's folder again: the engine
// makes the next version if anything changed.
func (m *mainWindow) publishNewVersion(p engine.PublicationStatus) {
	id := m.be.Publish(engine.PublishRequest{Path: p.Path})
	m.republishes[id] = republish{name: p.Name}
	m.status.say(fmt.Sprintf("Publishing a new version of “%s”…", p.Name))
}

func (m *mainWindow) updateNow(p engine.PublicationStatus) {
	m.be.UpdateNow(p.ID)
	m.status.say(fmt.Sprintf("Updating “%s” to version %d…", p.Name, p.Available))
}

func (m *mainWindow) setAutoUpdate(p engine.PublicationStatus, on bool) {
	m.be.SetAutoUpdate(p.ID, on)
	if on {
		m.status.say(fmt.Sprintf("“%s” updates automatically", p.Name))
	} else {
		m.status.say(fmt.Sprintf("“%s” no longer updates by itself", p.Name))
	}
}

func (m *mainWindow) copyLink(p engine.PublicationStatus) {
	m.app.Clipboard().SetContent(p.Link)
	m.status.say("Updatable link copied")
}

// exportKey asks where to save a copy of the publication's key, with
// which the publication can be moved to another machine.
func (m *mainWindow) exportKey(p engine.PublicationStatus) {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		if err := copyKey(p.KeyFile, w); err != nil {
			m.showError(fmt.Errorf("exporting the key of “%s”: %w", p.Name, err))
			return
		}
		m.status.say("Key saved as " + w.URI().Path() + ": keep it secret")
	}, m.win)
	d.SetFileName(p.Name + ".key")
	d.Resize(fileDialogSize(m.win))
	d.Show()
}

// copyKey writes the key file src to w and closes w. A local copy is
// made readable by its owner only (mode 0600) before the key is written:
// whoever reads it can publish versions in the publisher's name.
func copyKey(src string, w fyne.URIWriteCloser) error {
	defer w.Close()
	if w.URI().Scheme() == "file" {
		if err := os.Chmod(w.URI().Path(), 0o600); err != nil {
			return err
		}
	}
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.Copy(w, f); err != nil {
		return err
	}
	return w.Close()
}

// republish is a publication made outside the create dialog: its name,
// and whether it uses an imported key.
type republish struct {
	name     string
	imported bool
}

// handlePublicationEvent shows the events of publications not tied to a
// create dialog: a followed publication updated, and the outcome of
// "Publish new version". It reports whether ev was one of them.
func (m *mainWindow) handlePublicationEvent(ev engine.Event) bool {
	switch ev := ev.(type) {
	case engine.Updated:
		if ev.Name == "" {
			ev.Name = "The publication"
		}
		if ev.First {
			m.status.say(fmt.Sprintf("%s: version %d found, downloading", ev.Name, ev.Version))
		} else {
			m.status.say(fmt.Sprintf("%s updated to version %d", ev.Name, ev.Version))
			m.notify("Publication updated", fmt.Sprintf("%s updated to version %d", ev.Name, ev.Version))
		}
		return true
	case engine.Published:
		if r, ok := m.republishes[ev.Request]; ok {
			delete(m.republishes, ev.Request)
			msg := fmt.Sprintf("%s published as version %d", ev.Name, ev.Version)
			if r.imported && ev.Version == 1 {
				// No earlier version under the key and this salt (the
				// folder's name): another name on the first machine, or
				// a DHT not reached.
				msg += fmt.Sprintf(" — no earlier version was found under the imported key and the name “%s”: "+
					"if it was published from a folder of another name, rename this one so and publish again", ev.Name)
			}
			m.status.say(msg)
		}
		return true
	case engine.CreateFailed:
		r, ok := m.republishes[ev.Request]
		if ok {
			delete(m.republishes, ev.Request)
			m.showError(fmt.Errorf("publishing a new version of “%s”: %w", r.name, ev.Err))
		}
		return ok
	case engine.CreateProgress:
		_, ok := m.republishes[ev.Request]
		return ok
	}
	return false
}
