package udpmux

import (
	"fmt"
	"net"
	"testing"
)

// TestSegments sends uTP packets back to back with one WriteSegments
// (UDP GSO) to a mux that reads with GRO, over IPv4 and IPv6 loopback:
// its handler gets each packet whole, in order, the short last one too.
func TestSegments(t *testing.T) {
	for _, tc := range []struct{ network, addr string }{{"udp4", "127.0.0.1:0"}, {"udp6", "[::1]:0"}} {
		t.Run(tc.network, func(t *testing.T) {
			recv, rconn := startMux(t, tc.network, tc.addr, Config{})
			if !recv.gro {
				t.Log("UDP GRO is off: packets are read one by one")
			}
			r := &recorder{}
			recv.SetUTP(r)
			send, _ := startMux(t, tc.network, tc.addr, Config{})
			const size = 1000
			var want []string
			var b []byte
			for i := range 40 {
				p := utpPacket(fmt.Sprintf("%04d", i))
				n := size
				if i == 39 {
					n = 300
				}
				for len(p) < n {
					p = append(p, byte(i))
				}
				want = append(want, string(p))
				b = append(b, p...)
			}
			to := rconn.LocalAddr().(*net.UDPAddr).AddrPort()
			for round := range 3 {
				if err := send.WriteSegments(b, size, to); err != nil {
					t.Fatalf("WriteSegments: %v", err)
				}
				waitFor(t, "the packets", func() bool { n, _ := r.count(); return n >= (round+1)*len(want) })
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			if len(r.packets) != 3*len(want) {
				t.Fatalf("%d packets, want %d", len(r.packets), 3*len(want))
			}
			for i, p := range r.packets {
				if w := want[i%len(want)]; p != w {
					t.Fatalf("packet %d: %d bytes %q..., want %d bytes %q...", i, len(p), p[20:24], len(w), w[20:24])
				}
			}
		})
	}
}
