package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestRealEngineAddSelectPause adds a real .torrent file through the
// window's intake and follows it through a real engine's snapshots.
func TestRealEngineAddSelectPause(t *testing.T) {
	be := startEngine(t)
	m := newTestWindow(t, be)
	src := filepath.Join(t.TempDir(), "payload")
	testpeers.RandomFile(t, filepath.Join(src, "one.bin"), 100<<10, 1)
	testpeers.RandomFile(t, filepath.Join(src, "sub", "two.bin"), 50<<10, 2)
	mi := mktorrent(t, src, 15)
	tf := filepath.Join(t.TempDir(), "payload.torrent")
	data, err := mi.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tf, data, 0o644); err != nil {
		t.Fatal(err)
	}
	m.intake([]string{tf})
	ih := mi.InfoHash.String()
	pump(t, m, be, 10*time.Second, func() bool { return len(m.list.rows) == 1 && m.list.rows[0].view.Size != "?" })
	r := m.list.rows[0].view
	if r.InfoHash != ih || r.Name != "payload" || r.Size != "150.0 KiB" {
		t.Fatalf("row %+v, want payload of 150 KiB with hash %s", r, ih)
	}
	m.list.selectIndex(0)
	if len(m.details.t.Files) != 2 || len(m.details.files.files) != 2 || m.details.files.files[1].Path != "payload/sub/two.bin" {
		t.Errorf("files %+v", m.details.t.Files)
	}
	if m.details.t.PiecesTotal != 5 {
		t.Errorf("pieces %d, want 5 of 32 KiB", m.details.t.PiecesTotal)
	}
	m.onPause()
	pump(t, m, be, 10*time.Second, func() bool { return m.list.rows[0].view.State == string(engine.StatePaused) })
	if !m.pause.Disabled() || m.resume.Disabled() {
		t.Error("a paused torrent should offer Resume only")
	}
	// A broken file is reported for the user action, not silently dropped.
	bad := filepath.Join(t.TempDir(), "bad.torrent")
	os.WriteFile(bad, []byte("not bencode"), 0o644)
	m.intake([]string{bad})
	if m.win.Canvas().Overlays().Top() == nil {
		t.Error("adding a broken torrent showed no error")
	}
	m.list.selectIndex(0)
	m.be.Remove(ih, false)
	pump(t, m, be, 10*time.Second, func() bool { return len(m.list.rows) == 0 })
	if m.list.current != "" {
		t.Errorf("removed torrent still selected")
	}
}

// TestCreateDialogMatchesLibtorrent drives the create dialog on a real
// folder with a real engine and compares the info hash with the one
// libtorrent makes of the same folder with pad files (BEP 47), the layout
// we create by default.
func TestCreateDialogMatchesLibtorrent(t *testing.T) {
	be := startEngine(t)
	m := newTestWindow(t, be)
	dir := filepath.Join(t.TempDir(), "album")
	testpeers.RandomFile(t, filepath.Join(dir, "a.bin"), 200<<10+17, 3)
	testpeers.RandomFile(t, filepath.Join(dir, "b", "c.bin"), 70<<10, 4)
	testpeers.RandomFile(t, filepath.Join(dir, "d.txt"), 5, 5)

	c := m.openCreate([]string{dir})
	if c == nil {
		t.Fatal("create dialog did not open")
	}
	if c.name.Text != "album" || !strings.Contains(c.info.Text, "in 3 files") {
		t.Errorf("name %q, info %q", c.name.Text, c.info.Text)
	}
	if c.nodes.Text != "127.0.0.1:6881" || !strings.Contains(c.nodesNote.Text, "127.0.0.1:6881: loopback or private") {
		t.Errorf("nodes %q, note %q", c.nodes.Text, c.nodesNote.Text)
	}
	c.nodes.SetText("127.0.0.1:6881, router.example.org:70000")
	if !strings.Contains(c.nodesNote.Text, "outside 1-65535") {
		t.Errorf("bad nodes note %q", c.nodesNote.Text)
	}
	c.onCreate()
	if c.id != 0 || c.problem.Text == "" {
		t.Fatal("created with invalid nodes")
	}
	c.nodes.SetText("router.example.org:6881, 10.1.2.3:6881")
	if !strings.Contains(c.nodesNote.Text, "10.1.2.3:6881") || strings.Contains(c.nodesNote.Text, "router.example.org") {
		t.Errorf("warning %q should name the private contact only", c.nodesNote.Text)
	}
	c.piece.SetSelected(formatSize(32 << 10))
	if c.pieceLength() != 32<<10 {
		t.Fatalf("piece length %d", c.pieceLength())
	}
	c.onCreate()
	if c.id == 0 || !c.create.Disabled() {
		t.Fatal("creation did not start")
	}
	pump(t, m, be, 30*time.Second, func() bool { return c.created.InfoHash != "" || c.problem.Text != "" })
	if c.problem.Text != "" {
		t.Fatalf("creation failed: %s", c.problem.Text)
	}
	want := strings.TrimSpace(testpeers.LT(t, "create", dir, filepath.Join(t.TempDir(), "lt.torrent"), "--pad", "--piece-length", "32768"))
	if c.created.InfoHash != want {
		t.Fatalf("info hash %s, libtorrent's %s", c.created.InfoHash, want)
	}
	mi, err := metainfo.Parse(c.created.Torrent)
	if err != nil {
		t.Fatal(err)
	}
	if got := metainfo.FormatNodes(mi.Nodes); got != "router.example.org:6881, 10.1.2.3:6881" {
		t.Errorf("nodes in the torrent %q", got)
	}
	if !strings.Contains(c.magnet.Text, c.created.InfoHash) || c.result.Hidden || c.progress.Value != 1 {
		t.Errorf("result: magnet %q, result hidden %v, progress %v", c.magnet.Text, c.result.Hidden, c.progress.Value)
	}
	// It seeds in place: the engine lists it, complete.
	pump(t, m, be, 20*time.Second, func() bool {
		return len(m.list.rows) == 1 && m.list.rows[0].view.State == string(engine.StateSeeding)
	})
	if m.list.rows[0].view.InfoHash != c.created.InfoHash {
		t.Errorf("seeding %s", m.list.rows[0].view.InfoHash)
	}
}

// TestCreateCancel stops a creation at once.
func TestCreateCancel(t *testing.T) {
	be := startEngine(t)
	m := newTestWindow(t, be)
	dir := filepath.Join(t.TempDir(), "big")
	testpeers.RandomFile(t, filepath.Join(dir, "big.bin"), 256<<20, 6)
	c := m.openCreate([]string{dir})
	c.piece.SetSelected(formatSize(16 << 10))
	c.onCreate()
	c.onCancel()
	start := time.Now()
	pump(t, m, be, 20*time.Second, func() bool { return c.problem.Text != "" || c.created.InfoHash != "" })
	if !strings.Contains(c.problem.Text, "cancelled") {
		t.Fatalf("after cancel: problem %q, created %q", c.problem.Text, c.created.InfoHash)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancel took %v", d)
	}
	if c.create.Disabled() || c.id != 0 {
		t.Error("the form is not editable again after cancelling")
	}
}
