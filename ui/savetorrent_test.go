package ui

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestSaveTorrentOfExisting: the row menu's "Save .torrent…" of a torrent
// in the list opens a save dialog; what it writes (the engine's
// .torrent) is confirmed in the status bar, has the torrent's info hash,
// and libtorrent reads the same info hash and files from it. A magnet
// link whose metadata has not arrived offers the item disabled, saying
// why.
func TestSaveTorrentOfExisting(t *testing.T) {
	be := startEngine(t)
	m := newTestWindow(t, be)
	src := filepath.Join(t.TempDir(), "Kept")
	testpeers.RandomFile(t, filepath.Join(src, "one.bin"), 70<<10, 21)
	testpeers.RandomFile(t, filepath.Join(src, "sub", "two.bin"), 30<<10, 22)
	mi := mktorrent(t, src, 15)
	data, err := mi.Encode()
	if err != nil {
		t.Fatal(err)
	}
	tf := filepath.Join(t.TempDir(), "kept.torrent")
	if err := os.WriteFile(tf, data, 0o644); err != nil {
		t.Fatal(err)
	}
	ih, err := be.AddTorrentFile(tf, engine.AddOptions{Paused: true})
	if err != nil {
		t.Fatal(err)
	}
	magnet := "magnet:?xt=urn:btih:" + strings.Repeat("e", 40) + "&dn=Waiting"
	if _, err := be.AddMagnet(magnet, engine.AddOptions{}); err != nil {
		t.Fatal(err)
	}
	pump(t, m, be, 10*time.Second, func() bool { return len(m.list.rows) == 2 && m.list.rows[0].view.Size != "?" })

	m.list.selectIndex(1) // the magnet link
	if it := menuItem(t, m.rowMenu(), "Save .torrent… (metadata not received yet)"); !it.Disabled {
		t.Error("Save .torrent offered for a magnet link without metadata")
	}
	m.list.selectIndex(0)
	cur, _ := m.list.currentTorrent()
	if cur.InfoHash != ih {
		t.Fatalf("current torrent %s, want %s", cur.InfoHash, ih)
	}
	it := menuItem(t, m.rowMenu(), "Save .torrent…")
	if it.Disabled {
		t.Fatal("Save .torrent not offered for a torrent with metadata")
	}
	it.Action()
	if m.win.Canvas().Overlays().Top() == nil {
		t.Fatal("Save .torrent… showed no dialog")
	}
	if got := torrentFileName(cur.Name); got != "Kept.torrent" {
		t.Errorf("offered file name %q, want Kept.torrent", got)
	}

	// What the dialog's choice leads to: written, then confirmed.
	out := filepath.Join(t.TempDir(), torrentFileName(cur.Name))
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	m.torrentSaved(cur, out, m.writeTorrent(ih, f))
	if want := "Saved " + out; m.status.note.Text != want || !m.status.note.Visible() {
		t.Errorf("status note %q, want %q", m.status.note.Text, want)
	}
	saved := parseTorrentFile(t, out)
	if saved.InfoHash != mi.InfoHash {
		t.Fatalf("saved info hash %v, want %v", saved.InfoHash, mi.InfoHash)
	}
	lines := strings.Split(strings.TrimSpace(testpeers.LT(t, "info", out)), "\n")
	for _, want := range []string{"infohash " + ih, "file 71680 Kept/one.bin", "file 30720 Kept/sub/two.bin"} {
		if !slices.Contains(lines, want) {
			t.Errorf("libtorrent's view lacks %q:\n%s", want, strings.Join(lines, "\n"))
		}
	}

	// The engine's refusal is shown, not a note.
	m.status.note.SetText("")
	gone := engine.TorrentStatus{InfoHash: strings.Repeat("f", 40), Name: "Gone"}
	f2, _ := os.Create(filepath.Join(t.TempDir(), "gone.torrent"))
	m.torrentSaved(gone, "gone.torrent", m.writeTorrent(gone.InfoHash, f2))
	if m.status.note.Text != "" {
		t.Errorf("a failed save was confirmed: %q", m.status.note.Text)
	}
}
