package dht

import (
	"net/netip"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// server answers the queries that reach the node. It is used only by the
// read loop, which owns its buffer.
type server struct {
	n   *Node
	buf []byte
}

// handle decodes one packet from addr and acts on it.
func (s *server) handle(b []byte, from netip.AddrPort) {
	n := s.n
	m, err := krpc.Decode(b)
	if err != nil {
		n.dropped.Add(1)
		// A query we could parse the envelope of gets error 203, as BEP 5
		// asks, if the rate limit allows.
		if m.Y == krpc.KindQuery && m.T != nil && !n.cfg.ReadOnly {
			n.incoming.Add(1)
			now := time.Now()
			if !n.limiter.Allow(from.Addr(), now) {
				n.rateLimited.Add(1)
				return
			}
			r := krpc.Msg{T: m.T, Y: krpc.KindError, E: krpc.Error{Code: krpc.CodeProtocol, Msg: "malformed query"}}
			s.send(r, content{}, s.budget(from, len(b), maxReply, now), from)
		}
		return
	}
	switch m.Y {
	case krpc.KindQuery:
		s.query(m, len(b), from)
	case krpc.KindResponse, krpc.KindError:
		n.answer(m, from)
	}
}

// budget is what we may send in answer to a packet of size bytes from
// addr: a multiple of its size, and no more than twice what an unverified
// source has sent us (less what we already sent it).
type budget struct {
	bytes    int
	verified bool
}

// budget records a query of size bytes from addr and returns what its
// answer may cost, at most limit bytes (maxReply, or maxItemReply for a
// get).
func (s *server) budget(from netip.AddrPort, size, limit int, now time.Time) budget {
	n := s.n
	b := budget{bytes: min(maxAmplification*size, limit)}
	if n.answerers.Has(from, now) {
		b.verified = true
		return b
	}
	b.bytes = min(b.bytes, n.credits.Received(from, size, now))
	return b
}

// send sends r with as much of c as the budget b allows.
func (s *server) send(r krpc.Msg, c content, b budget, to netip.AddrPort) {
	s.sendVerify(r, c, b, to, false)
}

// sendVerify sends r with as much of c as the budget b allows; with
// verify, it reserves room for a ping that verifies the querier and
// reports whether that room is left (the caller then sends the ping).
// What does not fit is dropped, down to the whole reply.
func (s *server) sendVerify(r krpc.Msg, c content, b budget, to netip.AddrPort, verify bool) (pingFits bool) {
	n := s.n
	var ok, withheld bool
	if verify && !b.verified {
		s.buf, ok, withheld = fitReply(s.buf, r, c, b.bytes-verifyPingSize)
		pingFits = ok
	}
	if !ok {
		s.buf, ok, withheld = fitReply(s.buf, r, c, b.bytes)
		pingFits = verify && b.verified
	}
	if !ok {
		n.unanswered.Add(1)
		return false
	}
	if withheld {
		n.withheld.Add(1)
	}
	if !b.verified {
		n.credits.Spent(to, len(s.buf))
	}
	if err := n.write(s.buf, to); err != nil {
		n.logf("dht: replying to %v: %v", to, err)
	}
	return pingFits
}

// query answers the query m of size bytes from addr.
func (s *server) query(m krpc.Msg, size int, from netip.AddrPort) {
	n := s.n
	if n.cfg.ReadOnly {
		return // BEP 43: read-only nodes answer nothing
	}
	n.incoming.Add(1)
	now := time.Now()
	if !n.limiter.Allow(from.Addr(), now) {
		n.rateLimited.Add(1)
		return
	}
	limit := maxReply
	if m.Q == krpc.MethodGet {
		limit = maxItemReply
	}
	b := s.budget(from, size, limit, now)
	verify := !m.ReadOnly && n.tableOf(from).Queried(m.A.ID, from, now)
	r := krpc.Msg{T: m.T, Y: krpc.KindResponse, IP: from, V: version}
	r.R.ID = n.ID()
	var c content
	switch m.Q {
	case krpc.MethodPing:
	case krpc.MethodFindNode:
		c = n.nodesFor(m.A.Target, from, m.A.Want, now)
	case krpc.MethodGetPeers:
		c = n.nodesFor(m.A.InfoHash, from, m.A.Want, now)
		if n.cfg.Router {
			break
		}
		r.R.Token = n.tokens.Token(from.Addr(), now)
		c.values = n.peers.Get(m.A.InfoHash, maxValues, from.Addr(), m.A.NoSeed, now)
		if m.A.Scrape { // BEP 33
			c.seeds, c.leechers, c.scrape = n.peers.Filters(m.A.InfoHash, now)
		}
	case krpc.MethodAnnouncePeer:
		if n.cfg.Router {
			r = errorReply(m, krpc.CodeMethodUnknown, "this node is a router: it tracks no peers")
			break
		}
		if !n.tokens.Valid(m.A.Token, from.Addr(), now) {
			r = errorReply(m, krpc.CodeProtocol, "bad token")
			break
		}
		port := uint16(m.A.Port)
		if m.A.ImpliedPort {
			port = from.Port()
		}
		n.peers.Add(m.A.InfoHash, netip.AddrPortFrom(from.Addr(), port), m.A.Seed, now)
	case krpc.MethodGet: // BEP 44
		c = n.nodesFor(m.A.Target, from, m.A.Want, now)
		if n.cfg.Router {
			break
		}
		r.R.Token = n.tokens.Token(from.Addr(), now)
		c.item, c.seq = n.storedItem(m.A.Target, m.A.Seq, now)
	case krpc.MethodPut:
		if err := n.servePut(m, from, now); err != nil {
			r = errorReply(m, err.Code, err.Msg)
		}
	default:
		r = errorReply(m, krpc.CodeMethodUnknown, "Method Unknown")
	}
	if s.sendVerify(r, c, b, from, verify) && n.verify(m.A.ID, from) && !b.verified {
		n.credits.Spent(from, verifyPingSize)
	}
}

// nodesFor returns the nodes closest to target for a reply to from: of
// the families its `want` names (BEP 32), or without one, of its own.
func (n *Node) nodesFor(target ID, from netip.AddrPort, want []string, now time.Time) content {
	f := familyOf(from.Addr())
	var wanted [2]bool
	for _, w := range want {
		switch w {
		case "n4":
			wanted[ipv4] = true
		case "n6":
			wanted[ipv6] = true
		}
	}
	if !wanted[ipv4] && !wanted[ipv6] {
		wanted[f] = true
	}
	c := content{v6: f == ipv6}
	if t := n.tables[ipv4]; t != nil && wanted[ipv4] {
		c.nodes = t.Closest(target, K, false, now)
	}
	if t := n.tables[ipv6]; t != nil && wanted[ipv6] {
		c.nodes6 = t.Closest(target, K, false, now)
	}
	return c
}

func errorReply(q krpc.Msg, code int, text string) krpc.Msg {
	return krpc.Msg{T: q.T, Y: krpc.KindError, E: krpc.Error{Code: code, Msg: text}, V: version}
}

// verify pings an unknown node that queried us, so that it enters the
// table if it answers (only nodes that answered us are added). It
// reports whether the ping was sent.
func (n *Node) verify(id ID, addr netip.AddrPort) bool {
	n.mu.Lock()
	if n.verifying[addr] || len(n.verifying) >= maxVerifying {
		n.mu.Unlock()
		return false
	}
	n.verifying[addr] = true
	n.mu.Unlock()
	empty := true
	for _, t := range n.servedTables() {
		empty = empty && t.Len() == 0
	}
	forget := func(r result) {
		n.mu.Lock()
		delete(n.verifying, addr)
		// A node with nothing else to start from joins through the first
		// node that reached it.
		alone := empty && n.lastBootstrap.IsZero() && len(n.seeds) == 0 && len(n.cfg.Bootstrap) == 0
		n.mu.Unlock()
		if alone && r.err == nil && r.msg.Y == krpc.KindResponse {
			n.joined(SourceIncoming)
			n.kickBootstrap()
		}
	}
	// A bare ping (no `v`): it must fit in what a small query allows.
	if _, err := n.send(addr, id, krpc.Msg{Q: krpc.MethodPing, V: []byte{}}, forget); err != nil {
		forget(result{})
		return false
	}
	return true
}
