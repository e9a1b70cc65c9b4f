package utp

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// rawPeer is a hostile peer that writes packets by hand on a memNet and
// sees the packets sent to it.
type rawPeer struct {
	h    *memHost
	to   netip.AddrPort
	got  chan Header
	mu   sync.Mutex
	recv func(h Header, payload []byte) // answers packets when set
}

func newRawPeer(t testing.TB, n *memNet, addr string, to netip.AddrPort) *rawPeer {
	r := &rawPeer{h: n.host(addr), to: to, got: make(chan Header, 4096)}
	r.h.sink = func(b []byte, from netip.AddrPort) {
		h, payload, err := Parse(b)
		if err != nil {
			return
		}
		r.mu.Lock()
		answer := r.recv
		r.mu.Unlock()
		if answer != nil {
			answer(h, payload)
		}
		select {
		case r.got <- h:
		default:
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.h.serve(ctx, nil) }()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

func (r *rawPeer) send(h Header, payload []byte) {
	r.h.WriteToUDPAddrPort(append(h.Append(nil), payload...), r.to)
}

// wait returns the next packet of type t sent to the peer.
func (r *rawPeer) wait(t testing.TB, typ Type) Header {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case h := <-r.got:
			if h.Type == typ {
				return h
			}
		case <-deadline:
			t.Fatalf("no %v packet", typ)
		}
	}
}

// open completes a handshake to the peer's target as an initiator with
// connection ID id and first sequence number seq; it returns the
// target's first sequence number.
func (r *rawPeer) open(t testing.TB, id, seq uint16) uint16 {
	t.Helper()
	r.send(Header{Type: TypeSyn, ConnID: id, Seq: seq, Wnd: 1 << 20}, nil)
	st := r.wait(t, TypeState)
	if st.Ack != seq {
		t.Fatalf("SYN answered with %+v", st)
	}
	r.send(Header{Type: TypeState, ConnID: id + 1, Seq: seq + 1, Ack: st.Seq - 1, Wnd: 1 << 20}, nil)
	return st.Seq
}

// TestGarbage: random bytes and random headers for unknown connections
// open nothing and crash nothing; forged packets aimed at a live
// connection (acknowledgements of what was never sent, sequence numbers
// out of any window, RESETs that acknowledge nothing of ours, SYNs,
// malformed extensions) are ignored while a transfer runs through it.
func TestGarbage(t *testing.T) {
	p := connectPair(t, 20, link{Delay: time.Millisecond}, Config{})
	rng := rand.New(rand.NewPCG(20, 21))
	forge := func(from, to netip.AddrPort, b []byte) { p.net.send(b, from, to, false) }
	stranger := netip.MustParseAddrPort("10.0.0.9:999")
	p.net.host(stranger.String()).sink = func([]byte, netip.AddrPort) {}
	for range 3000 {
		b := make([]byte, rng.IntN(200))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		if len(b) > 0 && rng.IntN(2) == 0 {
			b[0] = byte(rng.IntN(5))<<4 | 1 // a plausible header
		}
		forge(stranger, netip.MustParseAddrPort("10.0.0.2:2000"), b)
	}
	data := pattern(2<<20, 20)
	go sendAll(p.client, data, 20)
	client, server := netip.MustParseAddrPort("10.0.0.1:1000"), netip.MustParseAddrPort("10.0.0.2:2000")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			p.server.mu.Lock()
			ack, seq := p.server.seqNr, p.server.ackNr
			p.server.mu.Unlock()
			h := Header{ConnID: p.server.recvID, Wnd: 1 << 20}
			switch i % 6 {
			case 0: // acknowledges far more than was sent
				h.Type, h.Seq, h.Ack = TypeState, seq, ack+1000
			case 1: // data far beyond the window
				h.Type, h.Seq, h.Ack = TypeData, seq+5000, ack-1
			case 2: // a RESET that acknowledges nothing of ours
				h.Type, h.Seq, h.Ack = TypeReset, seq, ack+30000
			case 3: // a SYN for the connection
				h.Type, h.Seq = TypeSyn, seq
			case 4: // a FIN far ahead
				h.Type, h.Seq, h.Ack = TypeFin, seq+9000, ack-1
			case 5: // an extension chain that runs off the end
				b := append(h.Append(nil), 1, 200, 1, 2)
				b[0] = byte(TypeState)<<4 | 1
				b[1] = 1
				forge(client, server, b)
				continue
			}
			forge(client, server, append(h.Append(nil), "forged"...))
			time.Sleep(200 * time.Microsecond)
		}
	}()
	expect(t, p.server, data, 30*time.Second)
	close(stop)
	wg.Wait()
	st := p.b.Stats()
	if st.Invalid == 0 || st.Unknown == 0 || st.Accepted != 1 {
		t.Fatalf("socket stats: %+v", st)
	}
	if cs := p.server.Stats(); cs.Ignored == 0 {
		t.Fatalf("no forged packet was ignored: %+v", cs)
	}
}

