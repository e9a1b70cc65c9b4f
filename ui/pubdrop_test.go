package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/swarmdrop/swarmdrop/engine"
)

// TestDropOnPublication: files dropped while a plain torrent is selected
// open the create dialog as ever; while our publication is selected, a
// dialog offers to add them to it or make a new torrent. "New torrent"
// opens the create dialog; "Add" with a name the folder already holds
// asks before replacing (Cancel copies nothing); adding copies the files
// into the publication's folder and publishes its next version (Publish
// of its path); a copy that cannot be made shows why and publishes
// nothing.
func TestDropOnPublication(t *testing.T) {
	be := newFakeBackend()
	m := newTestWindow(t, be)
	pubDir := filepath.Join(t.TempDir(), "alpha")
	writeTestFile(t, filepath.Join(pubDir, "a.txt"), "old")
	src := t.TempDir()
	newFile, clash := filepath.Join(src, "new.txt"), filepath.Join(src, "a.txt")
	writeTestFile(t, newFile, "new")
	writeTestFile(t, clash, "replacement")
	s, _, _ := pubSnap(engine.PublicationStatus{ID: "k/s", Name: "alpha", Publisher: true, Path: pubDir, Version: 2, Link: btpkLink})
	m.applySnapshot(s)

	m.list.selectIndex(1) // a plain torrent
	m.handleDrop([]string{newFile})
	if m.lastCreate == nil || m.host.top() != m.lastCreate.dlg {
		t.Fatal("a drop on a plain torrent did not open the create dialog")
	}
	m.lastCreate.dlg.Hide()
	m.lastCreate = nil

	m.list.selectIndex(0)
	m.handleDrop([]string{newFile})
	top := m.win.Canvas().Overlays().Top()
	if top == nil || !strings.Contains(strings.Join(labelTexts(top), " "), "publish version 3") {
		t.Fatalf("no offer to add to the publication: %q", labelTexts(top))
	}
	test.Tap(findButton(t, top, "New torrent"))
	if m.lastCreate == nil || m.lastCreate.paths[0] != newFile {
		t.Fatal("New torrent did not open the create dialog")
	}
	m.lastCreate.dlg.Hide()

	m.handleDrop([]string{clash})
	test.Tap(findButton(t, m.win.Canvas().Overlays().Top(), "Add to “alpha”"))
	top = m.win.Canvas().Overlays().Top()
	if top == nil || !strings.Contains(strings.Join(labelTexts(top), " "), "already holds a.txt") {
		t.Fatalf("no question before replacing a.txt: %q", labelTexts(top))
	}
	test.Tap(findButton(t, top, "Cancel"))
	if b, _ := os.ReadFile(filepath.Join(pubDir, "a.txt")); string(b) != "old" {
		t.Fatalf("a.txt %q after Cancel", b)
	}
	for _, c := range be.Calls() {
		if c.Name == "Publish" {
			t.Fatal("published before anything was added")
		}
	}

	p := s.Publications[0]
	done := m.addToPublication(p, []string{newFile})
	if done == nil {
		t.Fatal("adding a new name asked a question")
	}
	<-done
	if b, err := os.ReadFile(filepath.Join(pubDir, "new.txt")); err != nil || string(b) != "new" {
		t.Fatalf("new.txt in the publication: %q %v", b, err)
	}
	if got := lastCall(t, be); got.Name != "Publish" || got.Arg != pubDir {
		t.Fatalf("after adding: %+v, want Publish of %s", got, pubDir)
	}
	if !strings.Contains(m.status.note.Text, "Publishing a new version of “alpha”") {
		t.Errorf("status %q", m.status.note.Text)
	}

	n := len(be.Calls())
	<-m.copyAndPublish(p, []string{pubDir}, true) // the folder into itself
	if len(be.Calls()) != n || m.host.top() == nil {
		t.Fatalf("a failed copy: calls %+v, error shown %v", be.Calls()[n:], m.host.top() != nil)
	}
}

func writeTestFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
