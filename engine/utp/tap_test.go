package utp

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// tap sits between a Socket and the mux that carries its packets, both
// ways: it logs every packet when UTP_TRACE is set (a debugging aid for
// the tests against real peers) and drops those drop picks.
type tap struct {
	t     testing.TB
	inner Transport
	s     *Socket
	drop  func(out bool, h Header, payload []byte) bool

	mu      sync.Mutex
	start   time.Time
	dropped int
}

func (tp *tap) pass(out bool, b []byte, peer netip.AddrPort) bool {
	h, payload, err := Parse(b)
	tp.mu.Lock()
	defer tp.mu.Unlock()
	if tp.start.IsZero() {
		tp.start = time.Now()
	}
	drop := err == nil && tp.drop != nil && tp.drop(out, h, payload)
	if drop {
		tp.dropped++
	}
	if os.Getenv("UTP_TRACE") != "" {
		dir := map[bool]string{true: ">", false: "<"}[out]
		if drop {
			dir += " dropped"
		}
		tp.t.Logf("%9.3f %s %v %-5v id %d seq %d ack %d wnd %d len %d sack %x ts %d diff %d err %v",
			time.Since(tp.start).Seconds()*1000, dir, peer, h.Type, h.ConnID, h.Seq, h.Ack, h.Wnd, len(payload), h.SACK, h.Timestamp, h.TimestampDiff, err)
	}
	return !drop
}

func (tp *tap) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	if !tp.pass(true, b, addr) {
		return len(b), nil
	}
	return tp.inner.WriteToUDPAddrPort(b, addr)
}

func (tp *tap) LocalAddr() net.Addr { return tp.inner.LocalAddr() }

func (tp *tap) HandlePacket(b []byte, from netip.AddrPort) {
	if dir := os.Getenv("UTP_CAPTURE"); dir != "" {
		tp.capture(dir, b)
	}
	if tp.pass(false, b, from) {
		tp.s.HandlePacket(b, from)
	}
}

func (tp *tap) Drained() { tp.s.Drained() }

func (tp *tap) drops() int {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.dropped
}

// everyNth drops, once each, every nth DATA packet going the way out
// says (true: ours).
func everyNth(n uint16, out bool) func(bool, Header, []byte) bool {
	seen := map[uint16]bool{}
	return func(o bool, h Header, payload []byte) bool {
		if o != out || h.Type != TypeData || len(payload) == 0 || h.Seq%n != 0 || seen[h.Seq] {
			return false
		}
		seen[h.Seq] = true
		return true
	}
}

func (tp *tap) WriteToUDPAddrPortDF(b []byte, addr netip.AddrPort) (int, error) {
	if !tp.pass(true, b, addr) {
		return len(b), nil
	}
	if df, ok := tp.inner.(DontFragmenter); ok {
		return df.WriteToUDPAddrPortDF(b, addr)
	}
	return tp.inner.WriteToUDPAddrPort(b, addr)
}

// resentAfter records, for each DATA packet dropped on the way in, how
// long until it arrived again.
type resentAfter struct {
	mu      sync.Mutex
	dropped map[uint16]time.Time
	delays  []time.Duration
}

// wrap returns drop, recording what it drops on the way in and the
// arrivals of those packets later.
func (r *resentAfter) wrap(drop func(bool, Header, []byte) bool) func(bool, Header, []byte) bool {
	r.dropped = map[uint16]time.Time{}
	return func(out bool, h Header, payload []byte) bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		if at, ok := r.dropped[h.Seq]; ok && !out && h.Type == TypeData {
			r.delays = append(r.delays, time.Since(at))
			delete(r.dropped, h.Seq)
		}
		if drop(out, h, payload) {
			if !out {
				r.dropped[h.Seq] = time.Now()
			}
			return true
		}
		return false
	}
}

// capture saves the first packet of each kind the peer sends (type,
// selective ACK or not, its length a multiple of 4 or not) into dir, for
// testdata/libtorrent (UTP_CAPTURE=dir go test -run Libtorrent).
func (tp *tap) capture(dir string, b []byte) {
	h, _, err := Parse(b)
	if err != nil {
		return
	}
	kind := h.Type.String()
	if h.SACK != nil {
		kind += fmt.Sprintf("-sack%d", len(h.SACK)%4)
	}
	path := filepath.Join(dir, strings.ToLower(kind)+".bin")
	tp.mu.Lock()
	defer tp.mu.Unlock()
	if _, err := os.Stat(path); err == nil {
		return
	}
	if len(b) > 200 {
		b = b[:200] // the header and the start of the payload are enough
	}
	os.WriteFile(path, b, 0o644)
}