// TestSynFloodNoState: thousands of SYNs from many ports leave no state;
// each gets at most one reply no larger than itself.
func TestSynFloodNoState(t *testing.T) {
	n := newMemNet(t, 22, link{})
	s := startSocket(t, n.host("10.0.0.2:2000"), Config{})
	var mu sync.Mutex
	replies, replyBytes := 0, 0
	const syns = 3000
	for i := range syns {
		from := netip.AddrPortFrom(netip.MustParseAddr("10.0.0.66"), uint16(1000+i%500))
		if n.hosts[from] == nil {
			h := n.host(from.String())
			h.sink = func(b []byte, _ netip.AddrPort) {
				mu.Lock()
				replies++
				replyBytes += len(b)
				mu.Unlock()
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); h.serve(ctx, nil) }()
			t.Cleanup(func() { cancel(); <-done })
		}
		n.send(Header{Type: TypeSyn, ConnID: uint16(i), Seq: uint16(i * 7)}.Append(nil), from, s.tr.LocalAddr().(*net.UDPAddr).AddrPort(), false)
	}
	waitFor(t, "the SYNs to be handled and answered", 10*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		st := s.Stats()
		return st.Syns == syns && uint64(replies)+st.SynsDropped >= syns
	})
	time.Sleep(50 * time.Millisecond) // room for a reply too many to show
	mu.Lock()
	defer mu.Unlock()
	st := s.Stats()
	if st.Conns != 0 || st.Backlog != 0 {
		t.Fatalf("the flood left state: %+v", st)
	}
	if replies > syns || replyBytes > syns*HeaderLen {
		t.Fatalf("%d replies of %d bytes to %d SYNs of %d bytes", replies, replyBytes, syns, syns*HeaderLen)
	}
	if uint64(replies)+st.SynsDropped != syns {
		t.Fatalf("%d replies and %d dropped for %d SYNs", replies, st.SynsDropped, syns)
	}
}

// TestZeroWindowForever: a peer that accepts our connection and then
// advertises a window of zero forever, acknowledging every probe, holds
// at most the send buffer of our memory and gets at most one probe per
// timeout; the writer times out.
func TestZeroWindowForever(t *testing.T) {
	n := newMemNet(t, 23, link{})
	s := startSocket(t, n.host("10.0.0.1:1000"), Config{SendBuffer: 64 << 10})
	peer := newRawPeer(t, n, "10.0.0.2:2000", netip.MustParseAddrPort("10.0.0.1:1000"))
	var mu sync.Mutex
	var ourSeq, probes int
	var myID uint16
	peer.mu.Lock()
	peer.recv = func(h Header, payload []byte) {
		mu.Lock()
		defer mu.Unlock()
		switch h.Type {
		case TypeSyn:
			myID = h.ConnID
			ourSeq = int(h.Seq)
			peer.send(Header{Type: TypeState, ConnID: myID, Seq: 500, Ack: h.Seq, Wnd: 0}, nil)
		case TypeData:
			probes++
			// Drop it, acknowledge what we have: nothing new, window 0.
			peer.send(Header{Type: TypeState, ConnID: myID, Seq: 500, Ack: uint16(ourSeq), Wnd: 0}, nil)
		}
	}
	peer.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := s.Dial(ctx, netip.MustParseAddrPort("10.0.0.2:2000"))
	if err != nil {
		t.Fatal(err)
	}
	c.SetWriteDeadline(time.Now().Add(3 * time.Second))
	written, err := c.Write(make([]byte, 10<<20))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("write: %v", err)
	}
	st := c.Stats()
	mu.Lock()
	defer mu.Unlock()
	t.Logf("wrote %d bytes, %d probes in 3 s; %+v", written, probes, st)
	if written > 64<<10+st.PacketSize || st.Unsent > 64<<10 || st.InFlight > st.PacketSize {
		t.Fatalf("memory grew: wrote %d, unsent %d, in flight %d", written, st.Unsent, st.InFlight)
	}
	if probes == 0 || probes > 12 { // about one per RTO (500 ms)
		t.Fatalf("%d probes in 3 s", probes)
	}
	if c.Stats().PacketsReceived == 0 || s.Stats().Conns != 1 {
		t.Fatal("the connection did not stay up")
	}
}

