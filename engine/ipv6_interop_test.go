package engine

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestTrackerPeers6: a real tracker's BEP 7 answer is our only way to a
// libtorrent seeder that has an IPv6 address only. The tracker is
// qBittorrent's embedded one (Debian's opentracker is built for IPv4
// only), in a network namespace with the seeder, both on the namespace's
// end of an IPv6 veth pair; we are on the other end, with no DHT, no
// local discovery and no peer given. The seeder reaches us in the
// tracker's "peers6" and nowhere else; the download completes,
// byte-identical, over IPv6, from a peer whose source is "tracker".
func TestTrackerPeers6(t *testing.T) {
	ns := testpeers.NewNetns(t, "sq6")
	ns.AddIPv6(t)
	testpeers.StartQBittorrentTracker(t, ns)
	announce := testpeers.QBTrackerURL(ns.NSIP6)

	src := t.TempDir()
	content := testContent(t, src, "six", 150_000)
	data, mi := mktorrent(t, content, 15, "-a", announce)
	tf := filepath.Join(t.TempDir(), "six.torrent")
	writeFile(t, tf, data)
	// Its rate limit makes the transfer last long enough for our
	// snapshots to see the connection.
	seed := ns.StartLT(t, "seed", tf, src, "--port", "0", "--ip", ns.NSIP6, "--seconds", "180", "--rate", "500000")
	seed.Port(t)
	seed.Wait(t, "ANNOUNCED", 30*time.Second)

	e := testEngine(t, Config{Bind: ns.HostIP6, NoDHT: true})
	ih, err := e.AddTorrent(data, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f := follow(t, e, ih)
	ts := f.waitState(t, StateSeeding, 60*time.Second)
	if ts.PiecesHave != mi.Info.NumPieces() {
		t.Fatalf("%d of %d pieces", ts.PiecesHave, mi.Info.NumPieces())
	}
	sameTree(t, content, filepath.Join(e.cfg.DownloadDir, "six"))
	conns := f.seen(ns.NSIP6)
	if len(conns) == 0 {
		t.Fatalf("no connection to the seeder at %s seen: %+v", ns.NSIP6, f.all())
	}
	for _, p := range conns {
		if p.Source != "tracker" || p.Family != "IPv6" {
			t.Fatalf("connection %s: source %q, %s; want from the tracker, IPv6", p.Addr, p.Source, p.Family)
		}
	}
	for _, p := range f.all() {
		if p.Family != "IPv6" {
			t.Fatalf("connection %s is %s", p.Addr, p.Family)
		}
	}
	if len(ts.Trackers) != 1 || !ts.Trackers[0].Working || ts.Trackers[0].Peers == 0 {
		t.Fatalf("tracker status %+v: want one working tracker that gave peers", ts.Trackers)
	}
	t.Logf("from %s over %s; tracker: %+v", conns[0].Addr, conns[0].Transport, ts.Trackers[0])
}
