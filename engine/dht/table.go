package dht

import (
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// K is the bucket size of BEP 5, and the number of closest nodes a lookup
// waits for.
const K = 8

// Node states of BEP 5.
const (
	goodFor  = 15 * time.Minute // a response (or a query after one) keeps a node good this long
	badAfter = 2                // failed queries in a row that make a node bad
)

type status int

const (
	good status = iota
	questionable
	bad
)

// entry is a node of the routing table.
type entry struct {
	id           ID
	addr         netip.AddrPort
	lastResponse time.Time // zero: never answered us (e.g. loaded from the saved table)
	lastQuery    time.Time // last query it sent us
	lastPing     time.Time // last time maintenance pinged it
	failures     int       // our queries to it that failed in a row
	secure       bool      // its ID is valid for its address by BEP 42 (or the address is local)
	spare        bool      // it waits in its bucket's spares
}

func (e *entry) status(now time.Time) status {
	switch {
	case e.failures >= badAfter:
		return bad
	case e.failures == 0 && !e.lastResponse.IsZero() &&
		(now.Sub(e.lastResponse) < goodFor || now.Sub(e.lastQuery) < goodFor):
		return good
	}
	return questionable
}

func (e *entry) info() krpc.NodeInfo { return krpc.NodeInfo{ID: e.id, Addr: e.addr} }

// bucket holds up to K nodes whose IDs share a prefix with ours, and up to
// K spares that answered us while the bucket was full.
type bucket struct {
	nodes   []*entry
	spares  []*entry // most recent last
	changed time.Time
}

// routingTable is the BEP 5 routing table: buckets split only where our
// own ID falls. Against poisoning (one host claiming many IDs, as
// libtorrent's restrict_routing_ips guards against), it holds at most one
// entry per IP address, node or spare, and in each bucket at most one per
// subnet (a /24 for IPv4, a /64 for IPv6; local addresses are exempt
// from the subnet rule, so that a LAN or loopback DHT works). It is safe
// for concurrent use.
type routingTable struct {
	// mu guards self, buckets, byAddr and byIP.
	mu      sync.Mutex
	self    ID
	buckets []*bucket                 // bucket i: IDs sharing exactly i leading bits with self; the last one: at least that many
	byAddr  map[netip.AddrPort]*entry // the nodes of all buckets (not the spares)
	byIP    map[netip.Addr]*entry     // the nodes and the spares, by IP address
}

func newRoutingTable(self ID, now time.Time) *routingTable {
	return &routingTable{
		self:    self,
		buckets: []*bucket{{changed: now}},
		byAddr:  map[netip.AddrPort]*entry{},
		byIP:    map[netip.Addr]*entry{},
	}
}

func (t *routingTable) Self() ID {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.self
}

func (t *routingTable) indexLocked(id ID) int {
	return min(commonPrefixLen(t.self, id), len(t.buckets)-1)
}

// Seen records that the node id at addr answered one of our queries:
// it is refreshed, added, or kept as a spare when its bucket is full. A
// node at an IP address (or, in its bucket, a subnet) that the table
// already holds enters only in place of a spare or a bad node.
func (t *routingTable) Seen(id ID, addr netip.AddrPort, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if id == t.self || !usableAddr(addr) {
		return
	}
	if e := t.byAddr[addr]; e != nil {
		if e.id == id {
			e.lastResponse, e.failures = now, 0
			t.buckets[t.indexLocked(id)].changed = now
			return
		}
		t.removeLocked(e) // the node at this address has a new ID
	}
	if x := t.byIP[addr.Addr()]; x != nil && x.spare && x.addr == addr {
		t.dropLocked(x) // a spare that answered again: filed anew below
	}
	for _, e := range t.buckets[t.indexLocked(id)].nodes {
		if e.id == id { // known ID, new address
			if e.status(now) == good {
				return // keep the address that works
			}
			t.removeLocked(e)
			break
		}
	}
	t.insertLocked(&entry{id: id, addr: addr, lastResponse: now, secure: secureIDValid(id, addr.Addr())}, now, true)
}

// insertLocked adds the new entry e to its bucket, splitting the last
// bucket or replacing a bad node as needed, or else keeps it as a spare.
// An entry holding e's IP address, or e's subnet in its bucket, makes e
// wait outside unless displace is set and that entry is a spare or bad.
func (t *routingTable) insertLocked(e *entry, now time.Time, displace bool) bool {
	e.spare = false
	for {
		i := t.indexLocked(e.id)
		b := t.buckets[i]
		if c := t.conflictLocked(e, b); c != nil {
			if !displace || !c.spare && c.status(now) != bad {
				return false
			}
			t.dropLocked(c)
			continue
		}
		if len(b.nodes) < K {
			t.placeLocked(b, e, now)
			return true
		}
		if i == len(t.buckets)-1 && len(t.buckets) < idBits {
			t.splitLocked(now)
			continue
		}
		// Full: replace a bad node, or (BEP 42 preference) a questionable
		// node whose ID is not valid for its address by a node whose is.
		victim := -1
		for j, old := range b.nodes {
			st := old.status(now)
			if st == bad {
				victim = j
				break
			}
			if victim < 0 && e.secure && !old.secure && st == questionable {
				victim = j
			}
		}
		if victim >= 0 {
			t.removeLocked(b.nodes[victim])
			t.placeLocked(b, e, now)
			return true
		}
		t.addSpareLocked(b, e)
		return false
	}
}

// placeLocked adds e to the nodes of b, which has room.
func (t *routingTable) placeLocked(b *bucket, e *entry, now time.Time) {
	e.spare = false
	b.nodes = append(b.nodes, e)
	t.byAddr[e.addr] = e
	t.byIP[e.addr.Addr()] = e
	b.changed = now
}

// conflictLocked returns an entry other than e that holds e's IP address,
// or a node or spare of b in e's subnet; nil if none.
func (t *routingTable) conflictLocked(e *entry, b *bucket) *entry {
	if x := t.byIP[e.addr.Addr()]; x != nil && x != e {
		return x
	}
	net, ok := subnetOf(e.addr.Addr())
	if !ok {
		return nil
	}
	for _, list := range [2][]*entry{b.nodes, b.spares} {
		for _, x := range list {
			if x != e && net.Contains(x.addr.Addr()) {
				return x
			}
		}
	}
	return nil
}

// subnetOf returns the subnet that may hold one node per bucket: the /24
// of an IPv4 address, the /64 of an IPv6 one. Local addresses (loopback,
// private, link-local) have none (ok false): a LAN's nodes share one.
func subnetOf(ip netip.Addr) (netip.Prefix, bool) {
	if exemptIP(ip) {
		return netip.Prefix{}, false
	}
	bits := 64
	if ip.Is4() {
		bits = 24
	}
	p, err := ip.Prefix(bits)
	return p, err == nil
}

// splitLocked splits the last bucket in two.
func (t *routingTable) splitLocked(now time.Time) {
	last := t.buckets[len(t.buckets)-1]
	next := &bucket{changed: last.changed}
	t.buckets = append(t.buckets, next)
	depth := len(t.buckets) - 1
	keep := last.nodes[:0]
	for _, e := range last.nodes {
		if commonPrefixLen(t.self, e.id) >= depth {
			next.nodes = append(next.nodes, e)
		} else {
			keep = append(keep, e)
		}
	}
	clear(last.nodes[len(keep):])
	last.nodes = keep
	var spares []*entry
	for _, e := range last.spares {
		if commonPrefixLen(t.self, e.id) >= depth {
			next.spares = append(next.spares, e)
		} else {
			spares = append(spares, e)
		}
	}
	last.spares = spares
}

// addSpareLocked keeps e as a spare of b, the oldest spare making room.
func (t *routingTable) addSpareLocked(b *bucket, e *entry) {
	if len(b.spares) >= K {
		t.dropLocked(b.spares[0])
	}
	e.spare = true
	b.spares = append(b.spares, e)
	t.byIP[e.addr.Addr()] = e
}

// bestSpare removes and returns the spare to promote: a BEP 42 valid one
// if any, the most recent otherwise. The caller files it (byIP still
// points to it).
func (b *bucket) bestSpare() *entry {
	if len(b.spares) == 0 {
		return nil
	}
	i := len(b.spares) - 1
	for j := i; j >= 0; j-- {
		if b.spares[j].secure {
			i = j
			break
		}
	}
	e := b.spares[i]
	b.spares = slices.Delete(b.spares, i, i+1)
	return e
}

// removeLocked removes the node e from its bucket.
func (t *routingTable) removeLocked(e *entry) {
	b := t.buckets[t.indexLocked(e.id)]
	b.nodes = slices.DeleteFunc(b.nodes, func(x *entry) bool { return x == e })
	delete(t.byAddr, e.addr)
	if t.byIP[e.addr.Addr()] == e {
		delete(t.byIP, e.addr.Addr())
	}
}

// dropLocked removes e, a node or a spare.
func (t *routingTable) dropLocked(e *entry) {
	if !e.spare {
		t.removeLocked(e)
		return
	}
	b := t.buckets[t.indexLocked(e.id)]
	b.spares = slices.DeleteFunc(b.spares, func(x *entry) bool { return x == e })
	if t.byIP[e.addr.Addr()] == e {
		delete(t.byIP, e.addr.Addr())
	}
}

// Queried records a query from the node id at addr and reports whether
// it is worth pinging to add it: unknown, with no live node at its IP
// address or, in its bucket, its subnet, and its bucket has room for it.
func (t *routingTable) Queried(id ID, addr netip.AddrPort, now time.Time) (ping bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if id == t.self || !usableAddr(addr) {
		return false
	}
	if e := t.byAddr[addr]; e != nil {
		if e.id == id {
			e.lastQuery = now
			return false
		}
		return true // a new ID at a known address: verify it
	}
	i := t.indexLocked(id)
	b := t.buckets[i]
	if c := t.conflictLocked(&entry{id: id, addr: addr}, b); c != nil && (!c.spare && c.status(now) != bad || c.addr == addr) {
		return false
	}
	if len(b.nodes) < K || i == len(t.buckets)-1 && len(t.buckets) < idBits {
		return true
	}
	for _, e := range b.nodes {
		if e.id == id {
			return false
		}
		if e.status(now) != good {
			return true
		}
	}
	return false
}

// Failed records that a query to addr got no answer. A node that becomes
// bad is replaced by a spare when its bucket has one; a spare is dropped.
func (t *routingTable) Failed(addr netip.AddrPort, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.byAddr[addr]
	if e == nil {
		if x := t.byIP[addr.Addr()]; x != nil && x.spare && x.addr == addr {
			t.dropLocked(x)
		}
		return
	}
	e.failures++
	if e.status(now) != bad {
		return
	}
	b := t.buckets[t.indexLocked(e.id)]
	if s := b.bestSpare(); s != nil {
		i := slices.Index(b.nodes, e)
		delete(t.byAddr, e.addr)
		if t.byIP[e.addr.Addr()] == e {
			delete(t.byIP, e.addr.Addr())
		}
		s.spare = false
		b.nodes[i] = s
		t.byAddr[s.addr] = s
		t.byIP[s.addr.Addr()] = s
		b.changed = now
	}
}

// Add puts a node into the table without a response (loading the saved
// table); it starts questionable, and displaces nothing.
func (t *routingTable) Add(id ID, addr netip.AddrPort, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if id == t.self || !usableAddr(addr) || t.byAddr[addr] != nil {
		return
	}
	for _, e := range t.buckets[t.indexLocked(id)].nodes {
		if e.id == id {
			return
		}
	}
	t.insertLocked(&entry{id: id, addr: addr, secure: secureIDValid(id, addr.Addr())}, now, false)
}

// Closest returns up to k nodes closest to target by XOR: not bad ones,
// or only good ones with goodOnly.
func (t *routingTable) Closest(target ID, k int, goodOnly bool, now time.Time) []krpc.NodeInfo {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []krpc.NodeInfo
	for _, b := range t.buckets {
		for _, e := range b.nodes {
			st := e.status(now)
			if st == bad || goodOnly && st != good {
				continue
			}
			out = append(out, e.info())
		}
	}
	slices.SortFunc(out, func(a, b krpc.NodeInfo) int { return distanceCmp(a.ID, b.ID, target) })
	if len(out) > k {
		out = out[:k]
	}
	return out
}

// All returns every node of the table, good ones first.
func (t *routingTable) All(now time.Time) []krpc.NodeInfo {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []krpc.NodeInfo
	for want := good; want <= bad; want++ {
		for _, b := range t.buckets {
			for _, e := range b.nodes {
				if e.status(now) == want {
					out = append(out, e.info())
				}
			}
		}
	}
	return out
}

// Counts returns the number of good and questionable nodes, and of buckets.
func (t *routingTable) Counts(now time.Time) (goodN, questionableN, buckets int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, b := range t.buckets {
		for _, e := range b.nodes {
			switch e.status(now) {
			case good:
				goodN++
			case questionable:
				questionableN++
			}
		}
	}
	return goodN, questionableN, len(t.buckets)
}

// Has reports whether a node at addr is in the table.
func (t *routingTable) Has(addr netip.AddrPort) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.byAddr[addr] != nil
}

