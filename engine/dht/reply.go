package dht

import (
	"math"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// Limits on what a reply may cost us. A source address is verified once
// it has answered one of our queries (it proved it receives there); a
// query from any other address may have a forged source, so what we send
// there in answer is held to twice what it sent.
const (
	maxReply = 1024 // BEP 32: no DHT datagram larger than this
	// maxItemReply bounds a get's reply (BEP 44): an item of up to 1000
	// bytes with K nodes does not fit in maxReply. 1452 bytes is what a
	// 1500-byte IPv6 packet carries over UDP.
	maxItemReply     = 1452
	maxAmplification = 8 // a reply to a verified source is at most this many times its query
	unverifiedFactor = 2
	maxCredits       = 4096             // unverified sources whose bytes we count
	creditIdle       = time.Minute      // a source silent this long starts from zero
	maxAnswerers     = 8192             // verified addresses remembered
	answererTTL      = 30 * time.Minute // how long an answer keeps an address verified
)

// verifyPingSize is the size of the ping that verifies a new querier: no
// `v`, so that it fits in the reply budget of a ping.
var verifyPingSize = len(krpc.Msg{T: make([]byte, 4), Y: krpc.KindQuery, Q: krpc.MethodPing}.Encode())

// answerers remembers the addresses that answered our queries lately.
// Bounded; safe for concurrent use.
type answerers struct {
	// mu guards m.
	mu sync.Mutex
	m  map[netip.AddrPort]time.Time
}

func newAnswerers() *answerers { return &answerers{m: map[netip.AddrPort]time.Time{}} }

// Add records that addr answered us at now.
func (a *answerers) Add(addr netip.AddrPort, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.m[addr]; !ok && len(a.m) >= maxAnswerers {
		a.sweepLocked(now)
		for k := range a.m { // still full: forget arbitrary ones
			if len(a.m) < maxAnswerers*3/4 {
				break
			}
			delete(a.m, k)
		}
	}
	a.m[addr] = now
}

// Has reports whether addr answered us within answererTTL.
func (a *answerers) Has(addr netip.AddrPort, now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.m[addr]
	return ok && now.Sub(t) < answererTTL
}

// Sweep forgets the addresses whose answer is too old.
func (a *answerers) Sweep(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sweepLocked(now)
}

func (a *answerers) sweepLocked(now time.Time) {
	for k, t := range a.m {
		if now.Sub(t) >= answererTTL {
			delete(a.m, k)
		}
	}
}

func (a *answerers) Len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.m)
}

// credits counts, for each unverified source address, the bytes it sent
// us and the bytes we sent it, so that the second stays within
// unverifiedFactor times the first. A source forgotten (idle, or pushed
// out by the bound) starts again from zero, which only lowers what it may
// receive. Safe for concurrent use.
type credits struct {
	// mu guards m.
	mu sync.Mutex
	m  map[netip.AddrPort]*credit
}

type credit struct {
	recv, sent int
	last       time.Time
}

func newCredits() *credits { return &credits{m: map[netip.AddrPort]*credit{}} }

// Received records size bytes from addr and returns how many bytes we may
// now send it.
func (c *credits) Received(addr netip.AddrPort, size int, now time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	cr := c.m[addr]
	if cr != nil && now.Sub(cr.last) >= creditIdle {
		cr = nil
	}
	if cr == nil {
		if len(c.m) >= maxCredits {
			c.sweepLocked(now)
			for k := range c.m {
				if len(c.m) < maxCredits*3/4 {
					break
				}
				delete(c.m, k)
			}
		}
		cr = &credit{}
		c.m[addr] = cr
	}
	cr.recv += size
	cr.last = now
	return max(0, unverifiedFactor*cr.recv-cr.sent)
}

// Spent records size bytes sent to addr.
func (c *credits) Spent(addr netip.AddrPort, size int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cr := c.m[addr]; cr != nil {
		cr.sent += size
	}
}

// Sweep forgets the idle sources.
func (c *credits) Sweep(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sweepLocked(now)
}

func (c *credits) sweepLocked(now time.Time) {
	for k, cr := range c.m {
		if now.Sub(cr.last) >= creditIdle {
			delete(c.m, k)
		}
	}
}

func (c *credits) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// content is what a reply may carry beyond its fixed fields, in order of
// importance: the peers, then the nodes of the querier's own family, then
// those of the other family it asked for. For a scrape (BEP 33), the two
// filters come first, then the nodes of the querier's family, then the
// peers: the filters are what it asked for, and the nodes keep its lookup
// going.
type content struct {
	values []netip.AddrPort
	nodes  []krpc.NodeInfo // IPv4
	nodes6 []krpc.NodeInfo
	v6     bool // the querier asked over IPv6: its nodes6 come before nodes

	scrape          bool // send seeds and leechers (BFsd, BFpe)
	seeds, leechers *krpc.Bloom

	item *krpc.Item // get (BEP 44): the item, first of all
	seq  *int64     // get: the stored item's seq alone
}

