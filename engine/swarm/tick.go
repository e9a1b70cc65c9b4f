package swarm

import (
	"net/netip"
	"time"
)

// onTick runs once a second: rates, request timeouts, queue sizes,
// choking, PEX, metadata retries and the resume callback.
func (s *Swarm) onTick() {
	now := time.Now()
	var pieces Pieces
	tell := false
	s.mu.Lock()
	dt := now.Sub(s.stats.lastTick).Seconds()
	if s.stats.lastTick.IsZero() || dt <= 0 {
		dt = 1
	}
	s.stats.lastTick = now
	var down, up float64
	for _, p := range s.peers {
		d := float64(p.downTotal-p.lastDown) / dt
		ut := p.upTotal.Load()
		u := float64(ut-p.lastUp) / dt
		s.stats.uploaded += ut - p.lastUp
		p.lastDown, p.lastUp = p.downTotal, ut
		prevDown := p.rateDown
		p.rateDown = 0.5*p.rateDown + 0.5*d
		p.rateUp = 0.5*p.rateUp + 0.5*u
		down += p.rateDown
		up += p.rateUp
		t := s.cfg.Timing
		span := queueSpan(pathRTT(p.conn), t.RequestQueueTime)
		p.maxReq, p.slowStart = nextQueue(p.maxReq, p.slowStart, prevDown, p.rateDown, now.Sub(p.lastBlock), t.RequestTimeout, span)
		s.checkRequestsLocked(p, now)
		s.fillRequestsLocked(p)
		if s.cfg.Logf != nil {
			s.logf("peer %s: down %.0f B/s, up %.0f B/s, queue %d, outstanding %d, choked by it %v, choking it %v",
				p.addr, p.rateDown, p.rateUp, p.maxReq, len(p.requests), p.peerChoking, p.amChoking)
		}
	}
	s.stats.rateDown, s.stats.rateUp = down, up
	if now.Sub(s.lastChoke) >= s.cfg.Timing.RechokeEvery {
		s.rechokeLocked(now)
	} else {
		s.newcomerTurnLocked(now)
	}
	if !s.cfg.Private {
		s.sendPEXLocked(now)
	}
	if s.meta != nil {
		s.requestMetadataLocked(now)
	}
	if s.haveDirty && s.cfg.OnHave != nil && s.pk != nil {
		s.haveDirty = false
		pieces, tell = s.piecesLocked(), true
	}
	s.mu.Unlock()
	if tell {
		s.cfg.OnHave(pieces)
	}
}

// maintain starts outgoing connections while there is room.
func (s *Swarm) maintain() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.paused || s.err != nil || s.ctx == nil || s.ctx.Err() != nil {
		return
	}
	room := s.cfg.MaxPeers - len(s.peers) - s.dialing
	if room <= 0 {
		return
	}
	perIP := make(map[netip.Addr]int, len(s.peers))
	for _, p := range s.peers {
		perIP[p.addr.Addr()]++
	}
	now := time.Now()
	for a, c := range s.known {
		if room <= 0 || s.dialing >= maxHalfOpen {
			return
		}
		if c.connected || c.banned || c.self || c.dialing || now.Before(c.nextTry) {
			continue
		}
		if (s.done && c.seed) || perIP[a.Addr()] >= s.cfg.MaxPeersPerIP {
			continue
		}
		perIP[a.Addr()]++
		c.dialing = true
		s.dialing++
		room--
		s.wg.Add(1)
		ctx := s.ctx
		go func() {
			defer s.wg.Done()
			s.dial(ctx, a)
		}()
	}
}
