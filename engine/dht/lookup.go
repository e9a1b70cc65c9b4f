package dht

import (
	"context"
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
	slow    bool   // waiting for longer than slowAfter: no longer counts against pathAlpha or alpha
	token   []byte // from its get_peers or get reply
	held    bool   // its get reply held an item, or a mutable item's seq (BEP 44)
}

// lookup is one iterative lookup (BEP 5): it asks the closest nodes it
// knows for closer ones until the K closest nodes have answered. It runs
// on its caller's goroutine.
//
// Every query it sends costs the network, and most of a lookup's
// queries in parallel are spent on the way to the target, where the
// first answer makes the others' nodes obsolete. So while answers bring
// new nodes closer than the closest that answered, pathAlpha queries are
// in flight; once an answer brings none (the lookup has reached the
// target's neighbourhood, whose K nodes must all be asked), alpha. In
// both phases no node is asked while K nodes closer than it have answered
// or are being asked: it could not be among the K closest unless one of
// them fails. A query unanswered after slowAfter frees its place for
// another (its answer is still used if it comes).
type lookup struct {
	n         *Node
	fam       family
	want      []string    // BEP 32 `want`, when the other family's nodes are wanted too
	leaked    int         // nodes of the other family pinged
	scrape    *scrapeSum  // BEP 33: ask for filters and add them here; nil: no scrape
	items     *itemSearch // BEP 44 get: what the replies hold goes here
	target    ID
	method    string                 // find_node, get_peers or get
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
	converged bool // an answer brought no new node closer than the closest that answered
}

// start is where a lookup in one family starts: nodes of its table and,
// while the table is small, the resolved bootstrap contacts.
type start struct {
	nodes []krpc.NodeInfo
	seeds []netip.AddrPort
}

// starts returns where a lookup of target starts in each family served,
// waiting until at least one family has a node or a contact.
func (n *Node) starts(ctx context.Context, target ID) ([2]start, error) {
	var st [2]start
	find := func() bool {
		any := false
		for _, f := range families {
			t := n.tables[f]
			if t == nil {
				continue
			}
			st[f] = start{nodes: t.Closest(target, 2*K, false, time.Now()), seeds: n.seedAddrs(f)}
			if len(st[f].nodes) >= K {
				st[f].seeds = nil // the contacts are for a small table
			}
			any = any || len(st[f].nodes) > 0 || len(st[f].seeds) > 0
		}
		return any
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
			return st, fmt.Errorf("waiting for DHT nodes: %w", ctx.Err())
		case <-n.done:
			return st, ErrClosed
		case <-changed:
		}
	}
	return st, nil
}

