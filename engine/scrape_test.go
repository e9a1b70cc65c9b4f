package engine

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestDHTScrapeLibtorrent: a torrent's swarm is 2 libtorrent seeds and 4
// libtorrent peers (dht --announce, no data: not seeds), each on its own
// loopback address, in a DHT of libtorrent nodes (the router and the
// peers' own). Our engine seeds it too, from the start. Its status comes
// to estimate, by BEP 33 scrapes with its lookups, 3 seeds (us included)
// and 4 peers, within BEP 33's precision; before any scrape both are -1.
func TestDHTScrapeLibtorrent(t *testing.T) {
	router := startLTNode(t, "127.0.33.1")
	src := t.TempDir()
	content := testContent(t, src, "scraped", 100_000)
	data, mi := mktorrent(t, content, 15)
	tf := filepath.Join(t.TempDir(), "s.torrent")
	writeFile(t, tf, data)
	const ltSeeds, ltPeers = 2, 4
	for i := range ltSeeds {
		testpeers.SeedLT(t, tf, src, "--ip", fmt.Sprintf("127.0.33.%d", 10+i), "--dht", router)
	}
	for i := range ltPeers {
		p := testpeers.StartLT(t, "dht", "--port", "0", "--ip", fmt.Sprintf("127.0.33.%d", 20+i),
			"--bootstrap", router, "--announce", mi.InfoHash.String(), "--seconds", "150")
		p.Port(t)
	}

	e := testEngine(t, Config{DownloadDir: src, StateDir: t.TempDir(), Bootstrap: []string{router},
		Timing: Timing{LookupEvery: 2 * time.Second, SeedLookupEvery: 2 * time.Second}})
	ih, err := e.AddTorrent(data, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ts := waitState(t, e, ih, StateSeeding, 30*time.Second)
	const seeds, peers = ltSeeds + 1, ltPeers
	var last time.Time
	for deadline := time.Now().Add(60 * time.Second); ; {
		if ts.DHTScrapedAt.IsZero() && (ts.DHTSeeds != -1 || ts.DHTPeers != -1) {
			t.Fatalf("no scrape yet, but %d seeds, %d peers", ts.DHTSeeds, ts.DHTPeers)
		}
		if ts.DHTScrapedAt != last {
			last = ts.DHTScrapedAt
			t.Logf("estimate at %v: %d seeds, %d peers (true: %d, %d); %d answered, %d announced",
				last.Format("15:04:05.000"), ts.DHTSeeds, ts.DHTPeers, seeds, peers, ts.DHT.IPv4.Answered, ts.DHT.IPv4.Announced)
		}
		if ts.DHTSeeds == seeds && ts.DHTPeers == peers || time.Now().After(deadline) {
			break
		}
		ts = lastStatus(t, e, ih)
	}
	if last.IsZero() || !scrapeWithin(ts.DHTSeeds, seeds) || !scrapeWithin(ts.DHTPeers, peers) {
		t.Fatalf("estimate %d seeds, %d peers at %v; true %d seeds (ours included), %d peers; DHT %+v",
			ts.DHTSeeds, ts.DHTPeers, last, seeds, peers, ts.DHT)
	}
	if ts.DHT.PeersFound == 0 {
		t.Fatalf("the lookups with the scrape found no peers: %+v", ts.DHT)
	}
}

// scrapeWithin reports whether an estimate is within BEP 33's precision
// of the true count: 5 % (the BEP's test vector is 2.5 % under at 1,256),
// or 1 for small counts.
func scrapeWithin(estimate, truth int) bool {
	return math.Abs(float64(estimate-truth)) <= max(1, 0.05*float64(truth))
}
