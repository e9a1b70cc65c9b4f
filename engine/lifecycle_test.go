package engine

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/maker"
	"github.com/swarmdrop/swarmdrop/engine/storage"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// openUnder lists the files this process holds open under dir (from
// /proc/self/fd).
func openUnder(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		testpeers.CannotRun(t, "reading /proc/self/fd: %v", err)
	}
	var out []string
	for _, e := range ents {
		p, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err != nil {
			continue
		}
		if p == dir || strings.HasPrefix(p, dir+string(filepath.Separator)) {
			out = append(out, p)
		}
	}
	return out
}

// waitClosed waits up to 5 s for every file under dir to be closed.
func waitClosed(t *testing.T, dir, when string) {
	t.Helper()
	var open []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if open = openUnder(t, dir); len(open) == 0 {
			return
		}
	}
	t.Fatalf("%s: still open under the download folder: %q", when, open)
}

// waitGone waits for a torrent to leave the snapshots.
func waitGone(t *testing.T, e *Engine, ih string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		s := <-e.Snapshots()
		if _, ok := findStatus(s, ih); !ok {
			return
		}
	}
	t.Fatalf("torrent %s still listed 10 s after its removal", ih[:8])
}

func findStatus(s Snapshot, ih string) (TorrentStatus, bool) {
	for _, ts := range s.Torrents {
		if ts.InfoHash == ih {
			return ts, true
		}
	}
	return TorrentStatus{}, false
}

// TestMagnetStorageClosed: a magnet download's files are closed when it
// is paused and when it is removed, and nothing it owned writes its
// resume data or .torrent copy back after the removal.
func TestMagnetStorageClosed(t *testing.T) {
	src := t.TempDir()
	content := testContent(t, src, "closing", 400_000)
	data, mi := mktorrent(t, content, 15)
	tf := filepath.Join(t.TempDir(), "closing.torrent")
	writeFile(t, tf, data)
	_, port := testpeers.SeedLT(t, tf, src, "--rate", "300000")

	state, dl := t.TempDir(), t.TempDir()
	e := testEngine(t, Config{StateDir: state, KeepList: true, DownloadDir: dl, NoDHT: true})
	ih, err := e.AddMagnet(fmt.Sprintf("magnet:?xt=urn:btih:%s&x.pe=127.0.0.1:%d", mi.InfoHash, port), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitPieces(t, e, ih, 1)
	if len(openUnder(t, dl)) == 0 {
		t.Fatal("nothing open under the download folder while downloading: the test proves nothing")
	}
	e.Pause(ih)
	waitState(t, e, ih, StatePaused, 10*time.Second)
	waitClosed(t, dl, "paused")

	e.Resume(ih)
	waitPieces(t, e, ih, 2)
	e.Remove(ih, false)
	waitGone(t, e, ih)
	waitClosed(t, dl, "removed")
	// The resume saver waits 2 s between saves: give a straggler time.
	time.Sleep(3 * time.Second)
	for _, p := range []string{storage.ResumePath(state, mi.InfoHash), e.torrentFilePath(mi.InfoHash)} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s exists after the removal", p)
		}
	}
}

// waitPieces waits for a torrent to have verified at least n pieces
// while still downloading.
func waitPieces(t *testing.T, e *Engine, ih string, n int) TorrentStatus {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		ts, ok := findStatus(<-e.Snapshots(), ih)
		if ok && ts.PiecesHave >= n && ts.State != StateChecking {
			if ts.State != StateDownloading {
				t.Fatalf("state %q with %d pieces: wanted a download in progress", ts.State, ts.PiecesHave)
			}
			return ts
		}
	}
	t.Fatalf("torrent %s has not %d pieces after 30 s", ih[:8], n)
	return TorrentStatus{}
}

// TestPausedShowsPieces: a complete torrent, paused, still shows every
// piece, and so it does after a restart.
func TestPausedShowsPieces(t *testing.T) {
	src := t.TempDir()
	content := testContent(t, src, "kept", 200_000)
	data, mi := mktorrent(t, content, 15)
	cfg := Config{StateDir: t.TempDir(), KeepList: true, DownloadDir: src, Bind: "127.0.0.1", NoUPnP: true, NoLSD: true, NoDHT: true, SnapshotEvery: 50 * time.Millisecond}
	first, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stop := runEngine(t, first)
	ih, _ := first.AddTorrent(data, AddOptions{})
	waitState(t, first, ih, StateSeeding, 30*time.Second)
	time.Sleep(2500 * time.Millisecond) // the resume data is saved
	first.Pause(ih)
	check := func(ts TorrentStatus, when string) {
		t.Helper()
		n := mi.Info.NumPieces()
		if ts.PiecesHave != n || ts.PiecesTotal != n || ts.Progress != 1 || len(ts.Have) != (n+7)/8 {
			t.Fatalf("%s: %d/%d pieces, progress %v, bitfield of %d bytes", when, ts.PiecesHave, ts.PiecesTotal, ts.Progress, len(ts.Have))
		}
		for _, f := range ts.Files {
			if f.Progress != 1 {
				t.Fatalf("%s: file %s at %v", when, f.Path, f.Progress)
			}
		}
	}
	check(waitState(t, first, ih, StatePaused, 10*time.Second), "paused")
	stop()

	second, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	runEngine(t, second)
	check(waitState(t, second, ih, StatePaused, 10*time.Second), "paused, after a restart")
}

