package ui

import (
	"bytes"
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

// press gives the dialog on top a Return or an Escape.
func press(t *testing.T, m *mainWindow, key fyne.KeyName) {
	t.Helper()
	if !m.host.handleKey(&fyne.KeyEvent{Name: key}) {
		t.Fatalf("%s: no dialog open", key)
	}
}

// TestAddDialogChoosesFiles: a .torrent opens the add dialog, which
// shows the waiting torrent's files as a tree; two files are changed, a
// folder is chosen, Return starts it paused with those priorities (pad
// files keep their place) and remembers the folder. Escape on another
// removes it; a folder that cannot be written is refused.
func TestAddDialogChoosesFiles(t *testing.T) {
	be := newFakeBackend()
	m := newTestWindow(t, be)
	ih := strings.Repeat("a", 40)
	be.addIH = ih
	m.intake([]string{"/x/album.torrent"})
	a := m.adds[ih]
	if a == nil || m.host.top() != a.dlg {
		t.Fatal("no add dialog")
	}
	if a.info.Text != waitingText || a.add.Disabled() {
		t.Errorf("before the files are known: %q, add disabled %v", a.info.Text, a.add.Disabled())
	}
	waiting := engine.TorrentStatus{InfoHash: ih, Name: "Album", State: engine.StateWaitingFiles, Size: 700,
		Files: []engine.FileStatus{{Index: 0, Path: "Album/a.bin", Size: 100}, {Index: 2, Path: "Album/sub/d.txt", Size: 200},
			{Index: 3, Path: "Album/b.bin", Size: 400}}}
	m.applySnapshot(snapOf(waiting))
	if a.name.Text != "Album" || len(a.tree.files) != 3 || a.info.Text != "3 of 3 files chosen: 700 B of 700 B." {
		t.Fatalf("after the snapshot: name %q, %d files, %q", a.name.Text, len(a.tree.files), a.info.Text)
	}
	if got := a.tree.children["Album"]; !reflect.DeepEqual(got, []string{"Album/sub", "Album/a.bin", "Album/b.bin"}) {
		t.Errorf("tree order %q, want the folder first, then by name", got)
	}
	a.tree.setPriority("Album/a.bin", prioritySkip)
	a.tree.setPriority("Album/b.bin", priorityHigh)
	if a.info.Text != "2 of 3 files chosen: 600 B of 700 B." {
		t.Errorf("after unchecking: %q", a.info.Text)
	}
	a.tree.setPriority("Album", prioritySkip)
	if !a.add.Disabled() {
		t.Error("Add enabled with no file chosen")
	}
	a.tree.setPriority("Album/sub", priorityNormal)
	a.tree.setPriority("Album/b.bin", priorityHigh)
	dir := t.TempDir()
	a.dir.SetText("/proc/swarmdrop")
	press(t, m, fyne.KeyReturn)
	if m.host.top() != a.dlg || !strings.HasPrefix(a.info.Text, "Choose another folder") {
		t.Fatalf("unwritable folder accepted: %q", a.info.Text)
	}
	a.dir.SetText(dir)
	a.paused.SetChecked(true)
	press(t, m, fyne.KeyReturn)
	c := be.Calls()
	if last := c[len(c)-2]; last != (call{"StartChosen", ih + " " + dir, true}) {
		t.Fatalf("calls %+v", c)
	}
	if want := []engine.FilePriority{prioritySkip, priorityNormal, priorityNormal, priorityHigh}; !reflect.DeepEqual(be.chosen, want) {
		t.Errorf("priorities %v, want %v", be.chosen, want)
	}
	if s := be.Settings(); len(s.RecentDirs) == 0 || s.RecentDirs[0] != dir || s.SkipAddDialog {
		t.Errorf("settings %+v", s)
	}
	if m.adds[ih] != nil || m.host.top() != nil {
		t.Error("dialog still open")
	}

	// Escape removes the torrent it was asked about.
	ih2 := strings.Repeat("b", 40)
	be.addIH = ih2
	m.intake([]string{"/x/other.torrent"})
	press(t, m, fyne.KeyEscape)
	if c := be.Calls(); c[len(c)-1] != (call{"Remove", ih2, false}) {
		t.Fatalf("Escape: calls %+v", c)
	}

	// Added again: no dialog (the engine's TorrentDuplicate says so).
	be.addIH = ih
	waiting.State = engine.StatePaused
	m.applySnapshot(snapOf(waiting))
	m.intake([]string{"/x/album.torrent"})
	if m.adds[ih] != nil || m.host.top() != nil {
		t.Error("add dialog for a torrent already in the list")
	}
}

// TestAddDialogMagnet: a magnet link's dialog opens before its metadata
// is known, fills its tree when it arrives, and "don't ask again" adds
// the next ones without a dialog.
func TestAddDialogMagnet(t *testing.T) {
	be := newFakeBackend()
	m := newTestWindow(t, be)
	ih := "0123456789abcdef0123456789abcdef01234567"
	be.addIH = ih
	m.intake([]string{goodMagnet})
	a := m.adds[ih]
	if a == nil || a.name.Text != "test" {
		t.Fatal("no dialog named after the link's dn")
	}
	m.applySnapshot(snapOf(engine.TorrentStatus{InfoHash: ih, Name: "test", State: engine.StateMetadata}))
	if m.adds[ih] == nil || a.filled {
		t.Fatal("dialog closed or filled while fetching the metadata")
	}
	// Between the metadata and the wait, it checks: still the same dialog.
	m.applySnapshot(snapOf(engine.TorrentStatus{InfoHash: ih, Name: "test", State: engine.StateChecking, Size: 5}))
	if m.adds[ih] != a {
		t.Fatal("dialog closed while the torrent checks on its way to waiting")
	}
	m.applySnapshot(snapOf(engine.TorrentStatus{InfoHash: ih, Name: "test", State: engine.StateWaitingFiles, Size: 5,
		Files: []engine.FileStatus{{Index: 0, Path: "test", Size: 5}}}))
	if !a.filled || len(a.tree.files) != 1 {
		t.Fatal("tree not filled when the metadata arrived")
	}
	a.again.SetChecked(true)
	a.dir.SetText(t.TempDir())
	a.add.OnTapped()
	if !be.Settings().SkipAddDialog {
		t.Fatal("don't ask again not saved")
	}
	be.addIH = strings.Repeat("c", 40)
	m.intake([]string{"/x/next.torrent"})
	if len(m.adds) != 0 || m.host.top() != nil {
		t.Error("dialog shown after don't ask again")
	}
}

// TestAddDialogRealSeeder: a magnet link naming a libtorrent seeder goes
// through the add dialog on a real engine: the dialog opens at once, its
// tree fills when the metadata arrives, two of the three files are
// unchecked (the one kept shares a piece with each of them) and a folder
// of its own is chosen. Only the wanted file is then on disk, byte for
// byte the seeder's, in that folder.
func TestAddDialogRealSeeder(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "seed", "Three")
	testpeers.RandomFile(t, filepath.Join(src, "a.bin"), 100_000, 31)
	testpeers.RandomFile(t, filepath.Join(src, "b.bin"), 70_000, 32)
	testpeers.RandomFile(t, filepath.Join(src, "c.bin"), 50_000, 33)
	mi := mktorrent(t, src, 15) // 32 KiB pieces: 3 and 5 are shared by b.bin and its neighbours
	tf := filepath.Join(root, "three.torrent")
	data, err := mi.Encode()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(tf, data, 0o644)
	seeder := testpeers.StartLT(t, "seed", tf, filepath.Join(root, "seed"), "--port", "0", "--seconds", "120")
	mag := mi.Magnet()
	mag.Peers = []string{fmt.Sprintf("127.0.0.1:%d", seeder.Port(t))}

	be := startEngine(t)
	m := newTestWindow(t, be)
	ih := mi.InfoHash.String()
	m.intake([]string{mag.String()})
	a := m.adds[ih]
	if a == nil {
		t.Fatal("no add dialog for the magnet link")
	}
	start := time.Now()
	// The metadata takes 5-10 s from the local seeder when the machine is
	// idle; the bound leaves room for a loaded one.
	pump(t, m, be, 60*time.Second, func() bool { return a.filled })
	t.Logf("file list after %.1f s", time.Since(start).Seconds())
	if len(a.tree.files) != 3 {
		t.Fatalf("tree %+v", a.tree.files)
	}
	a.tree.setPriority("Three/a.bin", prioritySkip)
	a.tree.setPriority("Three/c.bin", prioritySkip)
	dir := filepath.Join(root, "chosen")
	a.dir.SetText(dir)
	press(t, m, fyne.KeyReturn)
	start = time.Now()
	pump(t, m, be, 60*time.Second, func() bool {
		tr, ok := m.torrent(ih)
		return ok && tr.State == engine.StateSeeding
	})
	t.Logf("b.bin downloaded after %.1f s", time.Since(start).Seconds())
	want, _ := os.ReadFile(filepath.Join(src, "b.bin"))
	got, err := os.ReadFile(filepath.Join(dir, "Three", "b.bin"))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("b.bin: %d bytes, %v; want the seeder's %d", len(got), err, len(want))
	}
	for _, f := range []string{"a.bin", "c.bin"} {
		if _, err := os.Stat(filepath.Join(dir, "Three", f)); !os.IsNotExist(err) {
			t.Errorf("skipped %s is on disk (%v)", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(be.Settings().DownloadDir, "Three")); !os.IsNotExist(err) {
		t.Errorf("something was written to the default folder (%v)", err)
	}
}
