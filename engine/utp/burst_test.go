package utp

import (
	"net/netip"
	"sync"
	"testing"
	"time"
)

// TestBurstLoss drops 40 data packets in a row once, in the middle of a
// transfer: selective ACKs recover them, not timeouts (one is tolerated:
// on a loaded machine a late acknowledgement can make one fire).
func TestBurstLoss(t *testing.T) {
	p := connectPair(t, 30, link{Delay: time.Millisecond}, Config{})
	var mu sync.Mutex
	start, n := uint16(0), 0
	seen := map[uint16]bool{}
	p.net.setLink(link{Delay: time.Millisecond, Drop: func(b []byte, from, to netip.AddrPort) bool {
		h, payload, err := Parse(b)
		if err != nil || h.Type != TypeData || len(payload) == 0 || to.Port() != 2000 {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		n++
		if n == 500 {
			start = h.Seq
		}
		if start != 0 && seqDiff(h.Seq, start) >= 0 && seqDiff(h.Seq, start) < 40 && !seen[h.Seq] {
			seen[h.Seq] = true
			return true
		}
		return false
	}})
	data := pattern(4<<20, 30)
	go sendAll(p.client, data, 30)
	expect(t, p.server, data, 30*time.Second)
	st := p.client.Stats()
	t.Logf("%+v", st)
	if st.Timeouts > 1 || st.FastRetransmits < 40 {
		t.Fatalf("%d timeouts, %d fast retransmits", st.Timeouts, st.FastRetransmits)
	}
}
