package udpmux

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht"
	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// startNode runs a DHT node (engine/dht, the real one) on the mux's view
// until the test ends, and checks that it stops when asked.
func startNode(t *testing.T, m *Mux) *dht.Node {
	t.Helper()
	n, err := dht.New(dht.Config{Conn: m.DHT()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- n.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("DHT Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("the DHT node did not stop")
		}
	})
	return n
}

// pinger sends KRPC pings from its own socket.
type pinger struct {
	conn *net.UDPConn
	tid  uint16
}

func newPinger(t *testing.T) *pinger {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return &pinger{conn: pc.(*net.UDPConn)}
}

// ping asks to once and reports whether the node answered within wait.
func (p *pinger) ping(to net.Addr, want [20]byte, wait time.Duration) bool {
	p.tid++
	tid := []byte{byte(p.tid >> 8), byte(p.tid)}
	q := krpc.Msg{T: tid, Y: krpc.KindQuery, Q: krpc.MethodPing, A: krpc.Args{ID: krpc.ID{1, 2, 3}}}
	if _, err := p.conn.WriteTo(q.Encode(), to); err != nil {
		return false
	}
	deadline := time.Now().Add(wait)
	buf := make([]byte, 1500)
	for {
		p.conn.SetReadDeadline(deadline)
		n, _, err := p.conn.ReadFrom(buf)
		if err != nil {
			return false
		}
		if r, err := krpc.Decode(buf[:n]); err == nil && r.Y == krpc.KindResponse && string(r.T) == string(tid) && r.R.ID == want {
			return true
		}
	}
}

// TestDHTOnMux: the node answers pings through the mux and stops cleanly
// (its Serve wakes its reader with a read deadline on the view).
func TestDHTOnMux(t *testing.T) {
	for _, network := range []string{"udp4", "udp6"} {
		m, conn := startMux(t, network, map[string]string{"udp4": "127.0.0.1:0", "udp6": "[::1]:0"}[network], Config{})
		n := startNode(t, m)
		p := newPinger(t)
		if network == "udp6" {
			pc, err := net.ListenPacket("udp6", "[::1]:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { pc.Close() })
			p.conn = pc.(*net.UDPConn)
		}
		if !p.ping(conn.LocalAddr(), n.ID(), 5*time.Second) {
			t.Fatalf("%s: no answer to a ping", network)
		}
		if st := n.Stats(); st.IncomingQueries != 1 || st.Addr != conn.LocalAddr().String() {
			t.Fatalf("%s: node stats %+v", network, st)
		}
	}
}
