package utp

import (
	"container/heap"
	"context"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"time"
)

// memNet is an in-memory packet network for unit tests: a fake, used
// because no real network here can delay, drop, reorder and duplicate
// packets on demand (this kernel has no netem). The real counterpart,
// libtorrent over loopback, is in libtorrent_test.go.
type memNet struct {
	mu     sync.Mutex
	rng    *rand.Rand
	hosts  map[netip.AddrPort]*memHost
	link   link
	sent   int // packets offered to the network
	lost   int
	queue  inFlight // packets on their way, by delivery time
	order  uint64   // tie-breaker: same time, first sent first
	wakeup chan struct{}
}

// flying is a packet on its way.
type flying struct {
	at    time.Time
	order uint64
	dst   *memHost
	p     memPacket
}

// inFlight is a heap of packets by delivery time, then sending order.
type inFlight []flying

func (q inFlight) Len() int { return len(q) }
func (q inFlight) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].order < q[j].order
}
func (q inFlight) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *inFlight) Push(x any)   { *q = append(*q, x.(flying)) }
func (q *inFlight) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// link describes what the network does to each packet.
type link struct {
	Delay   time.Duration // one way
	Jitter  time.Duration // extra random delay up to this, which reorders
	Loss    float64       // probability a packet is dropped
	Dup     float64       // probability a packet is delivered twice
	PathMTU int           // packets larger than this sent with don't-fragment are dropped
	TooBig  int           // don't-fragment sends larger than this fail with EMSGSIZE
	// Drop, if set, decides on each packet too (after the random loss).
	Drop func(b []byte, from, to netip.AddrPort) bool
}

type memPacket struct {
	b    []byte
	from netip.AddrPort
}

// memHost is one address on a memNet: a Transport for a Socket.
type memHost struct {
	net  *memNet
	addr netip.AddrPort
	in   chan memPacket
	sink func(b []byte, from netip.AddrPort) // replaces the socket when set
}

// newMemNet starts a network whose packets travel as l says, until the
// test ends. Packets sent with the same delay arrive in the order sent.
func newMemNet(t testing.TB, seed uint64, l link) *memNet {
	n := &memNet{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), hosts: map[netip.AddrPort]*memHost{}, link: l, wakeup: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); n.deliver(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return n
}

// deliver hands packets to their hosts when their time comes.
func (n *memNet) deliver(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		n.mu.Lock()
		now := time.Now()
		var due []flying
		for n.queue.Len() > 0 && !n.queue[0].at.After(now) {
			due = append(due, heap.Pop(&n.queue).(flying))
		}
		wait := time.Hour
		if n.queue.Len() > 0 {
			wait = n.queue[0].at.Sub(now)
		}
		n.mu.Unlock()
		for _, f := range due {
			f.dst.push(f.p)
		}
		if len(due) > 0 {
			continue
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-n.wakeup:
		case <-timer.C:
		}
	}
}

func (n *memNet) host(addr string) *memHost {
	h := &memHost{net: n, addr: netip.MustParseAddrPort(addr), in: make(chan memPacket, 8192)}
	n.mu.Lock()
	n.hosts[h.addr] = h
	n.mu.Unlock()
	return h
}

func (n *memNet) setLink(l link) {
	n.mu.Lock()
	n.link = l
	n.mu.Unlock()
}

func (h *memHost) LocalAddr() net.Addr { return net.UDPAddrFromAddrPort(h.addr) }

func (h *memHost) WriteToUDPAddrPort(b []byte, to netip.AddrPort) (int, error) {
	return h.net.send(b, h.addr, to, false)
}

func (h *memHost) WriteToUDPAddrPortDF(b []byte, to netip.AddrPort) (int, error) {
	return h.net.send(b, h.addr, to, true)
}

// send delivers a copy of b to the host at to, as the link decides.
func (n *memNet) send(b []byte, from, to netip.AddrPort, df bool) (int, error) {
	n.mu.Lock()
	l := n.link
	if df && l.TooBig > 0 && len(b) > l.TooBig {
		n.mu.Unlock()
		return 0, syscall.EMSGSIZE
	}
	n.sent++
	dst := n.hosts[to]
	drop := dst == nil || n.rng.Float64() < l.Loss || (df && l.PathMTU > 0 && len(b) > l.PathMTU)
	copies := 1
	if n.rng.Float64() < l.Dup {
		copies = 2
	}
	delays := make([]time.Duration, copies)
	for i := range delays {
		delays[i] = l.Delay
		if l.Jitter > 0 {
			delays[i] += time.Duration(n.rng.Int64N(int64(l.Jitter)))
		}
	}
	if drop {
		n.lost++
	}
	n.mu.Unlock()
	if drop || (l.Drop != nil && l.Drop(b, from, to)) {
		return len(b), nil
	}
	now := time.Now()
	n.mu.Lock()
	for _, d := range delays {
		n.order++
		heap.Push(&n.queue, flying{at: now.Add(d), order: n.order, dst: dst, p: memPacket{b: append([]byte(nil), b...), from: from}})
	}
	n.mu.Unlock()
	select {
	case n.wakeup <- struct{}{}:
	default:
	}
	return len(b), nil
}

func (h *memHost) push(p memPacket) {
	select {
	case h.in <- p:
	default: // the receive buffer is full: dropped, as by a kernel
	}
}

// serve feeds the host's packets to s (or to the sink) until ctx ends.
func (h *memHost) serve(ctx context.Context, s *Socket) {
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-h.in:
			if h.sink != nil {
				h.sink(p.b, p.from)
				continue
			}
			s.HandlePacket(p.b, p.from)
			if len(h.in) == 0 {
				s.Drained()
			}
		}
	}
}

// startSocket runs a Socket on host h until the test ends.
func startSocket(t testing.TB, h *memHost, cfg Config) *Socket {
	t.Helper()
	cfg.Transport = h
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.Serve(ctx) }()
	go func() { defer wg.Done(); h.serve(ctx, s) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	for !s.serving.Load() {
		time.Sleep(time.Millisecond)
	}
	return s
}

// pair is two sockets on one memNet and a connection between them.
type pair struct {
	net            *memNet
	a, b           *Socket
	client, server *Conn
}

// connectPair starts two sockets on a network with link l and connects
// the first to the second.
func connectPair(t testing.TB, seed uint64, l link, cfg Config) *pair {
	t.Helper()
	n := newMemNet(t, seed, l)
	p := &pair{net: n}
	p.a = startSocket(t, n.host("10.0.0.1:1000"), cfg)
	p.b = startSocket(t, n.host("10.0.0.2:2000"), cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	p.client, err = p.a.Dial(ctx, netip.MustParseAddrPort("10.0.0.2:2000"))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	p.server, err = p.b.AcceptUTP()
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	t.Cleanup(func() { p.client.Close(); p.server.Close() })
	return p
}
