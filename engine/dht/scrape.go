package dht

import (
	"math"
	"net/netip"
	"sync"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// ScrapeResult is BEP 33's estimate of a torrent's swarm: the number of
// distinct addresses announced as seeds and as other peers, from the
// union of the bloom filters the lookup's nodes sent. With Replies 0 there
// is no estimate. The estimates are good to a few percent up to a few
// thousand peers, and mean little past 6,000.
type ScrapeResult struct {
	Seeds, Peers int
	Replies      int // replies that carried filters
	Legacy       int // replies with values but no filters, counted as peers
}

// maxLegacy bounds the addresses kept from replies without filters.
const maxLegacy = 1024

// scrapeSum gathers the filters of a lookup's replies, from the lookups of
// both families. Safe for concurrent use.
type scrapeSum struct {
	// mu guards the fields below.
	mu            sync.Mutex
	seeds, peers  krpc.Bloom
	replies       int
	legacyReplies int
	legacy        []netip.Addr // addresses from values of replies without filters
}

// add takes in a get_peers reply.
func (s *scrapeSum) add(r krpc.Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case r.BFsd != nil && r.BFpe != nil:
		s.seeds.Union(r.BFsd)
		s.peers.Union(r.BFpe)
		s.replies++
	case len(r.Values) > 0:
		// BEP 33's legacy responses: their peers count as peers.
		s.legacyReplies++
		for _, v := range r.Values {
			if len(s.legacy) < maxLegacy {
				s.legacy = append(s.legacy, v.Addr().Unmap())
			}
		}
	}
}

// result returns the estimate. Addresses of legacy replies count as
// peers unless the seed filter holds them.
func (s *scrapeSum) result() ScrapeResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	peers := s.peers
	for _, ip := range s.legacy {
		if !s.seeds.Has(ip) {
			peers.Insert(ip)
		}
	}
	r := ScrapeResult{Replies: s.replies, Legacy: s.legacyReplies}
	if r.Replies+r.Legacy > 0 {
		r.Seeds = int(math.Round(s.seeds.Estimate()))
		r.Peers = int(math.Round(peers.Estimate()))
	}
	return r
}
