package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// waitEvent waits for the first event that match accepts, failing after
// timeout.
func waitEvent[E Event](t *testing.T, e *Engine, timeout time.Duration, match func(E) bool) E {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev := <-e.Events():
			if x, ok := ev.(E); ok && match(x) {
				return x
			}
		case <-deadline:
			var zero E
			t.Fatalf("no %T within %v", zero, timeout)
			return zero
		}
	}
}

// corrupt flips one byte of path at off and gives the file back its
// modification time, so that only hashing can tell.
func corrupt(t *testing.T, path string, off int64) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
}

// TestRecheck: a byte changed behind the engine's back (modification
// time kept) is trusted from the resume data on a resume, and found by
// Recheck, on a running torrent (which then downloads) and on a paused
// one (which stays paused).
func TestRecheck(t *testing.T) {
	dl := t.TempDir()
	content := testContent(t, dl, "checked", 100_000)
	data, mi := mktorrent(t, content, 15)
	n := mi.Info.NumPieces()
	e := testEngine(t, Config{StateDir: t.TempDir(), KeepList: true, DownloadDir: dl, NoDHT: true})
	ih, err := e.AddTorrent(data, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, e, ih, StateSeeding, 30*time.Second)
	e.Pause(ih) // the resume data is saved when it stops
	waitState(t, e, ih, StatePaused, 30*time.Second)
	a := filepath.Join(content, "a.bin")
	corrupt(t, a, 5)
	e.Resume(ih)
	if ts := waitState(t, e, ih, StateSeeding, 30*time.Second); ts.PiecesHave != n {
		t.Fatalf("resumed with %d of %d pieces: the resume data was not trusted", ts.PiecesHave, n)
	}

	e.Recheck(ih)
	ts := waitStatus(t, e, ih, "the re-check", 30*time.Second, func(ts TorrentStatus) bool {
		return ts.State == StateDownloading
	})
	if ts.PiecesHave != n-1 || ts.Have[0]&0x80 != 0 {
		t.Fatalf("re-check of a running torrent: %d of %d pieces, first byte %08b", ts.PiecesHave, n, ts.Have[0])
	}

	corrupt(t, a, 5) // as it was
	e.Pause(ih)
	waitState(t, e, ih, StatePaused, 30*time.Second)
	e.Recheck(ih)
	waitStatus(t, e, ih, "the re-check of the paused torrent", 30*time.Second, func(ts TorrentStatus) bool {
		return ts.State == StatePaused && ts.PiecesHave == n
	})
	// It stays paused.
	time.Sleep(300 * time.Millisecond)
	if ts := lastStatus(t, e, ih); ts.State != StatePaused || ts.PiecesHave != n {
		t.Fatalf("after the re-check: %q, %d pieces", ts.State, ts.PiecesHave)
	}
}

// TestAddPeer: a torrent with no DHT and no tracker finds a libtorrent
// seeder once told its address; a malformed address is refused at once.
func TestAddPeer(t *testing.T) {
	src := t.TempDir()
	content := testContent(t, src, "peered", 50_000)
	data, _ := mktorrent(t, content, 15)
	tf := filepath.Join(t.TempDir(), "peered.torrent")
	writeFile(t, tf, data)
	_, ltPort := testpeers.SeedLT(t, tf, src)

	e := testEngine(t, Config{NoDHT: true})
	ih, err := e.AddTorrent(data, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, e, ih, StateDownloading, 30*time.Second)
	for _, bad := range []string{"", "127.0.0.1", "localhost:80", "127.0.0.1:0", "1.2.3.4:99999", "[::1]", "::1:80"} {
		if err := e.AddPeer(ih, bad); err == nil {
			t.Errorf("AddPeer(%q) accepted", bad)
		}
	}
	if err := e.AddPeer("nothex", "127.0.0.1:1"); err == nil {
		t.Error("AddPeer to a malformed info hash accepted")
	}
	if err := e.AddPeer(ih, fmt.Sprintf("127.0.0.1:%d", ltPort)); err != nil {
		t.Fatal(err)
	}
	waitState(t, e, ih, StateSeeding, 60*time.Second)
	sameTree(t, content, filepath.Join(e.cfg.DownloadDir, "peered"))
}

