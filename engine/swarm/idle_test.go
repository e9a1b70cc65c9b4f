package swarm

import (
	"net/netip"
	"testing"
	"time"
)

// TestIdleSeedTicksSeldom: a complete swarm with no peer ticks every
// IdleTick, sooner when an address is due to be dialed again, and every
// second again once a peer connects.
func TestIdleSeedTicksSeldom(t *testing.T) {
	content, mi := testTorrent(t, 1<<20, 16<<10) // a second at the seed's 1 MiB/s
	seed := startNode(t, mi, content, true, false)
	waitTick := func(what string, ok func(time.Duration) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			d := seed.sw.nextTick()
			if ok(d) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: next tick in %v", what, d)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitTick("idle seed", func(d time.Duration) bool { return d == IdleTick })

	// A leecher's address, to be dialed again in 3 s.
	addr := netip.MustParseAddrPort("127.0.0.1:9")
	seed.sw.mu.Lock()
	seed.sw.known[addr] = &candidate{nextTry: time.Now().Add(3 * time.Second)}
	seed.sw.mu.Unlock()
	if d := seed.sw.nextTick(); d > 3*time.Second || d < 2*time.Second {
		t.Fatalf("with a dial due in 3 s: next tick in %v", d)
	}
	seed.sw.mu.Lock()
	delete(seed.sw.known, addr)
	seed.sw.mu.Unlock()

	leecher := startNode(t, mi, content, false, false)
	leecher.sw.AddPeers([]netip.AddrPort{seed.addr}, SourceManual)
	waitTick("a peer connected", func(d time.Duration) bool { return d == time.Second })
}