// Len returns the number of nodes in the table, whatever their state.
func (t *routingTable) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.byAddr)
}

// ToPing returns up to max questionable nodes to ping now and marks them
// as pinged: every questionable node of a bucket with spares waiting (so
// that a node that fails twice makes room), otherwise the stalest one of
// each bucket. A node is pinged at most once per gap.
func (t *routingTable) ToPing(now time.Time, gap time.Duration, max int) []krpc.NodeInfo {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []krpc.NodeInfo
	for _, b := range t.buckets {
		var stalest *entry
		for _, e := range b.nodes {
			if e.status(now) != questionable || now.Sub(e.lastPing) < gap {
				continue
			}
			if len(b.spares) > 0 {
				e.lastPing = now
				out = append(out, e.info())
			} else if stalest == nil || e.lastResponse.Before(stalest.lastResponse) {
				stalest = e
			}
		}
		if stalest != nil {
			stalest.lastPing = now
			out = append(out, stalest.info())
		}
		if len(out) >= max {
			return out[:max]
		}
	}
	return out
}

// Stale returns a random target in each bucket unchanged for longer than
// every, and marks those buckets as changed now (their refresh is under
// way).
func (t *routingTable) Stale(now time.Time, every time.Duration) []ID {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []ID
	for i, b := range t.buckets {
		if now.Sub(b.changed) >= every {
			b.changed = now
			out = append(out, randomIDWithPrefix(t.self, i, i == len(t.buckets)-1))
		}
	}
	return out
}