// hangingTracker is an HTTP tracker that answers every announce except
// "stopped", which it never answers (it holds the connection until the
// client gives up).
type hangingTracker struct {
	url     string
	started atomic.Int32
	stopped atomic.Int32
}

func startHangingTracker(t *testing.T) *hangingTracker {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &hangingTracker{url: "http://" + l.Addr().String() + "/announce"}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("event") {
		case "stopped":
			h.stopped.Add(1)
			<-r.Context().Done()
			return
		case "started":
			h.started.Add(1)
		}
		fmt.Fprint(w, "d8:intervali1800e5:peers0:e")
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return h
}

// manyTorrents makes n one-file torrents announcing to tracker.
func manyTorrents(t *testing.T, n int, tracker string) [][]byte {
	t.Helper()
	dir := t.TempDir()
	var out [][]byte
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("f%03d.bin", i))
		writeFile(t, p, []byte(fmt.Sprintf("content of torrent %d", i)))
		res, err := maker.Make(context.Background(), maker.Options{Paths: []string{p}, Trackers: []string{tracker}, Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		data, err := res.MetaInfo.Encode()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

// waitCount polls c until it reaches n, for up to timeout.
func waitCount(t *testing.T, c *atomic.Int32, n int32, timeout time.Duration, what string) {
	t.Helper()
	for deadline := time.Now().Add(timeout); c.Load() < n; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d of %d after %v", what, c.Load(), n, timeout)
		}
	}
}

// TestStopManyQuickly: 200 torrents on a tracker that never answers a
// "stopped" event. Pausing them all leaves the engine answering at once
// (it used to wait 5 s per torrent, on the engine goroutine), and
// quitting takes under 3 s.
func TestStopManyQuickly(t *testing.T) {
	const n = 200
	tr := startHangingTracker(t)
	torrents := manyTorrents(t, n, tr.url)
	e, err := New(withTesting(t, Config{NoDHT: true}))
	if err != nil {
		t.Fatal(err)
	}
	stop := runEngine(t, e)
	for _, data := range torrents {
		if _, err := e.AddTorrent(data, AddOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitCount(t, &tr.started, n, 60*time.Second, "started announces")

	// The engine goroutine answers at once: a ping (the DHT is off, so
	// the engine answers it itself) queued right after PauseAll.
	start := time.Now()
	e.PauseAll()
	id := e.Ping("127.0.0.1:1")
	for answered := false; !answered; {
		select {
		case ev := <-e.Events():
			if p, ok := ev.(PingResult); ok && p.Request == id {
				answered = true
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the engine did not answer within 10 s of PauseAll")
		}
	}
	// Bounds with room for a machine shared with many test runs (the
	// old engine: 5 s per torrent, 1,000 s here).
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the engine answered %v after PauseAll", d)
	}
	allPaused := func(s Snapshot) bool {
		if len(s.Torrents) != n {
			return false
		}
		for _, ts := range s.Torrents {
			if ts.State != StatePaused {
				return false
			}
		}
		return true
	}
	for deadline := time.After(30 * time.Second); ; {
		select {
		case s := <-e.Snapshots():
			if allPaused(s) {
				t.Logf("%d torrents paused in %v", n, time.Since(start))
				goto paused
			}
		case <-deadline:
			t.Fatalf("%d torrents not all paused after 30 s", n)
		}
	}
paused:
	e.ResumeAll()
	waitCount(t, &tr.started, 2*n, 60*time.Second, "started announces after resuming")
	// The stopped announces get Timing.TrackerStop (1 s) in all, counted
	// from the start of quitting; the old engine took 5 s per torrent.
	start = time.Now()
	stop()
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("quitting with %d torrents took %v", n, d)
	}
	t.Logf("quit in %v; %d stopped announces began", time.Since(start), tr.stopped.Load())
}

// TestQuitWithHandshakesInFlight: connections that never finish their
// handshake, in both directions, do not hold up quitting.
func TestQuitWithHandshakesInFlight(t *testing.T) {
	src := t.TempDir()
	content := testContent(t, src, "hs", 50_000)
	data, _ := mktorrent(t, content, 15)
	// A peer that accepts and never says a word.
	mute, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held sync.WaitGroup
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := mute.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		mute.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		held.Wait()
	})
	e, err := New(Config{DownloadDir: src, Bind: "127.0.0.1", NoUPnP: true, NoLSD: true, NoDHT: true, SnapshotEvery: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	stop := runEngine(t, e)
	port := e.testPort(t)
	ih, _ := e.AddTorrent(data, AddOptions{Peers: []string{mute.Addr().String()}})
	waitState(t, e, ih, StateSeeding, 30*time.Second)
	// Incoming connections that send nothing.
	for range 5 {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		n := len(conns)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the engine never dialled the mute peer")
		}
	}
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	stop()
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("quitting with handshakes in flight took %v", d)
	}
}

