package swarm

import (
	"context"
	"net/netip"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/bitfield"
)

// Fair connection slots. A torrent holds at most MaxPeers connections and
// MaxPeersPerIP from one address; the ConnLimit bounds all torrents
// together. When a torrent (or the process) is full, a newcomer from an
// address that has no connection in the torrent takes the slot of the
// least useful connection: one that has exchanged no payload for
// Timing.EvictAfter, preferring a second connection from one address,
// then one that neither side is interested in. Both addresses, the
// newcomer's and the evicted one's, may not take another's slot for
// evictMemory: a flood of idle connections from many addresses can churn
// a few slots at most once per address per evictMemory, and the rest grow
// old enough to give way to a peer that transfers data. A refused
// connection pauses its address at the ConnLimit (RefusedPause).

// evictMemory is how long an address that evicted or was evicted may only
// take free slots; maxEvictedAddrs bounds how many are remembered.
const (
	evictMemory     = 2 * time.Minute
	maxEvictedAddrs = 1024
)

// register adds p to the swarm, refusing duplicates, banned addresses and
// connections over the limits (after trying to evict a useless one).
func (s *Swarm) register(p *peer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.ctx != nil && s.ctx.Err() != nil {
		// Run is closing its peers (or has): one registered now would
		// run unclosed until its idle timeout, and Run would wait for it.
		return context.Canceled
	}
	if s.paused {
		return errPaused
	}
	ip := p.addr.Addr()
	if c := s.known[p.addr]; (c != nil && c.banned) || s.bannedIDs[p.remoteID] {
		return errBanned
	}
	sameIP := 0
	for _, q := range s.peers {
		if q.remoteID == p.remoteID {
			return errDuplicate
		}
		if q.addr.Addr() == ip {
			sameIP++
		}
	}
	refuse := func(err error) error {
		if s.cfg.Limit != nil {
			s.cfg.Limit.refused(ip)
		}
		return err
	}
	if sameIP >= s.cfg.MaxPeersPerIP {
		return refuse(errAddrFull)
	}
	mayEvict := sameIP == 0 && s.mayEvictLocked(ip, now)
	if len(s.peers) >= s.cfg.MaxPeers {
		if !mayEvict || !s.evictLocked(ip, now) {
			return refuse(errFull)
		}
	}
	if l := s.cfg.Limit; l != nil {
		switch l.acquire(ip) {
		case admitAddrFull:
			return refuse(errAddrFull)
		case admitFull:
			// The process is full: make room in this torrent if it has a
			// useless connection.
			if !mayEvict || !s.evictLocked(ip, now) || l.acquire(ip) != admitted {
				return refuse(errFull)
			}
		}
	}
	s.nextID++
	p.id = s.nextID
	p.connectedAt = now
	p.lastPayload = now
	s.peers[p.id] = p
	s.poke() // an idle swarm ticks every second again
	if p.outgoing {
		if c := s.known[p.addr]; c != nil {
			c.connected, c.fails = true, 0
		}
	}
	s.logf("peer %s connected (%s)", p.addr, direction(p.outgoing))
	if s.pk != nil {
		p.have = bitfield.New(s.pk.numPieces)
	}
	return nil
}

// mayEvictLocked reports whether a newcomer from ip may take the slot of
// another connection, and forgets old evictions.
func (s *Swarm) mayEvictLocked(ip netip.Addr, now time.Time) bool {
	for a, t := range s.evicted {
		if now.Sub(t) > evictMemory {
			delete(s.evicted, a)
		}
	}
	t, ok := s.evicted[ip]
	return !ok || now.Sub(t) > evictMemory
}

// evictLocked closes the least useful connection, if one may go, to make
// room for a newcomer from ip, and reports whether it did.
func (s *Swarm) evictLocked(ip netip.Addr, now time.Time) bool {
	v := s.evictionVictimLocked(now)
	if v == nil {
		return false
	}
	s.logf("evicting %s for a newcomer from %s: no data either way for %v", v.addr, ip, now.Sub(v.idleSinceLocked()).Round(time.Second))
	if len(s.evicted) < maxEvictedAddrs-1 {
		s.evicted[v.addr.Addr()] = now
		s.evicted[ip] = now
	}
	s.stats.evicted++
	v.closeLocked(errEvicted)
	s.unregisterLocked(v) // frees the slot now, not when its reader ends
	return true
}

// evictionVictimLocked returns the connection a newcomer may replace, or
// nil: among those that have exchanged no payload for EvictAfter (and are
// at least that old), a duplicate address first, then one that neither
// side is interested in, then one only we are interested in, then the
// longest idle.
func (s *Swarm) evictionVictimLocked(now time.Time) *peer {
	after := s.cfg.Timing.EvictAfter
	perIP := make(map[netip.Addr]int, len(s.peers))
	for _, p := range s.peers {
		perIP[p.addr.Addr()]++
	}
	var best *peer
	bestRank := -1
	var bestIdle time.Time
	for _, p := range s.peers {
		idle := p.idleSinceLocked()
		if p.closed || now.Sub(p.connectedAt) < after || now.Sub(idle) < after {
			continue
		}
		rank := 0
		if perIP[p.addr.Addr()] > 1 {
			rank += 4
		}
		if !p.peerInterest {
			rank += 2
		}
		if !p.amInterested || p.peerChoking {
			rank++
		}
		if rank > bestRank || (rank == bestRank && idle.Before(bestIdle)) {
			best, bestRank, bestIdle = p, rank, idle
		}
	}
	return best
}

// unregisterLocked removes p and gives its outstanding requests back.
func (s *Swarm) unregisterLocked(p *peer) {
	if _, ok := s.peers[p.id]; !ok {
		return
	}
	delete(s.peers, p.id)
	s.logf("peer %s disconnected after %v", p.addr, time.Since(p.connectedAt).Round(time.Millisecond))
	s.stats.uploaded += p.upTotal.Load() - p.lastUp
	p.lastUp = p.upTotal.Load()
	if s.cfg.Limit != nil {
		s.cfg.Limit.release(p.addr.Addr())
	}
	if c := s.known[p.addr]; c != nil && p.outgoing {
		c.connected = false
		c.seed = p.haveAll || (p.have.Len() > 0 && p.have.Full())
		s.scheduleRedialLocked(c, p)
	}
	if s.pk != nil {
		s.dropRequestsLocked(p)
		if !p.haveAll { // have-all peers are not counted in avail
			for i := 0; i < s.pk.numPieces; i++ {
				if p.have.Has(i) {
					s.pk.lostHave(i)
				}
			}
		}
	}
	if s.optimist == p.id {
		s.optimist = 0
	}
	if s.meta != nil {
		s.meta.dropPeer(p.id)
	}
}

// scheduleRedialLocked sets when to reconnect to an address whose
// connection p just ended. Clients such as Transmission and rtorrent close
// right after sending a magnet's metadata and expect a quick reconnect:
// the first wait is Timing.RedialMin, doubling with every close in a row
// that moved no payload, up to RedialMax.
func (s *Swarm) scheduleRedialLocked(c *candidate, p *peer) {
	t := s.cfg.Timing
	if p.downTotal > 0 || p.upTotal.Load() > 0 {
		c.closes = 0
	}
	c.closes++
	d := retryDelay(t.RedialMin, t.RedialMax, c.closes)
	c.nextTry = time.Now().Add(d)
	time.AfterFunc(d, s.poke) // on time, not at the next tick
}

// direction names which side opened a connection, for log lines.
func direction(outgoing bool) string {
	if outgoing {
		return "outgoing"
	}
	return "incoming"
}