// Sparse returns a random target in each bucket but the last that has
// room for more nodes: after a bootstrap, looking these up fills the
// buckets far from our ID (the Kademlia join).
func (t *routingTable) Sparse() []ID {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []ID
	for i, b := range t.buckets[:len(t.buckets)-1] {
		if len(b.nodes) < K {
			out = append(out, randomIDWithPrefix(t.self, i, false))
		}
	}
	return out
}

// Reset gives the table a new own ID and re-files every node under it,
// keeping what is known of each.
func (t *routingTable) Reset(self ID, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var old []*entry
	for _, b := range t.buckets {
		old = append(old, b.nodes...)
		old = append(old, b.spares...)
	}
	t.self = self
	t.buckets = []*bucket{{changed: now}}
	t.byAddr = map[netip.AddrPort]*entry{}
	t.byIP = map[netip.Addr]*entry{}
	for _, e := range old {
		if e.id != self && t.byAddr[e.addr] == nil {
			t.insertLocked(e, now, false)
		}
	}
}

// usableAddr reports whether addr can be a DHT contact.
func usableAddr(addr netip.AddrPort) bool {
	ip := addr.Addr()
	return addr.Port() != 0 && ip.IsValid() && !ip.IsUnspecified() && !ip.IsMulticast()
}