// TestNoLeakAfterCycles: 100 rounds of add, pause, resume and remove, by
// .torrent and by magnet, leave no goroutine and no open file behind.
// Each round waits for the torrent to seed (its files open), then pauses,
// resumes and removes it without waiting in between.
func TestNoLeakAfterCycles(t *testing.T) {
	src := t.TempDir()
	content := testContent(t, src, "cycle", 20_000)
	data, mi := mktorrent(t, content, 15)
	seed := testEngine(t, Config{DownloadDir: src, NoDHT: true})
	sih, _ := seed.AddTorrent(data, AddOptions{})
	seedPort := seed.testPort(t)
	waitState(t, seed, sih, StateSeeding, 30*time.Second)

	e := testEngine(t, Config{DownloadDir: src, StateDir: t.TempDir(), KeepList: true, NoDHT: true, SnapshotEvery: 20 * time.Millisecond})
	e.testPort(t)
	time.Sleep(200 * time.Millisecond)
	baseG := runtime.NumGoroutine()
	baseF := len(openUnder(t, src))
	magnet := fmt.Sprintf("magnet:?xt=urn:btih:%s&x.pe=127.0.0.1:%d", mi.InfoHash, seedPort)
	for i := range 100 {
		var ih string
		var err error
		if i%2 == 0 {
			ih, err = e.AddTorrent(data, AddOptions{})
		} else {
			ih, err = e.AddMagnet(magnet, AddOptions{})
		}
		if err != nil {
			t.Fatal(err)
		}
		waitState(t, e, ih, StateSeeding, 20*time.Second)
		e.Pause(ih)
		e.Resume(ih)
		if i%4 < 2 {
			waitState(t, e, ih, StateSeeding, 20*time.Second)
		}
		e.Remove(ih, false)
		waitGone(t, e, ih)
	}
	var g, f int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		g, f = runtime.NumGoroutine(), len(openUnder(t, src))
		if g <= baseG && f <= baseF {
			return
		}
	}
	buf := make([]byte, 1<<20)
	t.Fatalf("after 100 cycles: %d goroutines (%d before), %d files open (%d before)\n%s", g, baseG, f, baseF, buf[:runtime.Stack(buf, true)])
}

// TestBusyPort: a port another program holds is reported in the
// snapshot, the engine keeps serving commands, and a new port from the
// settings is tried at once.
func TestBusyPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	busy := l.Addr().(*net.TCPAddr).Port
	src := t.TempDir()
	content := testContent(t, src, "busy", 50_000)
	data, _ := mktorrent(t, content, 15)
	e := testEngine(t, Config{DownloadDir: src, Port: busy})
	var s Snapshot
	select {
	case s = <-e.Snapshots():
	case <-time.After(5 * time.Second):
		t.Fatal("no snapshot from an engine whose port is taken")
	}
	if s.ListenErr == nil || s.ListenPort != 0 {
		t.Fatalf("port %d taken, yet ListenErr %v, ListenPort %d", busy, s.ListenErr, s.ListenPort)
	}
	ih, err := e.AddTorrent(data, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, e, ih, StateSeeding, 10*time.Second)
	e.Pause(ih)
	waitState(t, e, ih, StatePaused, 10*time.Second)
	e.Resume(ih)
	waitState(t, e, ih, StateSeeding, 10*time.Second)

	// Another port, chosen in the settings: listening at once, DHT too.
	free := testpeers.FreePort(t, "127.0.0.1")
	e.ApplySettings(Settings{DownloadDir: src, Port: free})
	for deadline := time.Now().Add(10 * time.Second); ; {
		s := <-e.Snapshots()
		if s.ListenPort == free && s.ListenErr == nil && s.DHT.Enabled {
			if ts, _ := findStatus(s, ih); ts.State == StateSeeding {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not listening on port %d after the settings changed: port %d, %v", free, s.ListenPort, s.ListenErr)
		}
	}
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", free))
	if err != nil {
		t.Fatalf("port %d: %v", free, err)
	}
	c.Close()
}
