package app

import (
	"bufio"
	"encoding/json"
	"syscall"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestSeedJSONScrape: `swarmdrop seed --json` of a trackerless torrent that
// a libtorrent seeder (on its own address) has announced in a libtorrent
// DHT reports the DHT's estimate of the swarm after its first lookup: 2
// seeds (libtorrent's and ours; 1 if libtorrent's announce has not landed
// yet, as the seeder's next lookup is 15 minutes away) and no other peer,
// with the time of the estimate; before it, -1 and no time. The exact
// estimate against known counts is engine's TestDHTScrapeLibtorrent.
func TestSeedJSONScrape(t *testing.T) {
	router := ltNode(t, "127.0.41.1")
	src, tf, _ := createTrackerless(t, "scr", router)
	testpeers.SeedLT(t, tf, src, "--ip", "127.0.41.2", "--dht", router)
	time.Sleep(3 * time.Second) // (libtorrent announces soon after it seeds; no line says when)
	seed := swarmdropCmd(t, "seed", "--json", "--no-upnp", "--port", "0", "--dir", src, tf)
	out, err := seed.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := seed.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { seed.Process.Signal(syscall.SIGINT); seed.Wait() }()
	sc := bufio.NewScanner(out)
	var p progressLine
	found := false
	for deadline := time.Now().Add(40 * time.Second); !found && time.Now().Before(deadline) && sc.Scan(); {
		p = progressLine{}
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatalf("not a JSON line: %q", sc.Bytes())
		}
		if p.DHTScrapedAt == 0 && (p.DHTSeeds != -1 || p.DHTPeers != -1) {
			t.Fatalf("no estimate yet, but %+v", p)
		}
		found = p.DHTScrapedAt != 0
	}
	go func() {
		for sc.Scan() {
		}
	}()
	t.Logf("estimate: %d seeds, %d peers, at %v (true: 2, 0)", p.DHTSeeds, p.DHTPeers, time.Unix(p.DHTScrapedAt, 0))
	if !found || p.DHTSeeds < 1 || p.DHTSeeds > 2 || p.DHTPeers != 0 || time.Since(time.Unix(p.DHTScrapedAt, 0)) > time.Minute {
		t.Fatalf("estimate %+v; want 2 (or 1) seeds, 0 peers", p)
	}
}
