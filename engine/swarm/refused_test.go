package swarm

import (
	"context"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// closingDial returns a Dial to a loopback listener that closes each
// connection at once, counting the dials.
func closingDial(t *testing.T, dials *atomic.Int32) func(context.Context, string, string) (net.Conn, error) {
	l := testpeers.ClosingListener(t, "127.0.0.1:0")
	var d net.Dialer
	return func(ctx context.Context, _, _ string) (net.Conn, error) {
		dials.Add(1)
		return d.DialContext(ctx, "tcp4", l.Addr().String())
	}
}

// TestRefusedRedialsOnce: a connection closed at the handshake is
// reported to Config.Refused, and when it asks, the address is dialed
// again at once, once per dial however the second attempt ends; without
// the ask, not at all.
func TestRefusedRedialsOnce(t *testing.T) {
	for _, redial := range []bool{true, false} {
		content, mi := testTorrent(t, 4*BlockSize, 2*BlockSize)
		var dials, refusals atomic.Int32
		s, _ := pipeSwarm(t, mi, content, false, func(c *Config) {
			// One dial per address in this test, but for the redial.
			c.Timing.DialRetryMin, c.Timing.RedialMax = time.Hour, time.Hour
			c.Dial = closingDial(t, &dials)
			c.Refused = func(conn net.Conn) bool {
				refusals.Add(1)
				return redial
			}
		})
		s.AddPeers([]netip.AddrPort{netip.MustParseAddrPort("10.2.0.1:6881")}, SourceManual)
		want := int32(1)
		if redial {
			want = 2
		}
		deadline := time.Now().Add(5 * time.Second)
		for dials.Load() < want && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond) // room for a dial too many
		if d, r := dials.Load(), refusals.Load(); d != want || r != 1 {
			t.Fatalf("redial %v: %d dials and %d refusals, want %d and 1", redial, d, r, want)
		}
	}
}
