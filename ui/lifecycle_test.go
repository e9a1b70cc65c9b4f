package ui

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/swarmdrop/swarmdrop/engine"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestNotListeningShown: a snapshot saying the engine cannot listen shows
// in the status bar and, once, in a dialog whose button opens the port
// setting; the dialog goes when the engine listens again.
func TestNotListeningShown(t *testing.T) {
	be := newFakeBackend()
	be.settings.Port = testpeers.FreePort(t, "127.0.0.1") // as if it had been taken at start
	m := newTestWindow(t, be)
	s := snapOf()
	s.ListenPort, s.ListenErr = 0, errors.New("listening on TCP port 6881: listen tcp :6881: bind: address already in use")
	m.applySnapshot(s)
	if got := m.status.port.Text; !strings.HasPrefix(got, "Not listening: ") || !strings.Contains(got, "already in use") {
		t.Errorf("status bar %q", got)
	}
	top := m.win.Canvas().Overlays().Top()
	if top == nil || m.notListening == nil {
		t.Fatal("no dialog about the port")
	}
	m.applySnapshot(s)
	if len(m.win.Canvas().Overlays().List()) != 1 {
		t.Fatalf("%d overlays after a second snapshot: the dialog is shown once", len(m.win.Canvas().Overlays().List()))
	}
	test.Tap(findButton(t, top, "Choose another port"))
	if m.settings == nil || m.settings.tabs.selected != 1 {
		t.Fatal("the button did not open the port setting")
	}
	if !strings.Contains(m.settings.portNote.Text, "tries it as soon as you save") {
		t.Errorf("port note %q", m.settings.portNote.Text)
	}
	m.settings.dlg.Hide()
	m.applySnapshot(snapOf())
	if m.status.port.Text != "Port 51413" {
		t.Errorf("status bar after listening %q", m.status.port.Text)
	}
}

// TestStartAnyway: a torrent refused for lack of space offers "Start
// anyway", which resumes it without the check; other errors do not.
func TestStartAnyway(t *testing.T) {
	be := newFakeBackend()
	m := newTestWindow(t, be)
	ih := strings.Repeat("c", 40)
	full := engine.TorrentStatus{InfoHash: ih, Name: "big", State: engine.StateError,
		Err: fmt.Errorf("%w in /mnt: the download needs 3 GiB more, 1 GiB is free", engine.ErrNotEnoughSpace)}
	m.applySnapshot(snapOf(full))
	m.list.selectIndex(0)
	if m.details.startAnyway.Hidden {
		t.Fatal("no Start anyway for a torrent refused for lack of space")
	}
	test.Tap(m.details.startAnyway)
	if c := be.Calls(); len(c) == 0 || c[len(c)-1] != (call{"ResumeIgnoringSpace", ih, false}) {
		t.Fatalf("calls %+v", c)
	}
	full.Err = errors.New("permission denied")
	m.applySnapshot(snapOf(full))
	if !m.details.startAnyway.Hidden {
		t.Error("Start anyway offered for another error")
	}
}
