package utp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// pattern returns n reproducible pseudo-random bytes.
func pattern(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, 1))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// writeAll writes data on w in pieces of varied size.
func writeAll(w net.Conn, data []byte, seed uint64) error {
	r := rand.New(rand.NewPCG(seed, 2))
	for len(data) > 0 {
		n := min(len(data), 1+r.IntN(40000))
		if _, err := w.Write(data[:n]); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// sendAll writes data on w and closes it.
func sendAll(w net.Conn, data []byte, seed uint64) error {
	if err := writeAll(w, data, seed); err != nil {
		return err
	}
	return w.Close()
}

// expect reads r to EOF within timeout and checks it got want.
func expect(t *testing.T, r net.Conn, want []byte, timeout time.Duration) {
	t.Helper()
	r.SetReadDeadline(time.Now().Add(timeout))
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read after %d of %d bytes: %v", len(got), len(want), err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got %d bytes, want %d; first difference at %d", len(got), len(want), firstDiff(got, want))
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// both sends a and b in opposite directions at once, checks that each
// side reads exactly what the other wrote, then closes both.
func both(t *testing.T, p *pair, a, b []byte, timeout time.Duration) {
	t.Helper()
	var wg sync.WaitGroup
	var werr, rerr [2]error
	var got [2][]byte
	for i, c := range []*Conn{p.client, p.server} {
		out, in := a, b
		if i == 1 {
			out, in = b, a
		}
		wg.Add(2)
		go func() {
			defer wg.Done()
			c.SetWriteDeadline(time.Now().Add(timeout))
			werr[i] = writeAll(c, out, uint64(i))
		}()
		go func() {
			defer wg.Done()
			c.SetReadDeadline(time.Now().Add(timeout))
			got[i] = make([]byte, len(in))
			var n int
			n, rerr[i] = io.ReadFull(c, got[i])
			got[i] = got[i][:n]
		}()
	}
	wg.Wait()
	for i, want := range [][]byte{b, a} {
		if werr[i] != nil || rerr[i] != nil || !bytes.Equal(got[i], want) {
			t.Logf("client %s\nserver %s", p.client.debug(), p.server.debug())
			t.Fatalf("side %d: read %d of %d bytes (first difference at %d), read error %v, write error %v",
				i, len(got[i]), len(want), firstDiff(got[i], want), rerr[i], werr[i])
		}
	}
	p.client.Close()
	p.server.Close()
}

func TestTransferClean(t *testing.T) {
	p := connectPair(t, 1, link{}, Config{})
	both(t, p, pattern(3<<20, 1), pattern(1<<20, 2), 30*time.Second)
	// Nothing is lost, so nothing is reported missing; a tail probe may
	// still fire when the machine is slow to deliver an acknowledgement.
	st := p.client.Stats()
	if st.FastRetransmits != 0 || st.Timeouts != 0 || st.Retransmits != st.TailProbes {
		t.Errorf("clean link: %+v", st)
	}
}

// TestTransferHostileLink runs both directions through delay, jitter that
// reorders, loss and duplication.
func TestTransferHostileLink(t *testing.T) {
	l := link{Delay: 5 * time.Millisecond, Jitter: 15 * time.Millisecond, Loss: 0.03, Dup: 0.03}
	p := connectPair(t, 2, link{}, Config{})
	p.net.setLink(l)
	both(t, p, pattern(2<<20, 3), pattern(1<<20, 4), 60*time.Second)
	for _, c := range []*Conn{p.client, p.server} {
		st := c.Stats()
		if st.Retransmits == 0 || st.OutOfOrder == 0 || st.Duplicates == 0 {
			t.Errorf("%v: the link did not bite: %+v", c, st)
		}
		t.Logf("%v: %d retransmits (%d fast), %d timeouts, %d out of order, %d duplicates",
			c, st.Retransmits, st.FastRetransmits, st.Timeouts, st.OutOfOrder, st.Duplicates)
	}
}

// TestFastRetransmit drops a few single data packets once: selective ACKs
// recover them without waiting for a timeout.
func TestFastRetransmit(t *testing.T) {
	p := connectPair(t, 3, link{Delay: 2 * time.Millisecond}, Config{})
	var mu sync.Mutex
	seen := map[uint16]bool{}
	p.net.setLink(link{Delay: 2 * time.Millisecond, Drop: func(b []byte, from, to netip.AddrPort) bool {
		h, payload, err := Parse(b)
		if err != nil || h.Type != TypeData || len(payload) == 0 || to.Port() != 2000 {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		if h.Seq%97 == 0 && !seen[h.Seq] {
			seen[h.Seq] = true
			return true
		}
		return false
	}})
	data := pattern(4<<20, 5)
	go sendAll(p.client, data, 3)
	start := time.Now()
	expect(t, p.server, data, 30*time.Second)
	st := p.client.Stats()
	t.Logf("%v: %+v", time.Since(start), st)
	if st.FastRetransmits == 0 {
		t.Fatalf("no fast retransmit: %+v", st)
	}
	if st.Timeouts > st.FastRetransmits/4 {
		t.Errorf("%d timeouts for %d fast retransmits", st.Timeouts, st.FastRetransmits)
	}
}

// TestPathMTU probes upward on a link whose MTU is 1300 and where
// oversized probes vanish without an ICMP message, and on one where the
// sender learns the MTU from EMSGSIZE.
func TestPathMTU(t *testing.T) {
	for _, l := range []link{{PathMTU: 1300}, {TooBig: 1300}} {
		p := connectPair(t, 4, l, Config{})
		data := pattern(2<<20, 6)
		go sendAll(p.client, data, 4)
		expect(t, p.server, data, 30*time.Second)
		if size := p.client.Stats().PacketSize; size > 1300 || size < 1300-2*mtuSettled {
			t.Errorf("%+v: packet size settled at %d", l, size)
		}
	}
	// An open path: the search ends near Ethernet's 1472 bytes.
	p := connectPair(t, 5, link{}, Config{})
	data := pattern(2<<20, 7)
	go sendAll(p.client, data, 5)
	expect(t, p.server, data, 30*time.Second)
	if size := p.client.Stats().PacketSize; size < 1472-2*mtuSettled || size > 1472 {
		t.Errorf("open path: packet size settled at %d", size)
	}
}

// TestCloseAndEOF: the peer reads everything written before Close, then
// EOF; after Close our own calls fail.
func TestCloseAndEOF(t *testing.T) {
	p := connectPair(t, 6, link{Delay: time.Millisecond}, Config{})
	p.client.Write([]byte("hello"))
	p.client.Close()
	expect(t, p.server, []byte("hello"), 10*time.Second)
	if _, err := p.client.Write([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
	if _, err := p.client.Read(make([]byte, 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
	p.server.Close()
	waitFor(t, "both sockets to forget the connection", 10*time.Second, func() bool {
		return p.a.Stats().Conns == 0 && p.b.Stats().Conns == 0
	})
}

// TestDeadlines: a Read with nothing to read and a Write into a closed
// window fail with a timeout.
func TestDeadlines(t *testing.T) {
	p := connectPair(t, 7, link{}, Config{RecvWindow: 64 << 10, SendBuffer: 64 << 10})
	p.client.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	var ne net.Error
	if _, err := p.client.Read(make([]byte, 10)); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read: %v, want a timeout", err)
	}
	// Nobody reads on the server: its window fills, then our buffer.
	p.client.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
	n, err := p.client.Write(make([]byte, 1<<20))
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("write: %d bytes, %v, want a timeout", n, err)
	}
	if n > 64<<10+64<<10+1<<16 {
		t.Fatalf("write took %d bytes into a closed window", n)
	}
}

// TestDialTimeout: nobody answers, Dial gives up after its SYNs.
func TestDialTimeout(t *testing.T) {
	n := newMemNet(t, 8, link{})
	s := startSocket(t, n.host("10.0.0.1:1000"), Config{ConnectTimeout: 20 * time.Second})
	n.host("10.0.0.2:2000").sink = func([]byte, netip.AddrPort) {}
	start := time.Now()
	_, err := s.Dial(context.Background(), netip.MustParseAddrPort("10.0.0.2:2000"))
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("dial: %v", err)
	}
	if d := time.Since(start); d < 5*time.Second || d > 12*time.Second {
		t.Fatalf("gave up after %v", d)
	}
	if s.Stats().Conns != 0 {
		t.Fatalf("%d connections left", s.Stats().Conns)
	}
}

func waitFor(t testing.TB, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// debug describes the connection's state for failure messages.
func (c *Conn) debug() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprintf("state %d err %v seq %d acked %d ack %d out %d resendQ %d inflight %d cwnd %.0f peerwnd %d wnd %d unsent %d rto in %v timeouts %d mtu %+v reorder %d stats %+v",
		c.state, c.err, c.seqNr, c.ackedSeq, c.ackNr, c.out.count, len(c.resendQ), c.inflight, c.cc.cwnd, c.peerWnd, c.wnd(), c.unsent.Len(),
		time.Until(c.rtoAt), c.timeouts, c.mtu, c.reorder.count, c.st)
}

// TestHandshakeAlone: whatever the application writes at once, the first
// data packet carries only the 68 bytes of a BitTorrent handshake (for
// Transmission's sake, see firstPacket).
func TestHandshakeAlone(t *testing.T) {
	p := connectPair(t, 9, link{}, Config{})
	var mu sync.Mutex
	var sizes []int
	p.net.setLink(link{Drop: func(b []byte, from, to netip.AddrPort) bool {
		if h, payload, err := Parse(b); err == nil && h.Type == TypeData && to.Port() == 2000 {
			mu.Lock()
			sizes = append(sizes, len(payload))
			mu.Unlock()
		}
		return false
	}})
	data := pattern(3000, 9)
	p.client.Write(data)
	buf := make([]byte, len(data))
	p.server.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(p.server, buf); err != nil || !bytes.Equal(buf, data) {
		t.Fatalf("read: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sizes) < 2 || sizes[0] != firstPacket {
		t.Fatalf("data packets of %v bytes", sizes)
	}
}

// TestKeepAliveAndIdle: two idle ends keep each other alive with
// keep-alives; once the link goes silent both give up after IdleTimeout.
func TestKeepAliveAndIdle(t *testing.T) {
	p := connectPair(t, 10, link{}, Config{KeepAlive: 100 * time.Millisecond, IdleTimeout: 2 * time.Second})
	before := p.client.Stats().PacketsSent
	time.Sleep(3 * time.Second)
	if st := p.client.Stats(); st.PacketsSent < before+5 || p.a.Stats().Conns != 1 || p.b.Stats().Conns != 1 {
		t.Fatalf("idle but connected: %+v; sockets %+v %+v", st, p.a.Stats(), p.b.Stats())
	}
	p.net.setLink(link{Loss: 1})
	for _, c := range []*Conn{p.client, p.server} {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err := c.Read(make([]byte, 1))
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("%v after the link went silent: %v", c, err)
		}
	}
}
