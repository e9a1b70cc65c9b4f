package udpmux

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"
)

// recorder is a uTP handler that keeps what it is given.
type recorder struct {
	mu      sync.Mutex
	packets []string
	drains  int
}

func (r *recorder) HandlePacket(b []byte, from netip.AddrPort) {
	r.mu.Lock()
	r.packets = append(r.packets, string(b))
	r.mu.Unlock()
}

func (r *recorder) Drained() {
	r.mu.Lock()
	r.drains++
	r.mu.Unlock()
}

func (r *recorder) count() (int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.packets), r.drains
}

// startMux serves a mux on a new loopback socket until the test ends.
func startMux(t *testing.T, network, addr string, cfg Config) (*Mux, *net.UDPConn) {
	t.Helper()
	pc, err := net.ListenPacket(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	conn := pc.(*net.UDPConn)
	m := New(conn, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- m.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Serve: %v", err)
		}
		conn.Close()
	})
	return m, conn
}

func dial(t *testing.T, to net.Addr) *net.UDPConn {
	t.Helper()
	c, err := net.DialUDP("udp", nil, to.(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func utpPacket(payload string) []byte {
	h := make([]byte, 20)
	h[0] = 0x21 // STATE, version 1
	return append(h, payload...)
}

func TestDemultiplex(t *testing.T) {
	for _, network := range []string{"udp4", "udp6"} {
		addr := "127.0.0.1:0"
		if network == "udp6" {
			addr = "[::1]:0"
		}
		m, conn := startMux(t, network, addr, Config{})
		rec := &recorder{}
		m.SetUTP(rec)
		c := dial(t, conn.LocalAddr())
		krpc := []byte("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe")
		for _, p := range [][]byte{krpc, utpPacket("x"), []byte("garbage"), {0x41}, utpPacket("y"), {}} {
			if _, err := c.Write(p); err != nil {
				t.Fatal(err)
			}
		}
		buf := make([]byte, 1500)
		n, from, err := m.DHT().ReadFrom(buf)
		if err != nil || string(buf[:n]) != string(krpc) || from.String() != c.LocalAddr().String() {
			t.Fatalf("%s: DHT read %q from %v: %v", network, buf[:n], from, err)
		}
		waitFor(t, "the uTP packets", func() bool { n, d := rec.count(); return n == 2 && d > 0 })
		waitFor(t, "the counts", func() bool {
			st := m.Stats()
			return st.DHT == 1 && st.UTP == 2 && st.Unknown == 3
		})
		rec.mu.Lock()
		if rec.packets[0][20:] != "x" || rec.packets[1][20:] != "y" {
			t.Fatalf("uTP got %q", rec.packets)
		}
		rec.mu.Unlock()
	}
}

// TestDHTDeadline checks the semantics the DHT node relies on: a deadline
// in the past wakes a blocked read with a timeout even with packets
// queued, the zero deadline restores reads, and the view's reads fail
// with net.ErrClosed once the mux stops.
func TestDHTDeadline(t *testing.T) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	m := New(pc.(*net.UDPConn), Config{})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- m.Serve(ctx) }()
	v := m.DHT()
	read := make(chan error, 1)
	go func() {
		_, _, err := v.ReadFrom(make([]byte, 100))
		read <- err
	}()
	time.Sleep(50 * time.Millisecond)
	v.SetReadDeadline(time.Unix(1, 0))
	var ne net.Error
	if err := <-read; !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("blocked read: %v, want a timeout", err)
	}
	c := dial(t, pc.LocalAddr())
	c.Write([]byte("d1:xe"))
	waitFor(t, "the packet to be queued", func() bool { return m.Stats().DHT == 1 })
	if _, _, err := v.ReadFrom(make([]byte, 100)); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read past the deadline: %v", err)
	}
	v.SetReadDeadline(time.Time{})
	if n, _, err := v.ReadFrom(make([]byte, 100)); err != nil || n != 5 {
		t.Fatalf("read: %d %v", n, err)
	}
	v.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	start := time.Now()
	if _, _, err := v.ReadFrom(make([]byte, 100)); !errors.As(err, &ne) || !ne.Timeout() || time.Since(start) > time.Second {
		t.Fatalf("read with a near deadline: %v after %v", err, time.Since(start))
	}
	v.SetReadDeadline(time.Time{})
	cancel()
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if _, _, err := v.ReadFrom(make([]byte, 100)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after the mux stopped: %v", err)
	}
	// The socket is the caller's, usable after Serve.
	if err := pc.SetReadDeadline(time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
}

// TestDHTQueueBound floods KRPC-looking packets that nobody reads: the
// queue stays within its bound and the rest is counted.
func TestDHTQueueBound(t *testing.T) {
	m, conn := startMux(t, "udp4", "127.0.0.1:0", Config{DHTQueue: 64, DHTQueueBytes: 16 << 10})
	c := dial(t, conn.LocalAddr())
	p := make([]byte, 500)
	p[0] = 'd'
	for range 2000 {
		c.Write(p)
	}
	waitFor(t, "the flood to be read", func() bool { st := m.Stats(); return st.DHT+st.DHTOverflow > 1000 })
	if st := m.Stats(); st.DHT > 32 || st.DHTOverflow == 0 {
		t.Fatalf("%+v: more than 16 KiB queued", st)
	}
	if q := len(m.dht.queue); q > 32 || m.dht.bytes.Load() > 16<<10 {
		t.Fatalf("%d packets, %d bytes queued", q, m.dht.bytes.Load())
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
