package swarm

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/peerwire"
)

// TestOtherFamilyAddress: over IPv4 the extended handshake tells our
// IPv6 address (BEP 10 `ipv6`); a peer's `ipv6` (with its port) becomes a
// candidate we dial, labelled "handshake", but a loopback address from a
// peer that is not on loopback is ignored.
func TestOtherFamilyAddress(t *testing.T) {
	content, mi := testTorrent(t, 4*BlockSize, 2*BlockSize)
	own := netip.MustParseAddr("2001:db8::1")
	dialed := make(chan string, 16)
	s, _ := pipeSwarm(t, mi, content, true, func(c *Config) {
		c.Port, c.IPv6 = 6881, own
		// Documentation addresses: record the dial, send nothing.
		c.Dial = func(_ context.Context, _, addr string) (net.Conn, error) {
			dialed <- addr
			return nil, errors.New("not dialing in a test")
		}
	})
	r := dialPipe(t, s, "10.1.0.1:6881", fastExt, mi.Info.NumPieces()).follow()
	m := r.expect("extended handshake", func(m peerwire.Message) bool { return m.ID == peerwire.Extended && m.ExtID == 0 }, nil)
	h, err := peerwire.ParseExtHandshake(m.ExtPayload)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := netip.AddrFromSlice(h.IPv6); got != own {
		t.Fatalf("our handshake's ipv6 is %v, want %v", got, own)
	}
	theirs := netip.MustParseAddr("2001:db8::2")
	b6, loop := theirs.As16(), netip.IPv6Loopback().As16()
	r.send(peerwire.Message{ID: peerwire.Extended, ExtID: 0, ExtPayload: peerwire.ExtHandshake{P: 7000, IPv6: b6[:]}.Encode()})
	r2 := dialPipe(t, s, "10.1.0.2:6881", fastExt, mi.Info.NumPieces()).follow()
	r2.send(peerwire.Message{ID: peerwire.Extended, ExtID: 0, ExtPayload: peerwire.ExtHandshake{P: 7001, IPv6: loop[:]}.Encode()})

	want := netip.AddrPortFrom(theirs, 7000).String()
	select {
	case a := <-dialed:
		if a != want {
			t.Fatalf("dialed %s, want %s", a, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("never dialed the peer's IPv6 address %s", want)
	}
	s.mu.Lock()
	c := s.known[netip.AddrPortFrom(theirs, 7000)]
	_, loopKnown := s.known[netip.AddrPortFrom(netip.IPv6Loopback(), 7001)]
	s.mu.Unlock()
	if c == nil || c.src != SourceHandshake {
		t.Fatalf("candidate %s: %+v, want source %q", want, c, SourceHandshake)
	}
	if loopKnown {
		t.Fatal("a peer not on loopback made us a loopback candidate")
	}
}
