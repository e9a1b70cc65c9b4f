package ui

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"

	"github.com/swarmdrop/swarmdrop/engine"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// menuItem finds a context menu item by its label.
func menuItem(t *testing.T, menu *fyne.Menu, label string) *fyne.MenuItem {
	t.Helper()
	for _, it := range menu.Items {
		if it.Label == label {
			return it
		}
	}
	t.Fatalf("no %q in the menu", label)
	return nil
}

// TestTorrentActions: the row menu's actions reach the engine for the
// selection (re-check for all selected; limits and peers for the current
// one, with their input checked first), and the engine's answers are
// shown: a duplicate with new trackers offers them, a failed move says
// so, a move shows its progress in the row.
func TestTorrentActions(t *testing.T) {
	be := newFakeBackend()
	m := newTestWindow(t, be)
	a := engine.TorrentStatus{InfoHash: strings.Repeat("a", 40), Name: "alpha", State: engine.StateSeeding, Size: 10,
		MaxDownloadRate: 2048}
	b := engine.TorrentStatus{InfoHash: strings.Repeat("b", 40), Name: "beta", State: engine.StatePaused, Size: 10}
	m.applySnapshot(snapOf(a, b))
	m.list.selectAll()
	menu := m.rowMenu()
	if !menuItem(t, menu, "Set limits…").Disabled || !menuItem(t, menu, "Move data to…").Disabled {
		t.Error("one-torrent actions offered for two")
	}
	menuItem(t, menu, "Force re-check").Action()
	if c := be.Calls(); len(c) < 2 || c[len(c)-2].Name != "Recheck" || c[len(c)-1] != (call{"Recheck", b.InfoHash, false}) {
		t.Fatalf("re-check calls %+v", c)
	}

	m.list.selectIndex(0)
	menu = m.rowMenu()
	if menuItem(t, menu, "Move data to…").Disabled {
		t.Error("move not offered for a seeding torrent")
	}
	menuItem(t, menu, "Set limits…").Action()
	l := m.host.top()
	lim := m.showLimits(a) // the same dialog, to reach its fields
	l.Hide()
	if lim.down.Text != "2" || lim.up.Text != "0" {
		t.Errorf("limits shown %q %q, want the torrent's 2 and 0", lim.down.Text, lim.up.Text)
	}
	lim.up.SetText("-3")
	press(t, m, fyne.KeyReturn)
	if lim.problem.Text == "" || m.host.top() != lim.dlg {
		t.Fatal("a negative limit was accepted")
	}
	lim.up.SetText("50")
	press(t, m, fyne.KeyReturn)
	if c := be.Calls(); c[len(c)-1] != (call{"SetTorrentLimits", a.InfoHash + " 2048 51200", false}) {
		t.Fatalf("limits call %+v", c[len(c)-1])
	}

	p := m.showAddPeer(a)
	p.addr.SetText("not an address")
	press(t, m, fyne.KeyReturn)
	if p.problem.Text == "" || m.host.top() != p.dlg {
		t.Fatal("a bad peer address closed the dialog")
	}
	p.addr.SetText("127.0.0.1:6881")
	press(t, m, fyne.KeyReturn)
	if c := be.Calls(); c[len(c)-1] != (call{"AddPeer", a.InfoHash + " 127.0.0.1:6881", false}) || m.host.top() != nil {
		t.Fatalf("add peer call %+v", c[len(c)-1])
	}

	m.handleEvent(engine.TorrentDuplicate{InfoHash: a.InfoHash, Name: "alpha", NewTrackers: [][]string{{"http://127.0.0.1:1/announce"}}})
	press(t, m, fyne.KeyReturn)
	if c := be.Calls(); c[len(c)-1] != (call{"AddTrackers", a.InfoHash + " [[http://127.0.0.1:1/announce]]", false}) {
		t.Fatalf("trackers call %+v", c[len(c)-1])
	}
	m.handleEvent(engine.TorrentDuplicate{InfoHash: a.InfoHash, Name: "alpha"})
	if m.host.top() == nil {
		t.Fatal("a duplicate without new trackers was not reported")
	}
	press(t, m, fyne.KeyEscape)

	m.handleEvent(engine.MoveFailed{InfoHash: a.InfoHash, Name: "alpha", Err: errors.New("disk full")})
	if m.host.top() == nil {
		t.Fatal("a failed move was not reported")
	}
	press(t, m, fyne.KeyReturn)
	a.State, a.Moving = engine.StateMoving, 0.42
	m.applySnapshot(snapOf(a, b))
	if got := m.list.rows[0].view.State; got != "moving (42%)" {
		t.Errorf("moving row state %q", got)
	}
	if menuItem(t, m.rowMenu(), "Move data to…").Disabled == false {
		t.Error("move offered while moving")
	}
}

