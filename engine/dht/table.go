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
// own ID falls, at most one node per IP address and port. It is safe for
// concurrent use.
type routingTable struct {
	// mu guards self, buckets and byAddr.
	mu      sync.Mutex
	self    ID
	buckets []*bucket                 // bucket i: IDs sharing exactly i leading bits with self; the last one: at least that many
	byAddr  map[netip.AddrPort]*entry // the nodes of all buckets (not the spares)
}

func newRoutingTable(self ID, now time.Time) *routingTable {
	return &routingTable{
		self:    self,
		buckets: []*bucket{{changed: now}},
		byAddr:  map[netip.AddrPort]*entry{},
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
// it is refreshed, added, or kept as a spare when its bucket is full.
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
	b := t.buckets[t.indexLocked(id)]
	for _, e := range b.nodes {
		if e.id == id { // known ID, new address
			if e.status(now) == good {
				return // keep the address that works
			}
			delete(t.byAddr, e.addr)
			e.addr, e.lastResponse, e.failures = addr, now, 0
			e.secure = secureIDValid(id, addr.Addr())
			t.byAddr[addr] = e
			b.changed = now
			return
		}
	}
	t.insertLocked(&entry{id: id, addr: addr, lastResponse: now, secure: secureIDValid(id, addr.Addr())}, now)
}

// insertLocked adds e to its bucket, splitting the last bucket or
// replacing a bad node as needed, or else keeps it as a spare.
func (t *routingTable) insertLocked(e *entry, now time.Time) bool {
	for {
		i := t.indexLocked(e.id)
		b := t.buckets[i]
		if len(b.nodes) < K {
			b.nodes = append(b.nodes, e)
			t.byAddr[e.addr] = e
			b.changed = now
			b.dropSpare(e.addr)
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
			delete(t.byAddr, b.nodes[victim].addr)
			b.nodes[victim] = e
			t.byAddr[e.addr] = e
			b.changed = now
			b.dropSpare(e.addr)
			return true
		}
		b.addSpare(e)
		return false
	}
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

func (b *bucket) addSpare(e *entry) {
	b.dropSpare(e.addr)
	if len(b.spares) >= K {
		b.spares = slices.Delete(b.spares, 0, 1)
	}
	b.spares = append(b.spares, e)
}

func (b *bucket) dropSpare(addr netip.AddrPort) {
	b.spares = slices.DeleteFunc(b.spares, func(s *entry) bool { return s.addr == addr })
}

// bestSpare removes and returns the spare to promote: a BEP 42 valid one
// if any, the most recent otherwise.
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

func (t *routingTable) removeLocked(e *entry) {
	b := t.buckets[t.indexLocked(e.id)]
	b.nodes = slices.DeleteFunc(b.nodes, func(x *entry) bool { return x == e })
	delete(t.byAddr, e.addr)
}

// Queried records a query from the node id at addr and reports whether
// it is worth pinging to add it: unknown, and its bucket has room for it.
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
// bad is replaced by a spare when its bucket has one.
func (t *routingTable) Failed(addr netip.AddrPort, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.byAddr[addr]
	if e == nil {
		for _, b := range t.buckets {
			b.dropSpare(addr)
		}
		return
	}
	e.failures++
	if e.status(now) != bad {
		return
	}
	b := t.buckets[t.indexLocked(e.id)]
	for s := b.bestSpare(); s != nil; s = b.bestSpare() {
		if t.byAddr[s.addr] != nil {
			continue
		}
		i := slices.Index(b.nodes, e)
		delete(t.byAddr, e.addr)
		b.nodes[i] = s
		t.byAddr[s.addr] = s
		b.changed = now
		return
	}
}

// Add puts a node into the table without a response (loading the saved
// table); it starts questionable.
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
	t.insertLocked(&entry{id: id, addr: addr, secure: secureIDValid(id, addr.Addr())}, now)
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
	for _, e := range old {
		if e.id != self && t.byAddr[e.addr] == nil {
			t.insertLocked(e, now)
		}
	}
}

// usableAddr reports whether addr can be a DHT contact.
func usableAddr(addr netip.AddrPort) bool {
	ip := addr.Addr()
	return addr.Port() != 0 && ip.IsValid() && !ip.IsUnspecified() && !ip.IsMulticast()
}
