package swarm

import (
	"net/netip"
	"testing"
	"time"
)

// TestPEXFirstMessageSoon: with PEX messages an hour apart, two leechers
// that only know the seed, one joining seconds after the other, still learn of each other within seconds: a
// peer's first PEX message goes out as soon as there is a peer to tell
// of, not at the swarm's next PEX round.
func TestPEXFirstMessageSoon(t *testing.T) {
	hourly := func(cfg *Config) { cfg.Timing.PEXEvery = time.Hour }
	content, mi := testTorrent(t, 2<<20, 16<<10)
	s := startNode(t, mi, content, true, false, hourly)
	a := startNode(t, mi, content, false, false, hourly, slowDown)
	b := startNode(t, mi, content, false, false, hourly, slowDown)
	a.sw.AddPeers([]netip.AddrPort{s.addr}, SourceManual)
	// b comes after the seed's first PEX round.
	time.Sleep(2500 * time.Millisecond)
	b.sw.AddPeers([]netip.AddrPort{s.addr}, SourceManual)
	deadline := time.Now().Add(10 * time.Second)
	for a.pexSources()+b.pexSources() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no connection came from PEX within 10 s (PEX every hour)")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// slowDown caps a leecher at 256 KiB/s, so that it still wants pieces
// when PEX tells it of the other leecher.
func slowDown(cfg *Config) { cfg.OwnDownLimit = NewRateLimit(256 << 10) }
