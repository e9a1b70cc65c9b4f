package dht

import (
	"net/netip"
	"slices"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// Stats is a snapshot of a node's state.
type Stats struct {
	ID                  [20]byte
	Addr                string // the local address of the socket (of Conn)
	Good, Questionable  int    // nodes of the routing tables by BEP 5 state, both families
	Buckets             int    // buckets of the routing tables, both families
	IPv4, IPv6          TableStats
	IncomingQueries     uint64 // queries received: proof that others reach us
	RateLimited         uint64 // queries dropped by the rate limits
	Unanswered          uint64 // queries left unanswered: even a bare reply was more than their source may receive
	Dropped             uint64 // malformed or oversized packets
	LookupsInFlight     int
	LastBootstrap       time.Time // zero: not bootstrapped yet
	LastBootstrapSource string    // SourceSavedTable, SourceTable, SourceContacts, SourceAdded, SourcePeerPort or SourceIncoming
	TableSavedAt        time.Time
	Torrents, Peers     int // the peer store's size
	// Items and ItemBytes are the item store's size (BEP 44): items
	// and the bytes they are counted for (at most about 1.5 MB).
	Items, ItemBytes int
	ItemsWithheld    uint64     // get replies sent without their item, which was more than the querier may receive
	ExternalIP       netip.Addr // as set or voted; invalid if unknown
}

// TableStats describes the routing table of one address family (BEP 32).
type TableStats struct {
	Served             bool   // the node has a socket for this family
	Addr               string // the local address of that socket
	Good, Questionable int
	Buckets            int
}

// Stats returns a snapshot of the node's state.
func (n *Node) Stats() Stats {
	now := time.Now()
	st := Stats{
		ID:              n.ID(),
		IncomingQueries: n.incoming.Load(),
		RateLimited:     n.rateLimited.Load(),
		Unanswered:      n.unanswered.Load(),
		Dropped:         n.dropped.Load(),
		LookupsInFlight: int(n.lookups.Load()),
	}
	if a := n.cfg.Conn.LocalAddr(); a != nil {
		st.Addr = a.String()
	}
	for _, f := range families {
		t := n.tables[f]
		if t == nil {
			continue
		}
		ts := TableStats{Served: true}
		if a := n.conns[f].LocalAddr(); a != nil {
			ts.Addr = a.String()
		}
		ts.Good, ts.Questionable, ts.Buckets = t.Counts(now)
		st.Good += ts.Good
		st.Questionable += ts.Questionable
		st.Buckets += ts.Buckets
		if f == ipv4 {
			st.IPv4 = ts
		} else {
			st.IPv6 = ts
		}
	}
	st.Torrents, st.Peers = n.peers.Counts()
	st.Items, st.ItemBytes, _ = n.items.Counts()
	st.ItemsWithheld = n.withheld.Load()
	n.mu.Lock()
	st.LastBootstrap, st.LastBootstrapSource = n.lastBootstrap, n.lastBootstrapSource
	st.TableSavedAt = n.savedAt
	st.ExternalIP = n.externalIP
	n.mu.Unlock()
	return st
}

// ClosestGood returns up to k good nodes of the routing tables (both
// families), the closest to our own ID first (for the `nodes` of a new
// torrent).
func (n *Node) ClosestGood(k int) []netip.AddrPort {
	self := n.ID()
	var all []krpc.NodeInfo
	for _, t := range n.servedTables() {
		all = append(all, t.Closest(self, k, true, time.Now())...)
	}
	slices.SortStableFunc(all, func(a, b krpc.NodeInfo) int { return distanceCmp(a.ID, b.ID, self) })
	var out []netip.AddrPort
	for _, c := range all[:min(k, len(all))] {
		out = append(out, c.Addr)
	}
	return out
}

// SetExternalIP tells the node our address as others see it (from UPnP).
// By BEP 42 the node ID is then derived from it, unless it already is;
// a new ID re-files the tables and re-bootstraps. Local addresses are
// ignored, and so are IPv6 addresses while the node serves IPv4 (both
// tables share one ID, derived from the IPv4 address).
func (n *Node) SetExternalIP(ip netip.Addr) {
	n.setExternalIP(ip.Unmap(), true)
}

func (n *Node) setExternalIP(ip netip.Addr, fromUser bool) {
	if exemptIP(ip) || n.tables[familyOf(ip)] != n.primary() {
		return
	}
	n.mu.Lock()
	if !fromUser && n.ipFromUser || n.externalIP == ip && secureIDValid(n.ID(), ip) {
		n.mu.Unlock()
		return
	}
	n.externalIP = ip
	n.ipFromUser = n.ipFromUser || fromUser
	n.mu.Unlock()
	if secureIDValid(n.ID(), ip) {
		return
	}
	id := secureID(ip, randomID()[0])
	for _, t := range n.servedTables() {
		t.Reset(id, time.Now())
	}
	n.logf("dht: external address %v: new node ID %x", ip, id)
	n.kickBootstrap()
}

// vote records the address a responder saw our query come from (BEP 42
// `ip`); once enough distinct responders agree on a public address it is
// taken as our external IP.
func (n *Node) vote(voter, seen netip.Addr) {
	const need, keep = 4, 32
	seen = seen.Unmap()
	if exemptIP(seen) || exemptIP(voter) || n.tables[familyOf(seen)] != n.primary() {
		return
	}
	n.mu.Lock()
	if len(n.votes) >= keep {
		for v := range n.votes {
			delete(n.votes, v)
			break
		}
	}
	n.votes[voter] = seen
	count := 0
	for _, s := range n.votes {
		if s == seen {
			count++
		}
	}
	n.mu.Unlock()
	if count >= need {
		n.setExternalIP(seen, false)
	}
}
