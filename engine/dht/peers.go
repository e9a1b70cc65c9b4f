package dht

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// peerStore keeps the peers announced to us, per info hash, within
// limits: at most maxTorrents info hashes and maxPeers peers each. As BEP
// 33 asks, it holds one peer per IP address and torrent (a new announce
// from an address replaces its port and seed status), so that one host
// cannot fill a swarm's list from many ports; an IPv6 /64, which one host
// commonly holds whole, keeps at most maxPeersPerNet6 of its addresses. A
// peer is forgotten ttl after its last announce; when full, the torrent
// (or the peer) announced least recently makes room. Safe for concurrent
// use.
type peerStore struct {
	maxTorrents, maxPeers int
	ttl                   time.Duration

	// mu guards torrents.
	mu       sync.Mutex
	torrents map[ID]*swarmPeers
}

type swarmPeers struct {
	peers map[netip.Addr]*storedPeer
	last  time.Time
}

// storedPeer is one announce: the peer's port, whether it seeds (BEP 33
// `seed`), and when it last announced.
type storedPeer struct {
	port uint16
	seed bool
	last time.Time
}

func newPeerStore(maxTorrents, maxPeers int, ttl time.Duration) *peerStore {
	return &peerStore{maxTorrents: maxTorrents, maxPeers: maxPeers, ttl: ttl, torrents: map[ID]*swarmPeers{}}
}

// Add records that peer announced itself for ih, as a seed or not.
func (s *peerStore) Add(ih ID, peer netip.AddrPort, seed bool, now time.Time) {
	ip := peer.Addr().Unmap()
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
		sw = &swarmPeers{peers: map[netip.Addr]*storedPeer{}}
		s.torrents[ih] = sw
	}
	sw.last = now
	if _, ok := sw.peers[ip]; !ok {
		net := hostKey(ip)
		if p, n := sw.oldest(func(a netip.Addr) bool { return hostKey(a) == net }); n >= maxPeersPerNet6 {
			delete(sw.peers, p)
		} else if len(sw.peers) >= s.maxPeers {
			p, _ := sw.oldest(func(netip.Addr) bool { return true })
			delete(sw.peers, p)
		}
	}
	sw.peers[ip] = &storedPeer{port: peer.Port(), seed: seed, last: now}
}

// oldest returns the address that announced least recently among those
// that match, and how many match.
func (sw *swarmPeers) oldest(match func(netip.Addr) bool) (oldest netip.Addr, n int) {
	var when time.Time
	for a, p := range sw.peers {
		if !match(a) {
			continue
		}
		if n == 0 || p.last.Before(when) {
			oldest, when = a, p.last
		}
		n++
	}
	return oldest, n
}

// liveLocked returns the torrent's swarm with expired peers removed; nil
// if none is left.
func (s *peerStore) liveLocked(ih ID, now time.Time) *swarmPeers {
	sw := s.torrents[ih]
	if sw == nil {
		return nil
	}
	for a, p := range sw.peers {
		if now.Sub(p.last) >= s.ttl {
			delete(sw.peers, a)
		}
	}
	if len(sw.peers) == 0 {
		delete(s.torrents, ih)
		return nil
	}
	return sw
}

// Get returns up to max live peers of ih of the same address family as
// like (IPv4 or IPv6), in random order; with noSeed (BEP 33), the peers
// that are not seeds come first.
func (s *peerStore) Get(ih ID, max int, like netip.Addr, noSeed bool, now time.Time) []netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	sw := s.liveLocked(ih, now)
	if sw == nil || max <= 0 {
		return nil
	}
	f := familyOf(like)
	type pick struct {
		addr netip.AddrPort
		seed bool
	}
	var all []pick
	for a, p := range sw.peers {
		if familyOf(a) == f {
			all = append(all, pick{netip.AddrPortFrom(a, p.port), p.seed})
		}
	}
	rand.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	if noSeed {
		slices.SortStableFunc(all, func(a, b pick) int {
			switch {
			case a.seed == b.seed:
				return 0
			case b.seed:
				return -1
			}
			return 1
		})
	}
	out := make([]netip.AddrPort, 0, min(max, len(all)))
	for _, p := range all[:min(max, len(all))] {
		out = append(out, p.addr)
	}
	return out
}

// All returns up to max live peers of ih of both families, in random
// order.
func (s *peerStore) All(ih ID, max int, now time.Time) []netip.AddrPort {
	v4 := s.Get(ih, max, netip.IPv4Unspecified(), false, now)
	return append(v4, s.Get(ih, max-len(v4), netip.IPv6Unspecified(), false, now)...)
}

// Filters returns BEP 33's bloom filters of the seeds and of the other
// peers of ih (both families), and ok false if the store has none.
func (s *peerStore) Filters(ih ID, now time.Time) (seeds, peers *krpc.Bloom, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sw := s.liveLocked(ih, now)
	if sw == nil {
		return nil, nil, false
	}
	seeds, peers = new(krpc.Bloom), new(krpc.Bloom)
	for a, p := range sw.peers {
		if p.seed {
			seeds.Insert(a)
		} else {
			peers.Insert(a)
		}
	}
	return seeds, peers, true
}

// Expire forgets peers whose announce is older than the ttl.
func (s *peerStore) Expire(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked(now)
}

func (s *peerStore) expireLocked(now time.Time) {
	for ih := range s.torrents {
		s.liveLocked(ih, now)
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
