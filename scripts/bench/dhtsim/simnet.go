package main

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// netConfig describes the simulated internet.
type netConfig struct {
	// Delay is the mean one-way delay between two random hosts (so the
	// mean round trip is twice it).
	Delay time.Duration
	// Loss is the probability that a packet is lost on its way.
	Loss float64
	// NATTimeout is how long a NAT lets answers in from an address its
	// host last sent to.
	NATTimeout time.Duration
	// InboxLen bounds the packets waiting in a host's socket buffer;
	// UplinkLen bounds the packets a host has on their way at once.
	InboxLen, UplinkLen int
	// NATLen bounds the mappings a NAT keeps.
	NATLen int
	// Shards is the number of delay-line heaps, each drained by one
	// goroutine.
	Shards int
}

// Where the one-way delay of a pair comes from: each host has an access
// delay (its last mile, uniform in [0, 2 accessShare x Delay)), and the
// rest grows with the distance between the hosts' random points in the
// unit square (whose mean for two random points is meanDistance).
const (
	accessShare  = 0.1
	meanDistance = 0.5214
	jitterShare  = 0.05 // each packet: up to this much more, uniform
)

// dropCause says why the network lost a packet.
type dropCause int

const (
	delivered  dropCause = iota
	dropNoHost           // nobody holds the address (a departed node)
	dropGone             // the host left while the packet was on its way
	dropNAT              // the host's NAT dropped an unsolicited packet
	dropInbox            // the host's socket buffer was full
	dropUplink           // the sender had too many packets on their way
	dropLoss             // random loss on the path
	causes
)

var causeNames = [causes]string{"delivered", "to nobody", "host left", "NAT", "inbox full", "uplink full", "random loss"}

// Kinds of packets, for the traffic figures.
const (
	kindPing = iota
	kindFindNode
	kindGetPeers
	kindAnnounce
	kindResponse
	kindError
	kindOther
	kinds
)

var kindNames = [kinds]string{"ping", "find_node", "get_peers", "announce_peer", "responses", "errors", "other"}

// kindMarks are the bencoded keys that tell the kinds apart.
var kindMarks = [kindOther][]byte{
	[]byte("1:q4:ping"), []byte("1:q9:find_node"), []byte("1:q9:get_peers"), []byte("1:q13:announce_peer"),
	[]byte("1:y1:r"), []byte("1:y1:e"),
}

// kindOf tells a KRPC packet's kind without decoding it (the marks could
// occur inside an ID or a token by chance: rare enough for statistics).
func kindOf(b []byte) int {
	for k, m := range kindMarks {
		if bytes.Contains(b, m) {
			return k
		}
	}
	return kindOther
}

// Kinds returns the packets sent so far, by kind.
func (n *simNet) Kinds() (out [kinds]uint64) {
	for i := range out {
		out[i] = n.kinds[i].Load()
	}
	return out
}

// packet is a datagram on its way.
type packet struct {
	b        []byte
	from, to netip.AddrPort
	src, dst *host
	at       int64 // when it arrives, in nanoseconds since the network started
}

// simNet is the simulated internet: hosts with one UDP socket each, a
// fixed one-way delay per pair, NATs, bounded queues and a delay line of
// a few heaps, each drained by one goroutine (no goroutine or timer per
// packet). Safe for concurrent use.
type simNet struct {
	cfg   netConfig
	start time.Time

	// mu guards hosts.
	mu    sync.RWMutex
	hosts map[netip.AddrPort]*host

	shards []*delayShard
	next   atomic.Uint64 // round robin over the shards

	sent    atomic.Uint64
	kinds   [kinds]atomic.Uint64 // packets sent, by kind
	drops   [causes]atomic.Uint64
	late    histogram    // how late the delay line delivered (CPU starvation)
	latest  atomic.Int64 // the largest lateness since TakeWorstLate, in nanoseconds
	waiting histogram    // how long packets sat in an inbox before being read
}

