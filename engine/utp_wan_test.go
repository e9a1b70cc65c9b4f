package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/linkem"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// wanLink is issue 16's emulated internet path: 50 ms and 1 % loss each
// way (a 100 ms round trip).
var wanLink = linkem.Link{Delay: 50 * time.Millisecond, Loss: 0.01}

// runEngineIn runs e with its sockets in host i of topo until the test
// ends. Run opens the TCP listener and the UDP socket (DHT and uTP) before
// anything else, on the thread linkem.Topology.Do put in the namespace;
// sockets keep their namespace whichever goroutine uses them later.
// Outgoing TCP dials would not be made there but from the test's own
// namespace (whose default route leaves the machine), so they are refused
// before they open a socket; a test using this also sets
// Config.PreferUTP and keeps Timing.DialHeadStart long so that the dialer
// does not try TCP at all while uTP works.
func runEngineIn(t *testing.T, topo *linkem.Topology, i int, e *Engine) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- topo.Do(i, func() error { return e.Run(ctx) }) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("engine: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("engine did not stop")
		}
	})
	e.testPort(t)
	e.netMu.Lock()
	n := e.net
	e.netMu.Unlock()
	if n == nil || n.dial == nil {
		t.Fatal("the engine has no dialer")
	}
	n.dial.tcp = func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("test: no TCP dial from outside the namespace")
	}
}

// startLTIn runs ltpeer.py in host i of topo until the test ends.
func startLTIn(t *testing.T, topo *linkem.Topology, i int, args ...string) *testpeers.Proc {
	t.Helper()
	testpeers.RequireLibtorrent(t)
	return testpeers.Start(t, "ip", append([]string{"netns", "exec", topo.Namespace(i), testpeers.Python, testpeers.LTPeer()}, args...)...)
}

// TestUTPOverWAN: the whole engine downloads over uTP from a libtorrent
// that speaks uTP only, through an emulated link of 50 ms and 1 % loss
// each way (internal/linkem): it completes byte-identical, on a uTP
// connection, and the link did lose packets. Its time is logged next to
// libtorrent downloading the same torrent from the same seeder over the
// same link (speed is for make bench-utp; nothing here asserts it).
func TestUTPOverWAN(t *testing.T) {
	topo := linkem.Start(t, linkem.Pair("uw", wanLink, wanLink))
	src := t.TempDir()
	content := testContent(t, src, "set", 350_000) // 2.1 MB
	data, mi := mktorrent(t, content, 16)
	torrentFile := filepath.Join(t.TempDir(), "set.torrent")
	writeFile(t, torrentFile, data)

	seederIP := topo.Addr4(0).String()
	lt := startLTIn(t, topo, 0, "seed", torrentFile, src, "--port", "0", "--ip", seederIP, "--utp", "--check", "--seconds", "300")
	seeder := fmt.Sprintf("%s:%d", seederIP, lt.Port(t))
	lt.Wait(t, "SEEDING", 30*time.Second)

	e, err := New(withTesting(t, Config{
		Bind:      topo.Addr4(1).String(),
		NoDHT:     true,
		PreferUTP: true,
		Timing:    Timing{DialHeadStart: 10 * time.Minute},
	}))
	if err != nil {
		t.Fatal(err)
	}
	runEngineIn(t, topo, 1, e)
	before, err := topo.Stats()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ih, err := e.AddTorrent(data, AddOptions{Peers: []string{seeder}})
	if err != nil {
		t.Fatal(err)
	}
	f := follow(t, e, ih)
	ts := f.waitState(t, StateSeeding, 120*time.Second)
	ours := time.Since(start)
	if ts.PiecesHave != mi.Info.NumPieces() {
		t.Fatalf("%d of %d pieces", ts.PiecesHave, mi.Info.NumPieces())
	}
	sameTree(t, content, filepath.Join(e.cfg.DownloadDir, "set"))
	onlyTransport(t, "download", f.seen(seederIP), "IPv4", "uTP")
	after, err := topo.Stats()
	if err != nil {
		t.Fatal(err)
	}
	lost := after.Up[0].Lost - before.Up[0].Lost
	if lost == 0 {
		t.Fatalf("the link lost none of the seeder's packets: %+v", after.Up[0])
	}

	out := t.TempDir()
	start = time.Now()
	dl := startLTIn(t, topo, 1, "download", torrentFile, out, "--port", "0", "--ip", topo.Addr4(1).String(),
		"--peer", seeder, "--utp", "--seconds", "120")
	dl.Wait(t, "DONE ", 130*time.Second)
	theirs := time.Since(start)
	sameTree(t, content, filepath.Join(out, "set"))
	t.Logf("%d bytes over 50 ms / 1 %% loss each way: engine %v (link lost %d seeder packets), libtorrent %v (Python start-up included), ratio %.2f",
		mi.Info.TotalLength, ours.Round(time.Millisecond), lost, theirs.Round(time.Millisecond), ours.Seconds()/theirs.Seconds())
}
