package main

import (
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// observer reads one measured node's packets off the wire: the dht
// package counts no queries per lookup, so they are counted here. It
// sees the queries the node sends, by method; for each info hash, its
// get_peers queries, their answers and the packets the network lost; and
// how many hops from the node's one contact each node it heard of is (the
// contact is hop 1, a node it names hop 2...). Safe for concurrent use.
type observer struct {
	// mu guards the fields below.
	mu      sync.Mutex
	methods map[string]int            // queries sent, by method
	hops    map[netip.AddrPort]int    // hop of each node heard of
	pending map[string]*getPeersQuery // by transaction ID
	traces  map[krpc.ID]*trace        // by info hash
}

// getPeersQuery is a get_peers query the node sent.
type getPeersQuery struct {
	infoHash krpc.ID
	to       netip.AddrPort
}

// trace is what the wire showed of the get_peers queries for one info
// hash.
type trace struct {
	queries       int
	answered      int // responses that arrived
	errors        int // KRPC error replies
	queryLost     [causes]int
	replyLost     [causes]int
	firstPeersHop int       // hop of the first node whose answer held peers; 0: none
	maxHop        int       // largest hop that answered
	firstSent     int64     // when the first query left (network time); 0: none
	lastAnswer    int64     // when the last answer arrived (network time); 0: none
	answerers     []krpc.ID // IDs of the nodes that answered
}

// tail is how long a lookup that took done went on after its last
// answer arrived: the time it waited for queries that never answered.
func (t *trace) tail(done time.Duration) time.Duration {
	if t.firstSent == 0 || t.lastAnswer == 0 {
		return done
	}
	return max(0, done-time.Duration(t.lastAnswer-t.firstSent))
}

// unanswered is how many queries got no response or error and did not
// get lost on the way either: the node asked did not answer in time (it
// was busy, or rate-limited us).
func (t *trace) unanswered() int {
	n := t.queries - t.answered - t.errors
	for c := range causes {
		n -= t.queryLost[c] + t.replyLost[c]
	}
	return n
}

func newObserver(contact netip.AddrPort) *observer {
	return &observer{
		methods: map[string]int{},
		hops:    map[netip.AddrPort]int{contact: 1},
		pending: map[string]*getPeersQuery{},
		traces:  map[krpc.ID]*trace{},
	}
}

// sent sees a packet the node sent to addr.
func (o *observer) sent(b []byte, to netip.AddrPort, now int64) {
	m, err := krpc.Decode(b)
	if err != nil || m.Y != krpc.KindQuery {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.methods[m.Q]++
	if m.Q != krpc.MethodGetPeers {
		return
	}
	o.pending[string(m.T)] = &getPeersQuery{infoHash: m.A.InfoHash, to: to}
	t := o.trace(m.A.InfoHash)
	t.queries++
	if t.firstSent == 0 {
		t.firstSent = now
	}
}

func (o *observer) trace(ih krpc.ID) *trace {
	t := o.traces[ih]
	if t == nil {
		t = &trace{}
		o.traces[ih] = t
	}
	return t
}

// lostOut sees a packet of the node's that the network lost.
func (o *observer) lostOut(b []byte, cause dropCause) {
	m, err := krpc.Decode(b)
	if err != nil || m.Y != krpc.KindQuery || m.Q != krpc.MethodGetPeers {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if q := o.pending[string(m.T)]; q != nil {
		delete(o.pending, string(m.T))
		o.trace(q.infoHash).queryLost[cause]++
	}
}

// lostIn sees a packet to the node that the network lost.
func (o *observer) lostIn(b []byte, from netip.AddrPort, cause dropCause) {
	m, err := krpc.Decode(b)
	if err != nil || m.Y == krpc.KindQuery {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if q := o.pending[string(m.T)]; q != nil && q.to == from {
		delete(o.pending, string(m.T))
		o.trace(q.infoHash).replyLost[cause]++
	}
}

// received sees a packet that reached the node at now (network time).
func (o *observer) received(b []byte, from netip.AddrPort, now int64) {
	m, err := krpc.Decode(b)
	if err != nil || m.Y == krpc.KindQuery {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	hop := o.hops[from]
	if m.Y == krpc.KindResponse && hop > 0 {
		for _, n := range append(m.R.Nodes, m.R.Nodes6...) {
			if _, ok := o.hops[n.Addr]; !ok {
				o.hops[n.Addr] = hop + 1
			}
		}
	}
	q := o.pending[string(m.T)]
	if q == nil || q.to != from {
		return
	}
	delete(o.pending, string(m.T))
	t := o.trace(q.infoHash)
	if m.Y == krpc.KindError {
		t.errors++
		return
	}
	t.answered++
	t.answerers = append(t.answerers, m.R.ID)
	t.lastAnswer = now
	t.maxHop = max(t.maxHop, hop)
	if len(m.R.Values) > 0 && t.firstPeersHop == 0 {
		t.firstPeersHop = hop
	}
}

// Trace returns what was seen of the lookups of ih.
func (o *observer) Trace(ih krpc.ID) trace {
	o.mu.Lock()
	defer o.mu.Unlock()
	if t := o.traces[ih]; t != nil {
		c := *t
		c.answerers = slices.Clone(t.answerers)
		return c
	}
	return trace{}
}

// Methods returns the queries sent so far, by method.
func (o *observer) Methods() map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make(map[string]int, len(o.methods))
	for k, v := range o.methods {
		out[k] = v
	}
	return out
}
