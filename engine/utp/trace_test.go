package utp

import (
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"
)

// tracer logs every packet a socket sends and receives when UTP_TRACE is
// set (a debugging aid for the tests against real peers).
type tracer struct {
	t     testing.TB
	inner Transport
	s     *Socket
	mu    sync.Mutex
	start time.Time
}

func tracing() bool { return os.Getenv("UTP_TRACE") != "" }

func (tr *tracer) log(dir string, b []byte, peer netip.AddrPort) {
	h, payload, err := Parse(b)
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.start.IsZero() {
		tr.start = time.Now()
	}
	if err != nil {
		tr.t.Logf("%9.3f %s %v: %v", time.Since(tr.start).Seconds()*1000, dir, peer, err)
		return
	}
	tr.t.Logf("%9.3f %s %v %-5v id %d seq %d ack %d wnd %d len %d sack %x ts %d diff %d",
		time.Since(tr.start).Seconds()*1000, dir, peer, h.Type, h.ConnID, h.Seq, h.Ack, h.Wnd, len(payload), h.SACK, h.Timestamp, h.TimestampDiff)
}

func (tr *tracer) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	tr.log(">", b, addr)
	return tr.inner.WriteToUDPAddrPort(b, addr)
}

func (tr *tracer) LocalAddr() net.Addr { return tr.inner.LocalAddr() }

func (tr *tracer) HandlePacket(b []byte, from netip.AddrPort) {
	tr.log("<", b, from)
	tr.s.HandlePacket(b, from)
}

func (tr *tracer) Drained() { tr.s.Drained() }