// TestMoveKeepsSeeding: a seeding torrent's data moved from the window
// (a real engine) lands in the new folder, leaves the old one, the window
// says so, and the torrent goes on seeding from there: libtorrent then
// downloads it from us, byte for byte.
func TestMoveKeepsSeeding(t *testing.T) {
	be := startEngine(t)
	be.settings.SkipAddDialog = true
	m := newTestWindow(t, be)
	old := be.Settings().DownloadDir
	src := filepath.Join(old, "Moved")
	testpeers.RandomFile(t, filepath.Join(src, "a.bin"), 300_000, 51)
	testpeers.RandomFile(t, filepath.Join(src, "sub", "b.bin"), 120_000, 52)
	want := map[string][]byte{}
	for _, f := range []string{"a.bin", filepath.Join("sub", "b.bin")} {
		want[f], _ = os.ReadFile(filepath.Join(src, f))
	}
	mi := mktorrent(t, src, 15)
	tf := filepath.Join(t.TempDir(), "moved.torrent")
	data, err := mi.Encode()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(tf, data, 0o644)
	ih := mi.InfoHash.String()
	m.intake([]string{tf})
	seeding := func() (engine.TorrentStatus, bool) {
		tr, ok := m.torrent(ih)
		return tr, ok && tr.State == engine.StateSeeding
	}
	pump(t, m, be, 30*time.Second, func() bool { _, ok := seeding(); return ok })

	dir := filepath.Join(t.TempDir(), "new place")
	tr, _ := seeding()
	m.startMove(tr, dir)
	pump(t, m, be, 30*time.Second, func() bool {
		tr, ok := seeding()
		return ok && tr.Dir == dir && strings.Contains(m.status.note.Text, "moved to")
	})
	for f, b := range want {
		got, err := os.ReadFile(filepath.Join(dir, "Moved", f))
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("%s after the move: %d bytes, %v", f, len(got), err)
		}
	}
	if _, err := os.Stat(src); !os.IsNotExist(err) {
		t.Errorf("the old copy is still there (%v)", err)
	}

	dst := t.TempDir()
	dl := testpeers.StartLT(t, "download", tf, dst, "--flush", "--port", "0",
		"--peer", fmt.Sprintf("127.0.0.1:%d", m.snap.ListenPort), "--seconds", "60")
	dl.Wait(t, "DONE", 70*time.Second)
	for f, b := range want {
		if got, _ := os.ReadFile(filepath.Join(dst, "Moved", f)); !bytes.Equal(got, b) {
			t.Errorf("libtorrent's %s differs (%d bytes)", f, len(got))
		}
	}
}

// TestPriorityWhileRunning: a priority set in the details' file tree
// (its menu) sends the whole list, by file index, with the others as
// they were and pad files in their place.
func TestPriorityWhileRunning(t *testing.T) {
	be := newFakeBackend()
	m := newTestWindow(t, be)
	ih := strings.Repeat("d", 40)
	m.applySnapshot(snapOf(engine.TorrentStatus{InfoHash: ih, Name: "d", State: engine.StateDownloading, Size: 30,
		Files: []engine.FileStatus{{Index: 0, Path: "d/x", Size: 10, Priority: priorityHigh},
			{Index: 2, Path: "d/y", Size: 10}, {Index: 3, Path: "d/z", Size: 10, Priority: prioritySkip}}}))
	m.list.selectIndex(0)
	if got := m.details.files.priorityText("d"); got != "Mixed" {
		t.Errorf("folder priority %q", got)
	}
	m.details.files.onPriority(m.details.files.indexesUnder("d/y"), prioritySkip)
	want := []engine.FilePriority{priorityHigh, priorityNormal, prioritySkip, prioritySkip}
	if c := be.Calls(); c[len(c)-1] != (call{"SetFilePriorities", ih, false}) || !reflect.DeepEqual(be.chosen, want) {
		t.Fatalf("calls %+v, files %v, want %v", c[len(c)-1], be.chosen, want)
	}
}
