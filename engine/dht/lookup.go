package dht

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// Candidate states in a lookup.
const (
	fresh = iota
	waiting
	answered
	failed
)

// candidate is a node a lookup knows of.
type candidate struct {
	krpc.NodeInfo
	idKnown bool // false for bootstrap contacts until they answer
	state   int
	sentAt  time.Time
	slow    bool   // waiting for longer than slowAfter: no longer counts against alpha
	token   []byte // from its get_peers reply
}

// lookup is one iterative lookup (BEP 5): it asks the closest nodes it
// knows for closer ones, alpha queries in flight, until the K closest
// nodes have answered. It runs on its caller's goroutine.
type lookup struct {
	n         *Node
	target    ID
	method    string                 // find_node or get_peers
	onPeers   func([]netip.AddrPort) // get_peers: new peers, deduplicated
	cands     []*candidate           // unknown IDs first, then by distance to target
	byAddr    map[netip.AddrPort]*candidate
	peers     map[netip.AddrPort]bool
	results   chan result
	slowAfter time.Duration
	waiting   int // queries sent, not yet answered or failed
	active    int // waiting and not slow
	sent      int
	answers   int
}

// lookup runs an iterative lookup of target with method, starting from
// the routing table (and the resolved bootstrap contacts while the table
// is small). It returns the closest nodes that answered, up to K.
func (n *Node) lookup(ctx context.Context, target ID, method string, onPeers func([]netip.AddrPort)) ([]*candidate, error) {
	var seeds []netip.AddrPort
	var start []krpc.NodeInfo
	find := func() bool {
		start = n.table.Closest(target, 2*K, false, time.Now())
		seeds = n.seedAddrs()
		return len(start) > 0 || len(seeds) > 0
	}
	for !find() {
		// Nothing to start from yet: wait for the bootstrap (or anything
		// else) to make a node known, looking again once the wake-up is
		// registered so that a change in between is not missed.
		changed := n.waitNodes()
		if find() {
			break
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for DHT nodes: %w", ctx.Err())
		case <-n.done:
			return nil, ErrClosed
		case <-changed:
		}
	}
	if len(start) >= K {
		seeds = nil // the contacts are for a small table
	}
	return n.lookupFrom(ctx, target, method, onPeers, start, seeds)
}

// lookupFrom runs a lookup of target with method from the given nodes and
// contacts only.
func (n *Node) lookupFrom(ctx context.Context, target ID, method string, onPeers func([]netip.AddrPort),
	nodes []krpc.NodeInfo, addrs []netip.AddrPort) ([]*candidate, error) {
	l := &lookup{
		n: n, target: target, method: method, onPeers: onPeers,
		byAddr:    map[netip.AddrPort]*candidate{},
		peers:     map[netip.AddrPort]bool{},
		results:   make(chan result, maxLookupQueries),
		slowAfter: n.cfg.QueryTimeout / 4,
	}
	for _, c := range nodes {
		l.add(c, true)
	}
	for _, a := range addrs {
		l.add(krpc.NodeInfo{Addr: a}, false)
	}
	l.sort()
	return l.run(ctx)
}

func (l *lookup) add(c krpc.NodeInfo, idKnown bool) {
	if !usableAddr(c.Addr) || l.byAddr[c.Addr] != nil || idKnown && c.ID == l.n.table.Self() {
		return
	}
	x := &candidate{NodeInfo: c, idKnown: idKnown}
	l.cands = append(l.cands, x)
	l.byAddr[c.Addr] = x
}

func (l *lookup) sort() {
	slices.SortStableFunc(l.cands, func(a, b *candidate) int {
		if a.idKnown != b.idKnown {
			if !a.idKnown {
				return -1
			}
			return 1
		}
		return distanceCmp(a.ID, b.ID, l.target)
	})
	// Keep the list bounded: drop the farthest nodes not yet asked.
	const maxCands = 16 * K
	if len(l.cands) > maxCands {
		keep := l.cands[:0]
		for i, c := range l.cands {
			if i < maxCands || c.state != fresh {
				keep = append(keep, c)
			} else {
				delete(l.byAddr, c.Addr)
			}
		}
		clear(l.cands[len(keep):])
		l.cands = keep
	}
}

func (l *lookup) run(ctx context.Context) ([]*candidate, error) {
	l.n.lookups.Add(1)
	defer l.n.lookups.Add(-1)
	timer := time.NewTimer(l.slowAfter)
	defer timer.Stop()
	for {
		// Slow queries are not waited for once some node has answered;
		// before that, they are all there is to wait for.
		done := l.fill()
		if l.waiting == 0 || done && l.answers > 0 {
			break
		}
		select {
		case r := <-l.results:
			l.handle(r)
		case <-timer.C:
			l.markSlow(time.Now())
			timer.Reset(l.slowAfter / 4)
		case <-ctx.Done():
			return l.closest(), ctx.Err()
		case <-l.n.done:
			return l.closest(), ErrClosed
		}
	}
	if l.answers == 0 {
		return nil, ErrNoNodes
	}
	return l.closest(), nil
}