// TestTorrentLimits: a torrent's own download limit holds its transfer
// from a libtorrent seeder to the rate (plus the bucket's burst) and its
// upload limit its transfer to a libtorrent leecher; both show in the
// status, and lifting them lets it finish.
func TestTorrentLimits(t *testing.T) {
	src := t.TempDir()
	content := filepath.Join(src, "limited")
	testpeers.RandomFile(t, filepath.Join(content, "big.bin"), 4<<20, 31)
	data, _ := mktorrent(t, content, 15)
	tf := filepath.Join(t.TempDir(), "limited.torrent")
	writeFile(t, tf, data)
	_, ltPort := testpeers.SeedLT(t, tf, src)

	const rate = 256 << 10
	// What can pass beyond the rate: the bucket's quarter second, and
	// one write batch (up to 128 KiB, taken before its wait) or one
	// block read before its wait, with its header.
	const slack = rate/4 + 128<<10 + 16384
	// check samples the bytes moved against the bound, from the first
	// byte (the first connection may take a retry) for until. The bound
	// runs from start, before the transfer could begin: the swarm adds
	// the bytes moved to its counters once a second, so a status
	// showing none does not mean that none moved.
	check := func(what string, e *Engine, ih string, start time.Time, until time.Duration, moved func(TorrentStatus) int64) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		begun := false
		samples := 0
		for time.Now().Before(deadline) {
			ts := lastStatus(t, e, ih)
			if testing.Verbose() {
				t.Logf("%s %v: %q down %d up %d peers %d", what, time.Since(start), ts.State, ts.Downloaded, ts.Uploaded, ts.Peers)
			}
			bound := int64(rate*time.Since(start).Seconds()) + slack
			if got := moved(ts); got > bound {
				t.Fatalf("%s: %d bytes after %v, over the limit's %d", what, got, time.Since(start), bound)
			}
			if ts.MaxDownloadRate+ts.MaxUploadRate != rate {
				t.Fatalf("%s: limits shown %d / %d", what, ts.MaxDownloadRate, ts.MaxUploadRate)
			}
			if !begun && moved(ts) > 0 {
				begun, deadline = true, time.Now().Add(until)
			}
			samples++
			time.Sleep(100 * time.Millisecond)
		}
		if !begun || samples < 5 {
			t.Fatalf("%s: nothing moved in 30 s (%d samples)", what, samples)
		}
	}

	e := testEngine(t, Config{NoDHT: true})
	ih, err := e.AddTorrent(data, AddOptions{Paused: true, Peers: []string{fmt.Sprintf("127.0.0.1:%d", ltPort)}})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, e, ih, StatePaused, 10*time.Second)
	e.SetTorrentLimits(ih, rate, 0)
	start := time.Now()
	e.Resume(ih)
	check("download", e, ih, start, 3*time.Second, func(ts TorrentStatus) int64 { return ts.Downloaded })
	if ts := lastStatus(t, e, ih); ts.Downloaded < rate || ts.State != StateDownloading {
		t.Fatalf("%q with only %d bytes: nothing was limited", ts.State, ts.Downloaded)
	}
	e.SetTorrentLimits(ih, 0, 0)
	waitState(t, e, ih, StateSeeding, 60*time.Second)

	// Upload: libtorrent downloads from us, limited.
	e.SetTorrentLimits(ih, 0, rate)
	dst := t.TempDir()
	start = time.Now()
	dl := testpeers.StartLT(t, "download", tf, dst, "--peer", fmt.Sprintf("127.0.0.1:%d", e.testPort(t)), "--port", "0", "--seconds", "60")
	check("upload", e, ih, start, 3*time.Second, func(ts TorrentStatus) int64 { return ts.Uploaded })
	if ts := lastStatus(t, e, ih); ts.Uploaded < rate {
		t.Fatalf("only %d bytes sent: nothing was limited", ts.Uploaded)
	}
	e.SetTorrentLimits(ih, 0, 0)
	dl.Wait(t, "DONE", 60*time.Second)
	sameTree(t, content, filepath.Join(dst, "limited"))
}

