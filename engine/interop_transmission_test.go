package engine

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// transmissionSeeder starts transmission-daemon in a network namespace of
// its own (it ignores loopback peers), seeding content.
func transmissionSeeder(t *testing.T, content string, data []byte, ih string) (*testpeers.Netns, *testpeers.Transmission) {
	t.Helper()
	ns := testpeers.NewNetns(t, "swt")
	tr := testpeers.StartTransmission(t, ns, filepath.Dir(content), nil)
	tr.Add(t, data, ih)
	tr.WaitSeeding(t, ih, 60*time.Second)
	return ns, tr
}

// TestMagnetFromTransmission: a magnet whose metadata spans three pieces,
// fetched (one piece at a time) from a Transmission seeder, completes
// byte-identical; should Transmission close the connection, we are back
// within seconds.
func TestMagnetFromTransmission(t *testing.T) {
	src := t.TempDir()
	content := manyFiles(t, src, 400)
	data, mi := mktorrent(t, content, 15)
	ns, tr := transmissionSeeder(t, content, data, mi.InfoHash.String())

	t0 := time.Now()
	e := testEngine(t, Config{Bind: ns.HostIP, Logf: func(f string, a ...any) {
		t.Logf("%v "+f, append([]any{time.Since(t0).Round(time.Millisecond)}, a...)...)
	}})
	ih, err := e.AddMagnet("magnet:?xt=urn:btih:"+mi.InfoHash.String(), AddOptions{Peers: []string{tr.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	start := time.Now()
	gaps := peerGaps(e, ih, tr.IP, done)
	waitState(t, e, ih, StateSeeding, 60*time.Second)
	close(done)
	reconnects := <-gaps
	t.Logf("magnet from Transmission complete in %v; reconnections after %v", time.Since(start).Round(10*time.Millisecond), reconnects)
	for _, g := range reconnects {
		if g > 5*time.Second {
			t.Errorf("reconnected to Transmission %v after it closed, want within 5 s", g)
		}
	}
	sameTree(t, content, filepath.Join(e.cfg.DownloadDir, "many"))
}

// TestTransmissionMagnetFromUs: Transmission fetches a magnet from our
// seeder, which it knows only because we connect to it. It closes the
// connection once it has the metadata; we reconnect within seconds (it
// was a fixed 30 s, all that time Transmission had nobody to download
// from), and it completes byte-identical.
func TestTransmissionMagnetFromUs(t *testing.T) {
	src := t.TempDir()
	content := manyFiles(t, src, 400)
	data, _ := mktorrent(t, content, 15)
	ns := testpeers.NewNetns(t, "swm")
	dst := t.TempDir()
	// Transmission's default: it reaches peers it learns of over uTP only
	// (which we do not speak yet), so after closing it cannot come back.
	tr := testpeers.StartTransmission(t, ns, dst, map[string]any{"utp-enabled": true})

	e := testEngine(t, Config{DownloadDir: src, Bind: ns.HostIP})
	ih, err := e.AddTorrent(data, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, e, ih, StateSeeding, 30*time.Second)
	tr.AddMagnet(t, "magnet:?xt=urn:btih:"+ih)
	done := make(chan struct{})
	gaps := peerGaps(e, ih, tr.IP, done)
	start := time.Now()
	if _, err := e.AddTorrent(data, AddOptions{Peers: []string{tr.Addr()}}); err != nil {
		t.Fatal(err)
	}
	tr.WaitDone(t, ih, 60*time.Second)
	close(done)
	reconnects := <-gaps
	t.Logf("Transmission got the magnet from us in %v; we reconnected after %v", time.Since(start).Round(10*time.Millisecond), reconnects)
	if len(reconnects) == 0 {
		t.Fatal("Transmission never closed the connection: the test saw no reconnection to time")
	}
	for _, g := range reconnects {
		if g > 5*time.Second {
			t.Errorf("reconnected to Transmission %v after it closed, want within 5 s", g)
		}
	}
	sameTree(t, content, filepath.Join(dst, "many"))
}