// fill sends queries to the closest fresh candidates while fewer than
// alpha are active, and reports whether the lookup is done: none of the
// candidates closer than the K-th closest that answered is still to be
// asked or waited for (slow queries aside).
func (l *lookup) fill() (done bool) {
	answeredSeen := 0
	pending := false
	for _, c := range l.cands {
		if answeredSeen >= K {
			break
		}
		switch c.state {
		case answered:
			answeredSeen++
		case waiting:
			pending = pending || !c.slow
		case fresh:
			if l.sent >= maxLookupQueries {
				break
			}
			if l.active < alpha {
				l.ask(c)
			}
			pending = pending || c.state != failed
		}
	}
	return !pending
}

func (l *lookup) ask(c *candidate) {
	q := krpc.Msg{Q: l.method}
	if l.method == krpc.MethodGetPeers {
		q.A.InfoHash = l.target
	} else {
		q.A.Target = l.target
	}
	var want ID
	if c.idKnown {
		want = c.ID
	}
	c.sentAt = time.Now()
	l.sent++
	if _, err := l.n.send(c.Addr, want, l.n.padded(q, c.Addr), func(r result) { l.results <- r }); err != nil {
		c.state = failed
		return
	}
	c.state = waiting
	l.waiting++
	l.active++
}

func (l *lookup) markSlow(now time.Time) {
	for _, c := range l.cands {
		if c.state == waiting && !c.slow && now.Sub(c.sentAt) >= l.slowAfter {
			c.slow = true
			l.active--
		}
	}
}

func (l *lookup) handle(r result) {
	c := l.byAddr[r.from]
	if c == nil || c.state != waiting {
		return
	}
	l.waiting--
	if !c.slow {
		l.active--
	}
	if r.err != nil || r.msg.Y != krpc.KindResponse || r.msg.R.ID == l.n.table.Self() {
		c.state = failed // (a contact that turns out to be ourselves is no use)
		return
	}
	c.state = answered
	l.answers++
	c.token = r.msg.R.Token
	if !c.idKnown || c.ID != r.msg.R.ID {
		c.ID, c.idKnown = r.msg.R.ID, true
	}
	for _, nc := range r.msg.R.Nodes {
		l.add(nc, true)
	}
	if l.onPeers != nil && len(r.msg.R.Values) > 0 {
		var fresh []netip.AddrPort
		for _, p := range r.msg.R.Values {
			if usableAddr(p) && !l.peers[p] {
				l.peers[p] = true
				fresh = append(fresh, p)
			}
		}
		if len(fresh) > 0 {
			l.onPeers(fresh)
		}
	}
	l.sort()
}

// closest returns the K closest candidates that answered.
func (l *lookup) closest() []*candidate {
	var out []*candidate
	for _, c := range l.cands {
		if c.state == answered && c.idKnown {
			out = append(out, c)
			if len(out) == K {
				break
			}
		}
	}
	return out
}

// GetPeers looks up the peers of infoHash: an iterative get_peers lookup
// (alpha queries in flight, ending when the K closest nodes have answered
// or ctx ends) that calls found, from the calling goroutine, with the new
// peers of each reply (never the same peer twice in one call of
// GetPeers). Then, if announcePort > 0, it announces us on that TCP port
// to the K closest nodes that gave a token; with announcePort < 0 it
// announces with implied_port (the port our UDP packets come from, which
// a NAT may have rewritten). It fails if no node answered, or if none
// accepted the announce.
func (n *Node) GetPeers(ctx context.Context, infoHash [20]byte, announcePort int, found func([]netip.AddrPort)) error {
	if n.cfg.Router {
		return ErrRouter
	}
	closest, err := n.lookup(ctx, infoHash, krpc.MethodGetPeers, found)
	if err != nil {
		return fmt.Errorf("looking up peers of %x: %w", infoHash, err)
	}
	if announcePort == 0 {
		return nil
	}
	if err := n.announce(ctx, infoHash, announcePort, closest); err != nil {
		return fmt.Errorf("announcing %x: %w", infoHash, err)
	}
	return nil
}

// announce sends announce_peer to the nodes that gave a token and waits
// for their answers.
func (n *Node) announce(ctx context.Context, ih ID, port int, nodes []*candidate) error {
	out := make(chan result, len(nodes))
	sent := 0
	for _, c := range nodes {
		if len(c.token) == 0 {
			continue
		}
		q := krpc.Msg{Q: krpc.MethodAnnouncePeer, A: krpc.Args{InfoHash: ih, Token: c.token, Port: port}}
		if port < 0 {
			q.A.Port, q.A.ImpliedPort = 0, true
		}
		if _, err := n.send(c.Addr, c.ID, q, func(r result) { out <- r }); err == nil {
			sent++
		}
	}
	if sent == 0 {
		return errors.New("no node gave a token")
	}
	ok := 0
	var lastErr error
	for range sent {
		select {
		case r := <-out:
			switch {
			case r.err != nil:
				lastErr = r.err
			case r.msg.Y == krpc.KindError:
				lastErr = r.msg.E
			default:
				ok++
			}
		case <-ctx.Done():
			if ok > 0 {
				return nil
			}
			return ctx.Err()
		case <-n.done:
			return ErrClosed
		}
	}
	if ok == 0 {
		return fmt.Errorf("no node accepted it: %w", lastErr)
	}
	return nil
}
