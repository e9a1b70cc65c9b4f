package engine

import (
	"net/netip"
	"sync"
)

// Bounds of the tally of what peers say our address is.
const (
	contactVoters = 32 // peers whose report is kept (one each)
	contactNeed   = 2  // distinct peers that must agree
)

// contactVotes tallies the addresses peers say they see us at (BEP 10
// `yourip`), one report per peer address, at most contactVoters of them
// (the oldest goes first). It is safe for concurrent use: the swarms'
// goroutines add, the snapshot reads.
type contactVotes struct {
	mu     sync.Mutex
	votes  map[netip.Addr]netip.Addr // peer -> the address it sees us at
	order  []netip.Addr              // peers in the order first heard
	heard  int                       // reports received, kept or not
	public func(netip.Addr) bool     // which addresses count (nil: public ones)
}

// add records that peer sees us at seen. Reports from or about local
// addresses (loopback, private, link-local) are counted in heard only.
func (v *contactVotes) add(peer, seen netip.Addr) {
	peer, seen = peer.Unmap(), seen.Unmap()
	v.mu.Lock()
	defer v.mu.Unlock()
	v.heard++
	ok := v.public
	if ok == nil {
		ok = isPublic
	}
	if !ok(peer) || !ok(seen) {
		return
	}
	if v.votes == nil {
		v.votes = map[netip.Addr]netip.Addr{}
	}
	if _, known := v.votes[peer]; !known {
		if len(v.order) >= contactVoters {
			delete(v.votes, v.order[0])
			v.order = v.order[1:]
		}
		v.order = append(v.order, peer)
	}
	v.votes[peer] = seen
}

// agreed returns the address most peers agree on, when at least
// contactNeed do; the zero Addr otherwise.
func (v *contactVotes) agreed() netip.Addr {
	v.mu.Lock()
	defer v.mu.Unlock()
	count := map[netip.Addr]int{}
	var best netip.Addr
	for _, seen := range v.votes {
		count[seen]++
		if c := count[seen]; c > count[best] || (c == count[best] && seen.Less(best)) {
			best = seen
		}
	}
	if count[best] < contactNeed {
		return netip.Addr{}
	}
	return best
}

// isPublic reports whether ip could be our address on the internet.
func isPublic(ip netip.Addr) bool {
	return ip.IsValid() && !ip.IsLoopback() && !ip.IsPrivate() && !ip.IsLinkLocalUnicast() &&
		!ip.IsUnspecified() && !ip.IsMulticast()
}

// myContact returns our contact for friends and where its address came
// from: UPnP's external address, else the address DHT nodes agreed on
// (BEP 42), else the one peers agreed on (BEP 10); "" when none is
// known. The port is our listening port.
func (e *Engine) myContact(n *network, natIP string) (contact, source string) {
	switch {
	case natIP != "":
		return joinHostPort(natIP, n.port), "UPnP"
	case n.dht != nil:
		if ip := n.dht.Stats().ExternalIP; ip.IsValid() {
			return joinHostPort(ip.String(), n.port), "DHT"
		}
	}
	if ip := e.yourIP.agreed(); ip.IsValid() {
		return joinHostPort(ip.String(), n.port), "peers"
	}
	return "", ""
}