// fitReply encodes r into buf with as much of c as fits in budget bytes,
// dropping first what matters least: then the `v` key and an error's
// text. It returns the packet, or ok false if even the bare reply does
// not fit. A get's item is all or nothing: withheld reports that it was
// left out.
func fitReply(buf []byte, r krpc.Msg, c content, budget int) (packet []byte, ok, withheld bool) {
	buf = r.Append(buf[:0])
	if len(buf) > budget && r.V != nil {
		r.V = nil
		buf = r.Append(buf[:0])
	}
	if len(buf) > budget && r.Y == krpc.KindError && r.E.Msg != "" {
		r.E.Msg = ""
		buf = r.Append(buf[:0])
	}
	if len(buf) > budget {
		return buf, false, false
	}
	if c.item != nil || c.seq != nil {
		r.R.Item, r.R.Seq = krpc.Item{}, c.seq
		if c.item != nil {
			r.R.Item = *c.item
		}
		if with := r.Append(buf[:0]); len(with) <= budget {
			buf = with
		} else {
			r.R.Item, r.R.Seq = krpc.Item{}, nil
			withheld = c.item != nil
		}
	}
	room := budget - len(buf)
	fitValues := func() {
		if len(c.values) == 0 {
			return
		}
		per := 2 + krpc.CompactPeerLen
		if !c.values[0].Addr().Unmap().Is4() {
			per = 3 + krpc.CompactPeer6Len
		}
		k := min(len(c.values), max(0, room-len("6:valuesle"))/per)
		if k > 0 {
			r.R.Values = c.values[:k]
			room -= len("6:valuesle") + k*per
		}
	}
	fitNodes := func(nodes []krpc.NodeInfo, key string, per int) []krpc.NodeInfo {
		for k := len(nodes); k > 0; k-- {
			cost := len(key) + len(strconv.Itoa(k*per)) + 1 + k*per
			if cost <= room {
				room -= cost
				return nodes[:k]
			}
		}
		return nil
	}
	own := func() {
		if c.v6 {
			r.R.Nodes6 = fitNodes(c.nodes6, "6:nodes6", krpc.CompactNode6Len)
		} else {
			r.R.Nodes = fitNodes(c.nodes, "5:nodes", krpc.CompactNodeLen)
		}
	}
	if c.scrape {
		// Both filters or neither: "4:BFsd256:" and 256 bytes each.
		if cost := 2 * (len("4:BFsd256:") + krpc.BloomLen); cost <= room {
			r.R.BFsd, r.R.BFpe = c.seeds, c.leechers
			room -= cost
		}
		own()
		fitValues()
	} else {
		fitValues()
		own()
	}
	if c.v6 {
		r.R.Nodes = fitNodes(c.nodes, "5:nodes", krpc.CompactNodeLen)
	} else {
		r.R.Nodes6 = fitNodes(c.nodes6, "6:nodes6", krpc.CompactNode6Len)
	}
	buf = r.Append(buf[:0])
	return buf, len(buf) <= budget, withheld
}

// padded returns the lookup query q (find_node, get_peers or get) to be
// sent to addr, padded so that a node holding unverified sources to twice
// their query's size can still answer it in full: K nodes of each family
// it asks for (and a token), and a ping to verify us; for a get, an item
// of the largest size too, within the maxItemReply such a node holds a
// get's reply to (it sends fewer nodes then).
func (n *Node) padded(q krpc.Msg, to netip.AddrPort) krpc.Msg {
	q.Y, q.T, q.A.ID, q.V, q.A.Pad = krpc.KindQuery, make([]byte, 4), n.ID(), version, 0
	full := krpc.Msg{T: q.T, Y: krpc.KindResponse, IP: to, V: version}
	v4, v6 := to.Addr().Unmap().Is4(), !to.Addr().Unmap().Is4()
	for _, w := range q.A.Want {
		v4, v6 = v4 || w == "n4", v6 || w == "n6"
	}
	for range K {
		if v4 {
			full.R.Nodes = append(full.R.Nodes, krpc.NodeInfo{Addr: netip.AddrPortFrom(netip.IPv4Unspecified(), 1)})
		}
		if v6 {
			full.R.Nodes6 = append(full.R.Nodes6, krpc.NodeInfo{Addr: netip.AddrPortFrom(netip.IPv6Unspecified(), 1)})
		}
	}
	if q.Q == krpc.MethodGetPeers || q.Q == krpc.MethodGet {
		full.R.Token = make([]byte, tokenLen)
	}
	reply := len(full.Encode()) + verifyPingSize
	if q.Q == krpc.MethodGet {
		full.R.Item = krpc.Item{V: make([]byte, krpc.MaxValueLen), Mutable: true, Seq: math.MaxInt64}
		reply = min(len(full.Encode())+verifyPingSize, maxItemReply)
	}
	need := (reply + unverifiedFactor - 1) / unverifiedFactor
	size := len(q.Encode())
	if size >= need {
		return q
	}
	// `3:pad<digits>:<pad>` adds 5+len(digits)+1+pad bytes.
	for pad := 1; pad <= krpc.MaxPad; pad++ {
		if size+len("3:pad")+len(strconv.Itoa(pad))+1+pad >= need {
			q.A.Pad = pad
			break
		}
	}
	return q
}