// TestDuplicateAddsTrackers: adding a torrent again tells it, with the
// trackers the new copy has; AddTrackers with them lets the torrent
// (no DHT, no peers) find a libtorrent seeder through opentracker.
func TestDuplicateAddsTrackers(t *testing.T) {
	src := t.TempDir()
	content := testContent(t, src, "dup", 50_000)
	bare, mi := mktorrent(t, content, 15)
	port := testpeers.StartOpentracker(t, mi.InfoHash.String())
	httpURL, _ := testpeers.TrackerURLs(port)
	tracked := withTrackers(t, mi, httpURL)
	tf := filepath.Join(t.TempDir(), "dup.torrent")
	writeFile(t, tf, tracked)
	lt, _ := testpeers.SeedLT(t, tf, src)
	lt.Wait(t, "ANNOUNCED", 30*time.Second)

	e := testEngine(t, Config{NoDHT: true, StateDir: t.TempDir(), KeepList: true})
	ih, err := e.AddTorrent(bare, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, e, ih, StateDownloading, 30*time.Second)
	if _, err := e.AddTorrent(bare, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	ev := waitEvent(t, e, 10*time.Second, func(ev TorrentDuplicate) bool { return ev.InfoHash == ih })
	if ev.NewTrackers != nil || ev.Name != "dup" {
		t.Fatalf("the same torrent again: %+v", ev)
	}
	if _, err := e.AddTorrent(tracked, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	ev = waitEvent(t, e, 10*time.Second, func(ev TorrentDuplicate) bool { return ev.InfoHash == ih })
	if len(ev.NewTrackers) != 1 || !slices.Equal(ev.NewTrackers[0], []string{httpURL}) {
		t.Fatalf("new trackers %q, want [[%s]]", ev.NewTrackers, httpURL)
	}
	if ts := lastStatus(t, e, ih); ts.Peers != 0 || ts.State != StateDownloading {
		t.Fatalf("before adding the tracker: %q with %d peers", ts.State, ts.Peers)
	}
	e.AddTrackers(ih, append(ev.NewTrackers, []string{"file:///etc/passwd", httpURL}))
	ts := waitState(t, e, ih, StateSeeding, 60*time.Second)
	if len(ts.Trackers) != 1 || ts.Trackers[0].URL != httpURL {
		t.Fatalf("trackers %+v", ts.Trackers)
	}
	// Kept in the saved metadata.
	raw, err := os.ReadFile(e.torrentFilePath(mi.InfoHash))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), httpURL) {
		t.Fatal("the saved .torrent lacks the added tracker")
	}
}

// TestAddPeerAndTrackerBounds: 300 AddPeer calls and 300 tracker URLs
// leave at most maxTorrentPeers addresses and maxTrackers
// URLs with the torrent (the saved list and .torrent say so), the newest
// peers kept.
func TestAddPeerAndTrackerBounds(t *testing.T) {
	src := t.TempDir()
	content := testContent(t, src, "bounded", 10_000)
	data, mi := mktorrent(t, content, 15)
	state := t.TempDir()
	e := testEngine(t, Config{NoDHT: true, StateDir: state, KeepList: true})
	ih, err := e.AddTorrent(data, AddOptions{Paused: true})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, e, ih, StatePaused, 10*time.Second)
	var tier []string
	for i := range 300 {
		if err := e.AddPeer(ih, fmt.Sprintf("127.0.%d.%d:6881", i/250, i%250+1)); err != nil {
			t.Fatal(err)
		}
		tier = append(tier, fmt.Sprintf("http://127.0.0.1:%d/announce", 1000+i))
	}
	e.AddTrackers(ih, [][]string{tier})
	e.Pause(ih) // a command after those: the list is saved by then
	var list []listEntry
	deadline := time.Now().Add(60 * time.Second) // each call saves the list
	for {
		raw, err := os.ReadFile(filepath.Join(state, "torrents.json"))
		if err == nil {
			list, err = parseList(raw)
		}
		if err == nil && len(list) == 1 && len(list[0].Peers) > 0 && list[0].Peers[len(list[0].Peers)-1] == "127.0.1.50:6881" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the saved list does not end with the last peer: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := len(list[0].Peers); n != maxTorrentPeers {
		t.Fatalf("%d peers kept, want %d", n, maxTorrentPeers)
	}
	waitStatus(t, e, ih, "the trackers saved", 10*time.Second, func(TorrentStatus) bool {
		raw, err := os.ReadFile(e.torrentFilePath(mi.InfoHash))
		if err != nil {
			return false
		}
		saved, err := metainfo.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, tier := range saved.Trackers() {
			n += len(tier)
		}
		return n == maxTrackers
	})
}
