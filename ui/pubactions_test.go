package ui

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/swarmdrop/swarmdrop/engine"
	"github.com/swarmdrop/swarmdrop/engine/publish"
)

// TestImportKeyAction: "Create torrent" offers "Import key…"; a file
// that is not a key is refused with an error saying what a key file is,
// and nothing is saved; a key exported by "Export key…" (publish's key
// file format) is saved in the state folder with mode 0600, a folder is
// asked for, and publishing it uses the imported key; a version 1 made
// with it says that no earlier version was found under the folder's name.
func TestImportKeyAction(t *testing.T) {
	be := newFakeBackend()
	be.stateDir = t.TempDir()
	m := newTestWindow(t, be)
	m.onCreate()
	findButton(t, m.win.Canvas().Overlays().Top(), "Import key…")
	m.host.top().Hide()

	if got := m.importKeyData("notes.txt", []byte("hello"), nil); got != "" {
		t.Fatalf("a text file imported as key %s", got)
	}
	top := m.win.Canvas().Overlays().Top()
	if top == nil || !strings.Contains(strings.Join(labelTexts(top), " "), "The file notes.txt is not a publication key") {
		t.Fatalf("no clear error for a bad key file: %q", labelTexts(top))
	}
	m.host.top().Hide()
	if left, _ := os.ReadDir(filepath.Join(be.stateDir, "publications")); len(left) != 0 {
		t.Fatalf("a refused key left %d entries in the state folder", len(left))
	}

	_, key, _ := ed25519.GenerateKey(nil)
	path := m.importKeyData("alpha.key", publish.FormatKey(key), nil)
	st, err := os.Stat(path)
	if path == "" || err != nil || st.Mode().Perm() != 0o600 || !strings.HasPrefix(path, be.stateDir) {
		t.Fatalf("imported key at %q (%v)", path, err)
	}
	if got, err := publish.LoadKey(path); err != nil || !got.Equal(key) {
		t.Fatalf("imported key reads back as another (%v)", err)
	}
	if !strings.Contains(m.status.note.Text, "Key imported") || m.win.Canvas().Overlays().Top() == nil {
		t.Fatalf("after the import: status %q, no folder dialog %v", m.status.note.Text, m.win.Canvas().Overlays().Top() == nil)
	}
	dir := filepath.Join(t.TempDir(), "alpha")
	m.publishWithKey(dir, path)
	if got := lastCall(t, be); got.Name != "Publish" || got.Arg != dir || be.published.KeyFile != path {
		t.Fatalf("publishing with the key called %+v with key %q", got, be.published.KeyFile)
	}
	id := len(be.Calls())
	m.handleEvent(engine.Published{Request: id, Publication: "k/alpha", Version: 4, Name: "alpha", Link: btpkLink})
	if m.status.note.Text != "alpha published as version 4" {
		t.Errorf("status %q after publishing with the imported key", m.status.note.Text)
	}
	// Version 1 with an imported key: most likely another salt (folder
	// name) than on the first machine; the status says so.
	m.publishWithKey(dir, path)
	id = len(be.Calls())
	m.handleEvent(engine.Published{Request: id, Publication: "k/alpha", Version: 1, Name: "alpha", Link: btpkLink})
	if !strings.Contains(m.status.note.Text, "no earlier version was found under the imported key") {
		t.Errorf("status %q after an imported key made version 1", m.status.note.Text)
	}
}

// TestUnfollowAction: a followed publication's menu has "Unfollow…",
// which asks about the files: "Keep files" stops following only (the
// torrent stays), "Delete files" removes the torrent with its files too,
// Cancel does nothing. Our own publication has no Unfollow.
func TestUnfollowAction(t *testing.T) {
	be := newFakeBackend()
	m := newTestWindow(t, be)
	s, a, _ := pubSnap(engine.PublicationStatus{ID: "k/s", Name: "alpha", Version: 1, AutoUpdate: true, Link: btpkLink})
	m.applySnapshot(s)
	m.list.selectIndex(0)

	for _, tc := range []struct {
		button string
		want   []call
	}{
		{"Cancel", nil},
		{"Keep files", []call{{"Unfollow", "k/s", false}}},
		{"Delete files", []call{{"Unfollow", "k/s", false}, {"Remove", a.InfoHash, true}}},
	} {
		n := len(be.Calls())
		menuItem(t, m.rowMenu(), "Unfollow…").Action()
		top := m.win.Canvas().Overlays().Top()
		if top == nil || !strings.Contains(strings.Join(labelTexts(top), " "), "Stop following “alpha”?") {
			t.Fatalf("%s: no question about unfollowing: %q", tc.button, labelTexts(top))
		}
		test.Tap(findButton(t, top, tc.button))
		got := be.Calls()[n:]
		if len(got) != len(tc.want) {
			t.Fatalf("%s: calls %+v, want %+v", tc.button, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Fatalf("%s: calls %+v, want %+v", tc.button, got, tc.want)
			}
		}
		if m.host.top() != nil {
			t.Fatalf("%s left the dialog open", tc.button)
		}
	}

	s.Publications[0].Publisher = true
	m.applySnapshot(s)
	if hasItem(m.rowMenu(), "Unfollow…") {
		t.Error("Unfollow offered for our own publication")
	}
}