// TestReorderFlood: a peer sends data that can never be delivered in
// order (the first packet never comes), out of order and duplicated,
// and far ahead: what the receiver holds stays within its window and the
// socket's budget, and the excess is dropped or ignored.
func TestReorderFlood(t *testing.T) {
	n := newMemNet(t, 24, link{})
	const window = 256 << 10
	s := startSocket(t, n.host("10.0.0.1:1000"), Config{RecvWindow: window, RecvBudget: 1 << 20})
	target := netip.MustParseAddrPort("10.0.0.1:1000")
	var conns []*Conn
	for k := range 6 {
		peer := newRawPeer(t, n, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 1, byte(k)}), 3000).String(), target)
		id, seq := uint16(100*k), uint16(40000)
		ours := peer.open(t, id, seq)
		c, err := s.AcceptUTP()
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		rng := rand.New(rand.NewPCG(uint64(k), 24))
		payload := make([]byte, 1400)
		for range 3000 {
			ahead := uint16(2 + rng.IntN(2000)) // seq+1 never comes
			peer.send(Header{Type: TypeData, ConnID: id + 1, Seq: seq + ahead, Ack: ours - 1, Wnd: 1 << 20}, payload)
		}
		for range 50 { // far ahead of any window
			peer.send(Header{Type: TypeData, ConnID: id + 1, Seq: seq + 30000, Ack: ours - 1, Wnd: 1 << 20}, payload)
		}
	}
	waitFor(t, "the flood to be handled", 20*time.Second, func() bool {
		return s.Stats().PacketsIn >= 6*(3050+2)
	})
	total := 0
	for _, c := range conns {
		st := c.Stats()
		c.mu.Lock()
		held, count := c.held, c.reorder.count
		c.mu.Unlock()
		total += held
		if held > window || count > c.maxReorder || st.Dropped == 0 || st.Duplicates == 0 || st.Ignored == 0 {
			t.Fatalf("%v holds %d bytes in %d packets: %+v", c, held, count, st)
		}
	}
	if st := s.Stats(); st.RecvHeld != total || total > 1<<20+6*(64<<10) {
		t.Fatalf("the socket holds %d bytes (connections %d)", st.RecvHeld, total)
	}
	for _, c := range conns {
		c.Close()
	}
	if st := s.Stats(); st.RecvHeld != 0 {
		t.Fatalf("%d bytes still held after Close", st.RecvHeld)
	}
}

// TestConnLimits: a third connection from one address is refused, at
// once, with a RESET; so is one past the total.
func TestConnLimits(t *testing.T) {
	n := newMemNet(t, 25, link{})
	s := startSocket(t, n.host("10.0.0.1:1000"), Config{MaxConnsPerIP: 2, MaxConns: 3})
	target := netip.MustParseAddrPort("10.0.0.1:1000")
	dial := func(addr string) error {
		d := startSocket(t, n.host(addr), Config{})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := d.Dial(ctx, target)
		if err == nil {
			c.Write([]byte("hi")) // completes the handshake on the far side
			_, err = s.AcceptUTP()
		}
		return err
	}
	for _, a := range []string{"10.0.0.2:1", "10.0.0.2:2"} {
		if err := dial(a); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	if err := dial("10.0.0.2:3"); !errors.Is(err, ErrRefused) || time.Since(start) > time.Second {
		t.Fatalf("third from one address: %v after %v", err, time.Since(start))
	}
	if err := dial("10.0.0.3:1"); err != nil {
		t.Fatal(err)
	}
	if err := dial("10.0.0.4:1"); !errors.Is(err, ErrRefused) {
		t.Fatalf("past the total: %v", err)
	}
	if st := s.Stats(); st.Conns != 3 || st.Refused != 2 {
		t.Fatalf("%+v", st)
	}
}