// lookup runs an iterative lookup of target with method in every family
// that has something to start from, and returns the closest nodes that
// answered, up to K, whatever their family.
func (n *Node) lookup(ctx context.Context, target ID, method string, onPeers func([]netip.AddrPort)) ([]*candidate, error) {
	var out []*candidate
	var lastErr error
	err := n.eachFamily(ctx, target, method, onPeers, nil, nil, func(f family, closest []*candidate, err error) {
		out = append(out, closest...)
		if err != nil {
			lastErr = err
		}
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, lastErr
	}
	slices.SortStableFunc(out, func(a, b *candidate) int { return distanceCmp(a.ID, b.ID, target) })
	return out[:min(K, len(out))], nil
}

// eachFamily runs a lookup of target in each family that has a node or a
// contact to start from (waiting for one), in parallel, and calls done
// with each family's outcome, then returns. onPeers and done are called
// from the calling goroutine. With sc, the get_peers queries ask for BEP
// 33's filters, which go into sc; with items, the get replies' items go
// there (BEP 44).
func (n *Node) eachFamily(ctx context.Context, target ID, method string, onPeers func([]netip.AddrPort),
	sc *scrapeSum, items *itemSearch, done func(f family, closest []*candidate, err error)) error {
	st, err := n.starts(ctx, target)
	if err != nil {
		return err
	}
	type outcome struct {
		f       family
		closest []*candidate
		err     error
	}
	peers := make(chan []netip.AddrPort, 64) // (room while done runs)
	outcomes := make(chan outcome, len(families))
	running := 0
	for _, f := range families {
		if n.tables[f] == nil || len(st[f].nodes) == 0 && len(st[f].seeds) == 0 {
			continue
		}
		running++
		go func() {
			var deliver func([]netip.AddrPort)
			if onPeers != nil {
				deliver = func(p []netip.AddrPort) {
					select {
					case peers <- p:
					case <-ctx.Done():
					}
				}
			}
			l := n.newLookup(f, target, method, deliver, st[f].nodes, st[f].seeds)
			l.scrape, l.items = sc, items
			c, err := l.run(ctx)
			outcomes <- outcome{f, c, err}
		}()
	}
	for running > 0 {
		select {
		case p := <-peers:
			onPeers(p)
		case o := <-outcomes:
			running--
			done(o.f, o.closest, o.err)
		}
	}
	for { // every lookup has ended: what they sent is all here
		select {
		case p := <-peers:
			onPeers(p)
		default:
			return nil
		}
	}
}

// lookupFrom runs a lookup of target with method in family f, from the
// given nodes and contacts only.
func (n *Node) lookupFrom(ctx context.Context, f family, target ID, method string, onPeers func([]netip.AddrPort),
	nodes []krpc.NodeInfo, addrs []netip.AddrPort) ([]*candidate, error) {
	return n.newLookup(f, target, method, onPeers, nodes, addrs).run(ctx)
}

// newLookup prepares a lookup of target with method in family f, from the
// given nodes and contacts.
func (n *Node) newLookup(f family, target ID, method string, onPeers func([]netip.AddrPort),
	nodes []krpc.NodeInfo, addrs []netip.AddrPort) *lookup {
	l := &lookup{
		n: n, fam: f, target: target, method: method, onPeers: onPeers,
		byAddr:    map[netip.AddrPort]*candidate{},
		peers:     map[netip.AddrPort]bool{},
		results:   make(chan result, maxLookupQueries),
		slowAfter: n.cfg.QueryTimeout / 4,
	}
	// BEP 32: while the other family's table is thin, ask for its nodes
	// too, and ping those we hear of so that they may enter it.
	if o := n.tables[f.other()]; o != nil {
		if g, _, _ := o.Counts(time.Now()); g < K {
			l.want = []string{f.want(), f.other().want()}
		}
	}
	for _, c := range nodes {
		l.add(c, true)
	}
	for _, a := range addrs {
		l.add(krpc.NodeInfo{Addr: a}, false)
	}
	l.sort()
	return l
}

func (l *lookup) add(c krpc.NodeInfo, idKnown bool) bool {
	if !usableAddr(c.Addr) || familyOf(c.Addr.Addr()) != l.fam || l.byAddr[c.Addr] != nil || idKnown && c.ID == l.n.ID() {
		return false
	}
	x := &candidate{NodeInfo: c, idKnown: idKnown}
	l.cands = append(l.cands, x)
	l.byAddr[c.Addr] = x
	return true
}

// closestAnswered returns the ID of the closest node that answered.
func (l *lookup) closestAnswered() ID {
	var best ID
	found := false
	for _, c := range l.cands {
		if c.state == answered && c.idKnown && (!found || distanceCmp(c.ID, best, l.target) < 0) {
			best, found = c.ID, true
		}
	}
	return best
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
// pathAlpha (alpha once converged) are active and fewer than K closer
// candidates have answered or are active, and reports whether the lookup
// is done: none of the candidates closer than the K-th closest that
// answered is still to be asked or waited for (slow queries aside).
func (l *lookup) fill() (done bool) {
	answeredSeen, ahead := 0, 0
	pending := false
	limit := pathAlpha
	if l.converged {
		limit = alpha
	}
	for _, c := range l.cands {
		if answeredSeen >= K {
			break
		}
		switch c.state {
		case answered:
			answeredSeen++
			ahead++
		case waiting:
			if !c.slow {
				pending = true
				ahead++
			}
		case fresh:
			if l.sent >= maxLookupQueries {
				break
			}
			if l.active < limit && ahead < K {
				l.ask(c)
				if c.state == waiting {
					ahead++
				}
			}
			pending = pending || c.state != failed
		}
	}
	return !pending
}

func (l *lookup) ask(c *candidate) {
	q := krpc.Msg{Q: l.method, A: krpc.Args{Want: l.want}}
	switch {
	case l.method == krpc.MethodGetPeers:
		q.A.InfoHash, q.A.Scrape = l.target, l.scrape != nil
	case l.method == krpc.MethodGet && l.items != nil:
		q.A.Target, q.A.Seq = l.target, l.items.above
	default:
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
	if r.err != nil || r.msg.Y != krpc.KindResponse || r.msg.R.ID == l.n.ID() {
		c.state = failed // (a contact that turns out to be ourselves is no use)
		return
	}
	c.state = answered
	l.answers++
	c.token = r.msg.R.Token
	if !c.idKnown || c.ID != r.msg.R.ID {
		c.ID, c.idKnown = r.msg.R.ID, true
	}
	if l.scrape != nil {
		l.scrape.add(r.msg.R)
	}
	if l.items != nil {
		c.held = l.items.add(r.msg.R)
	}
	own, other := r.msg.R.Nodes, r.msg.R.Nodes6
	if l.fam == ipv6 {
		own, other = other, own
	}
	// Progress: a node not known before, closer than any that answered
	// (this one included).
	best := l.closestAnswered()
	progress := false
	for _, nc := range own {
		if l.add(nc, true) && distanceCmp(nc.ID, best, l.target) < 0 {
			progress = true
		}
	}
	if !progress {
		l.converged = true
	}
	if l.want != nil {
		l.leak(other)
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

// leak pings nodes of the other family heard of in a reply (BEP 32
// bootstrapping), at most 2K per lookup and only while that family's
// table is thin: those that answer enter its table.
func (l *lookup) leak(nodes []krpc.NodeInfo) {
	t := l.n.tables[l.fam.other()]
	if t == nil {
		return
	}
	for _, c := range nodes {
		if l.leaked >= 2*K {
			return
		}
		if g, _, _ := t.Counts(time.Now()); g >= K {
			return
		}
		if !usableAddr(c.Addr) || familyOf(c.Addr.Addr()) == l.fam || c.ID == l.n.ID() || t.Has(c.Addr) {
			continue
		}
		l.leaked++
		l.n.send(c.Addr, c.ID, krpc.Msg{Q: krpc.MethodPing}, nil)
	}
}
