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
			if n.limiter.Allow(from.Addr(), time.Now()) {
				s.reply(krpc.Msg{T: m.T, Y: krpc.KindError, E: krpc.Error{Code: krpc.CodeProtocol, Msg: "malformed query"}}, from)
			} else {
				n.rateLimited.Add(1)
			}
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
	if !m.ReadOnly && n.table.Queried(m.A.ID, from, now) {
		n.verify(m.A.ID, from)
	}
	r := krpc.Msg{T: m.T, Y: krpc.KindResponse, IP: from, V: version}
	r.R.ID = n.table.Self()
	switch m.Q {
	case krpc.MethodPing:
	case krpc.MethodFindNode:
		r.R.Nodes = n.table.Closest(m.A.Target, K, false, now)
	case krpc.MethodGetPeers:
		nodes := n.table.Closest(m.A.InfoHash, K, false, now)
		if n.cfg.Router {
			r.R.Nodes = nodes
			break
		}
		r.R.Token = n.tokens.Token(from.Addr(), now)
		s.fitValues(&r, nodes, n.peers.Get(m.A.InfoHash, maxValues, from.Addr(), now), size)
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
		n.peers.Add(m.A.InfoHash, netip.AddrPortFrom(from.Addr(), port), now)
	default:
		r = errorReply(m, krpc.CodeMethodUnknown, "Method Unknown")
	}
	s.reply(r, from)
}

func errorReply(q krpc.Msg, code int, text string) krpc.Msg {
	return krpc.Msg{T: q.T, Y: krpc.KindError, E: krpc.Error{Code: code, Msg: text}, V: version}
}

// fitValues puts peers and nodes into the get_peers reply r so that it
// stays within maxAmplification times the query's size: the peers first
// (cut to fit), then the nodes if there is still room. Without peers, the
// nodes alone always fit (a get_peers query is at least 90 bytes, a reply
// with 8 nodes about 300).
func (s *server) fitValues(r *krpc.Msg, nodes []krpc.NodeInfo, peers []netip.AddrPort, querySize int) {
	if len(peers) == 0 {
		r.R.Nodes = nodes
		return
	}
	budget := maxAmplification * querySize
	base := len(r.Append(s.buf[:0]))
	room := budget - base - len("6:valuesle")
	per := 2 + krpc.CompactPeerLen
	if !peers[0].Addr().Unmap().Is4() {
		per = 3 + krpc.CompactPeer6Len
	}
	if fit := max(0, room/per); len(peers) > fit {
		peers = peers[:fit]
	}
	r.R.Values = peers
	withNodes := *r
	withNodes.R.Nodes = nodes
	if s.buf = withNodes.Append(s.buf[:0]); len(s.buf) <= budget || len(peers) == 0 {
		*r = withNodes
	}
}

func (s *server) reply(r krpc.Msg, to netip.AddrPort) {
	s.buf = r.Append(s.buf[:0])
	if err := s.n.write(s.buf, to); err != nil {
		s.n.logf("dht: replying to %v: %v", to, err)
	}
}

// verify pings an unknown node that queried us, so that it enters the
// table if it answers (only nodes that answered us are added).
func (n *Node) verify(id ID, addr netip.AddrPort) {
	n.mu.Lock()
	if n.verifying[addr] || len(n.verifying) >= maxVerifying {
		n.mu.Unlock()
		return
	}
	n.verifying[addr] = true
	n.mu.Unlock()
	empty := n.table.Len() == 0
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
	if _, err := n.send(addr, id, krpc.Msg{Q: krpc.MethodPing}, forget); err != nil {
		forget(result{})
	}
}
