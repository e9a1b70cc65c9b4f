package dht

import (
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"
)

// peerStore keeps the peers announced to us, per info hash, within
// limits: at most maxTorrents info hashes and maxPeers peers each, of
// which at most maxPeersPerIP share an IPv4 address or IPv6 /64 (a few
// clients behind one NAT; more would let one host fill a swarm's list),
// each peer
// forgotten ttl after its last announce. When full, the torrent (or the
// peer, or that address's peer) announced least recently makes room. Safe
// for concurrent use.
type peerStore struct {
	maxTorrents, maxPeers int
	ttl                   time.Duration

	// mu guards torrents.
	mu       sync.Mutex
	torrents map[ID]*swarmPeers
}

type swarmPeers struct {
	peers map[netip.AddrPort]time.Time // last announce
	last  time.Time
}

func newPeerStore(maxTorrents, maxPeers int, ttl time.Duration) *peerStore {
	return &peerStore{maxTorrents: maxTorrents, maxPeers: maxPeers, ttl: ttl, torrents: map[ID]*swarmPeers{}}
}

// Add records that peer announced itself for ih.
func (s *peerStore) Add(ih ID, peer netip.AddrPort, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sw := s.torrents[ih]
	if sw == nil {
		if len(s.torrents) >= s.maxTorrents {
			s.expireLocked(now)
		}
		if len(s.torrents) >= s.maxTorrents {
			var oldest ID
			var when time.Time
			first := true
			for k, v := range s.torrents {
				if first || v.last.Before(when) {
					oldest, when, first = k, v.last, false
				}
			}
			delete(s.torrents, oldest)
		}
		sw = &swarmPeers{peers: map[netip.AddrPort]time.Time{}}
		s.torrents[ih] = sw
	}
	sw.last = now
	if _, ok := sw.peers[peer]; !ok {
		if p, n := sw.oldest(func(p netip.AddrPort) bool { return hostKey(p.Addr()) == hostKey(peer.Addr()) }); n >= maxPeersPerIP {
			delete(sw.peers, p)
		} else if len(sw.peers) >= s.maxPeers {
			p, _ := sw.oldest(func(netip.AddrPort) bool { return true })
			delete(sw.peers, p)
		}
	}
	sw.peers[peer] = now
}

// oldest returns the peer announced least recently among those that
// match, and how many match.
func (sw *swarmPeers) oldest(match func(netip.AddrPort) bool) (oldest netip.AddrPort, n int) {
	var when time.Time
	for p, t := range sw.peers {
		if !match(p) {
			continue
		}
		if n == 0 || t.Before(when) {
			oldest, when = p, t
		}
		n++
	}
	return oldest, n
}

// Get returns up to max live peers of ih of the same address family as
// like (IPv4 or IPv6), in random order.
func (s *peerStore) Get(ih ID, max int, like netip.Addr, now time.Time) []netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	sw := s.torrents[ih]
	if sw == nil || max <= 0 {
		return nil
	}
	v4 := like.Unmap().Is4()
	var out []netip.AddrPort
	for p, t := range sw.peers {
		if now.Sub(t) >= s.ttl {
			delete(sw.peers, p)
			continue
		}
		if p.Addr().Unmap().Is4() != v4 {
			continue
		}
		// Reservoir sampling keeps the choice uniform when there are more.
		if len(out) < max {
			out = append(out, p)
		} else if j := rand.IntN(len(out) + 1); j < max {
			out[j] = p
		}
	}
	if len(sw.peers) == 0 {
		delete(s.torrents, ih)
	}
	rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// All returns up to max live peers of ih of both families, in random
// order.
func (s *peerStore) All(ih ID, max int, now time.Time) []netip.AddrPort {
	v4 := s.Get(ih, max, netip.IPv4Unspecified(), now)
	return append(v4, s.Get(ih, max-len(v4), netip.IPv6Unspecified(), now)...)
}

// Expire forgets peers whose announce is older than the ttl.
func (s *peerStore) Expire(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked(now)
}

func (s *peerStore) expireLocked(now time.Time) {
	for ih, sw := range s.torrents {
		for p, t := range sw.peers {
			if now.Sub(t) >= s.ttl {
				delete(sw.peers, p)
			}
		}
		if len(sw.peers) == 0 {
			delete(s.torrents, ih)
		}
	}
}

// Counts returns the number of torrents and peers stored.
func (s *peerStore) Counts() (torrents, peers int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sw := range s.torrents {
		peers += len(sw.peers)
	}
	return len(s.torrents), peers
}