func newSimNet(cfg netConfig) *simNet {
	n := &simNet{cfg: cfg, start: time.Now(), hosts: map[netip.AddrPort]*host{}}
	for range max(1, cfg.Shards) {
		n.shards = append(n.shards, &delayShard{wake: make(chan struct{}, 1), nextAt: math.MaxInt64})
	}
	return n
}

// now is the time since the network started, in nanoseconds.
func (n *simNet) now() int64 { return int64(time.Since(n.start)) }

// Run drains the delay line until ctx ends.
func (n *simNet) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, s := range n.shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.run(ctx, n)
		}()
	}
	wg.Wait()
}

// Attach makes a host at addr, at a random place, behind a NAT if natted.
func (n *simNet) Attach(addr netip.AddrPort, natted bool, rng *rand.Rand) *host {
	h := &host{
		net: n, addr: addr, natted: natted,
		x: rng.Float64(), y: rng.Float64(),
		access:   time.Duration(rng.Float64() * 2 * accessShare * float64(n.cfg.Delay)),
		signal:   make(chan struct{}, 1),
		closed:   make(chan struct{}),
		deadline: make(chan struct{}),
	}
	if natted {
		h.nat = map[netip.AddrPort]int64{}
	}
	n.mu.Lock()
	n.hosts[addr] = h
	n.mu.Unlock()
	return h
}

func (n *simNet) host(addr netip.AddrPort) *host {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.hosts[addr]
}

func (n *simNet) detach(h *host) {
	n.mu.Lock()
	if n.hosts[h.addr] == h {
		delete(n.hosts, h.addr)
	}
	n.mu.Unlock()
}

// oneWay is the fixed one-way delay from a to b (the same both ways).
func (n *simNet) oneWay(a, b *host) time.Duration {
	dist := math.Hypot(a.x-b.x, a.y-b.y)
	path := (1 - 2*accessShare) * float64(n.cfg.Delay) * dist / meanDistance
	return a.access + b.access + time.Duration(path)
}

// send puts a copy of b from src to addr on its way, or drops it.
func (n *simNet) send(src *host, b []byte, to netip.AddrPort) {
	n.sent.Add(1)
	n.kinds[kindOf(b)].Add(1)
	now := n.now()
	if src.watch != nil {
		src.watch.sent(b, to, now)
	}
	if n.cfg.Loss > 0 && rand.Float64() < n.cfg.Loss {
		n.drop(src, nil, b, dropLoss)
		return
	}
	dst := n.host(to)
	if dst == nil {
		n.drop(src, nil, b, dropNoHost)
		return
	}
	if src.inFlight.Add(1) > int64(n.cfg.UplinkLen) {
		src.inFlight.Add(-1)
		n.drop(src, dst, b, dropUplink)
		return
	}
	d := n.oneWay(src, dst)
	d += time.Duration(rand.Float64() * jitterShare * float64(d))
	p := &packet{b: append([]byte(nil), b...), from: src.addr, to: to, src: src, dst: dst, at: now + int64(d)}
	n.shards[n.next.Add(1)%uint64(len(n.shards))].push(p)
}

// deliver hands a due packet to its host, at now.
func (n *simNet) deliver(p *packet, now int64) {
	p.src.inFlight.Add(-1)
	n.late.add(time.Duration(now - p.at))
	cause := p.dst.receive(p, now)
	if cause != delivered {
		n.drop(p.src, p.dst, p.b, cause)
		return
	}
	n.drops[delivered].Add(1)
}

func (n *simNet) drop(src, dst *host, b []byte, cause dropCause) {
	n.drops[cause].Add(1)
	if src.watch != nil {
		src.watch.lostOut(b, cause)
	}
	if dst != nil && dst.watch != nil {
		dst.watch.lostIn(b, src.addr, cause)
	}
}

