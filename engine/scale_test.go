package engine

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/storage"
)

// TestRestartOfSeedsWritesNothing: restarting an engine whose torrents
// all seed, with their files unchanged, rewrites neither their .torrent
// files nor their resume data (with 1,000 torrents, each restart synced
// 2,000 files and took 49 s); the restored seeds wait a random part of
// SeedLookupEvery before their first DHT lookup, while a torrent added
// by hand looks up at once.
func TestRestartOfSeedsWritesNothing(t *testing.T) {
	state, dl := t.TempDir(), t.TempDir()
	content := testContent(t, dl, "seeds", 100_000)
	data, mi := mktorrent(t, content, 15)
	cfg := withTesting(t, Config{StateDir: state, KeepList: true, DownloadDir: dl,
		Timing: Timing{ResumeSaveEvery: 50 * time.Millisecond, SeedLookupEvery: 1000 * time.Hour}})

	first, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stop := runEngine(t, first)
	ih, err := first.AddTorrent(data, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, first, ih, StateSeeding, 30*time.Second)
	// Added by hand: its first lookup is not delayed.
	deadline := time.After(10 * time.Second)
	for looked := false; !looked; {
		select {
		case s := <-first.Snapshots():
			looked = len(s.Torrents) == 1 && !s.Torrents[0].DHT.LastLookup.IsZero()
		case <-deadline:
			t.Fatal("a torrent added by hand made no DHT lookup within 10 s")
		}
	}
	stop()

	files := []string{first.torrentFilePath(mi.InfoHash), storage.ResumePath(state, mi.InfoHash)}
	before := make([]time.Time, len(files))
	for i, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		before[i] = fi.ModTime()
	}
	time.Sleep(20 * time.Millisecond) // a rewrite would show a later time

	second, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stop = runEngine(t, second)
	ts := waitState(t, second, ih, StateSeeding, 30*time.Second)
	time.Sleep(10 * cfg.Timing.ResumeSaveEvery) // time for a save, were one due
	if !ts.DHT.LastLookup.IsZero() {
		t.Errorf("a restored seed looked up at once (%v), want a random delay of up to 1000 h", ts.DHT.LastLookup)
	}
	if !ts.DHT.NextLookup.After(time.Now()) {
		t.Errorf("a restored seed's next lookup is %v, want later than now", ts.DHT.NextLookup)
	}
	stop()
	for i, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if !fi.ModTime().Equal(before[i]) {
			t.Errorf("%s was rewritten by the restart (%v, was %v)", filepath.Base(f), fi.ModTime(), before[i])
		}
	}
}

// TestFirstLookupDelay: only a complete torrent restored with others
// waits, a random part of the interval, differing between torrents.
func TestFirstLookupDelay(t *testing.T) {
	const every = time.Hour
	for _, c := range []struct{ spread, complete bool }{{false, false}, {false, true}, {true, false}} {
		if d := firstLookupDelay(c.spread, c.complete, every); d != 0 {
			t.Errorf("spread %v, complete %v: delay %v, want none", c.spread, c.complete, d)
		}
	}
	seen := map[time.Duration]bool{}
	for range 100 {
		d := firstLookupDelay(true, true, every)
		if d < 0 || d >= every {
			t.Fatalf("delay %v outside [0, %v)", d, every)
		}
		seen[d] = true
	}
	if len(seen) < 90 {
		t.Errorf("100 delays gave only %d different values: not spread", len(seen))
	}
}

// TestMagnetLinkKept: the magnet link of a snapshot is built once per
// metadata, and follows a magnet's metadata once it arrives.
func TestMagnetLinkKept(t *testing.T) {
	_, mi := mktorrent(t, testContent(t, t.TempDir(), "link", 10_000), 15)
	m := mi.Magnet()
	tr := &torrent{ih: mi.InfoHash, magnet: m}
	if got, want := tr.magnetLink(), m.String(); got != want {
		t.Fatalf("magnet only: %q, want %q", got, want)
	}
	tr.mi = mi
	if got, want := tr.magnetLink(), mi.Magnet().String(); got != want {
		t.Fatalf("with metadata: %q, want %q", got, want)
	}
	if a, b := testing.AllocsPerRun(10, func() { tr.magnetLink() }), 0.0; a != b {
		t.Errorf("magnetLink allocates %v times per call once built, want %v", a, b)
	}
	if got := (&torrent{}).magnetLink(); got != "" {
		t.Errorf("no metadata, no magnet: %q", got)
	}
}

// TestQuietSnapshot: a snapshot is quiet only with no peer, no transfer
// and every torrent seeding, paused or failed.
func TestQuietSnapshot(t *testing.T) {
	seeding := []TorrentStatus{{State: StateSeeding}, {State: StatePaused}, {State: StateError}}
	cases := []struct {
		name string
		s    Snapshot
		want bool
	}{
		{"empty", Snapshot{}, true},
		{"seeding, paused, failed", Snapshot{Torrents: seeding}, true},
		{"a peer", Snapshot{Torrents: seeding, Peers: 1}, false},
		{"uploading", Snapshot{Torrents: seeding, RateUp: 10}, false},
		{"downloading", Snapshot{Torrents: []TorrentStatus{{State: StateDownloading}}}, false},
		{"checking", Snapshot{Torrents: []TorrentStatus{{State: StateChecking}}}, false},
		{"fetching metadata", Snapshot{Torrents: []TorrentStatus{{State: StateMetadata}}}, false},
	}
	for _, c := range cases {
		if got := quietSnapshot(&c.s); got != c.want {
			t.Errorf("%s: quiet %v, want %v", c.name, got, c.want)
		}
	}
}