// Drops returns the packets sent and what became of them, by cause.
func (n *simNet) Drops() (sent uint64, byCause [causes]uint64) {
	for i := range byCause {
		byCause[i] = n.drops[i].Load()
	}
	return n.sent.Load(), byCause
}

// delayShard is one heap of the delay line, ordered by arrival time.
type delayShard struct {
	// mu guards heap and nextAt.
	mu     sync.Mutex
	heap   []*packet
	nextAt int64         // arrival of heap[0] as the goroutine last saw it
	wake   chan struct{} // one slot: an earlier packet came in
}

func (s *delayShard) push(p *packet) {
	s.mu.Lock()
	s.heap = append(s.heap, p)
	s.up(len(s.heap) - 1)
	earlier := p.at < s.nextAt
	if earlier {
		s.nextAt = p.at
	}
	s.mu.Unlock()
	if earlier {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// run delivers packets as they fall due until ctx ends.
func (s *delayShard) run(ctx context.Context, n *simNet) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var due []*packet
	for {
		now := n.now()
		s.mu.Lock()
		for len(s.heap) > 0 && s.heap[0].at <= now {
			due = append(due, s.pop())
		}
		s.nextAt = math.MaxInt64
		if len(s.heap) > 0 {
			s.nextAt = s.heap[0].at
		}
		next := s.nextAt
		s.mu.Unlock()
		for i, p := range due {
			n.deliver(p, now)
			due[i] = nil
		}
		if len(due) > 0 {
			due = due[:0]
			continue // more may have fallen due meanwhile
		}
		wait := time.Hour
		if next != math.MaxInt64 {
			wait = time.Duration(next - now)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-s.wake:
		}
	}
}

func (s *delayShard) up(i int) {
	h := s.heap
	for i > 0 {
		parent := (i - 1) / 2
		if h[parent].at <= h[i].at {
			return
		}
		h[parent], h[i] = h[i], h[parent]
		i = parent
	}
}

func (s *delayShard) pop() *packet {
	h := s.heap
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h[last] = nil
	h = h[:last]
	for i := 0; ; {
		l, r, small := 2*i+1, 2*i+2, i
		if l < len(h) && h[l].at < h[small].at {
			small = l
		}
		if r < len(h) && h[r].at < h[small].at {
			small = r
		}
		if small == i {
			break
		}
		h[i], h[small] = h[small], h[i]
		i = small
	}
	s.heap = h
	return top
}

// histogram counts durations in 1 ms steps up to 10 s. Safe for
// concurrent use.
type histogram struct {
	counts [10001]atomic.Uint64
}

func (h *histogram) add(d time.Duration) {
	ms := min(max(int(d/time.Millisecond), 0), len(h.counts)-1)
	h.counts[ms].Add(1)
}

// reset forgets the counts (not atomic with concurrent adds: good enough
// to start a measurement phase).
func (h *histogram) reset() {
	for i := range h.counts {
		h.counts[i].Store(0)
	}
}

// snapshot returns the counts, for quantileSince.
func (h *histogram) snapshot() []uint64 {
	out := make([]uint64, len(h.counts))
	for i := range h.counts {
		out[i] = h.counts[i].Load()
	}
	return out
}

// quantile returns the q-quantile (0..1), to the millisecond; 0 if empty.
func (h *histogram) quantile(q float64) time.Duration { return h.quantileSince(nil, q) }

// quantileSince is quantile over what was added since the snapshot
// before (nil: since the start).
func (h *histogram) quantileSince(before []uint64, q float64) time.Duration {
	counts := h.snapshot()
	for i := range before {
		counts[i] -= before[i]
	}
	var total uint64
	for _, c := range counts {
		total += c
	}
	if total == 0 {
		return 0
	}
	want := uint64(math.Ceil(q * float64(total)))
	var seen uint64
	for i, c := range counts {
		seen += c
		if seen >= max(want, 1) {
			return time.Duration(i) * time.Millisecond
		}
	}
	return time.Duration(len(h.counts)-1) * time.Millisecond
}
