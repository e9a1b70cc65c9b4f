package swarm

import (
	"slices"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/peerwire"
)

// Choking: tit-for-tat with regularSlots peers unchoked for their rate
// (what they give us while we download, what they take while we seed),
// plus one optimistic unchoke rotated every Timing.OptimisticEvery; a
// round runs every Timing.RechokeEvery.
const regularSlots = 4

// unchokeIfRoomLocked unchokes a newly interested peer at once when a slot
// is free, instead of waiting for the next round.
func (s *Swarm) unchokeIfRoomLocked(p *peer) {
	if !p.amChoking || s.pk == nil || s.paused {
		return
	}
	n := 0
	for _, q := range s.peers {
		if !q.amChoking {
			n++
		}
	}
	if n < regularSlots+1 {
		s.setChokeLocked(p, false)
	}
}

// rechokeLocked runs one choking round.
func (s *Swarm) rechokeLocked(now time.Time) {
	s.lastChoke = now
	var cands []*peer
	for _, p := range s.peers {
		if p.peerInterest && !p.closed {
			cands = append(cands, p)
		}
	}
	seeding := s.done
	slices.SortFunc(cands, func(a, b *peer) int {
		ra, rb := a.rateDown, b.rateDown
		if seeding {
			ra, rb = a.rateUp, b.rateUp
		}
		switch {
		case ra > rb:
			return -1
		case ra < rb:
			return 1
		}
		return int(a.id) - int(b.id)
	})
	unchoke := map[peerID]bool{}
	for i, p := range cands {
		if i < regularSlots {
			unchoke[p.id] = true
		}
	}
	if opt := s.peers[s.optimist]; opt == nil || !opt.peerInterest || now.Sub(s.optimistT) >= s.cfg.Timing.OptimisticEvery {
		s.optimist = 0
		var rest []*peer
		for _, p := range cands {
			if !unchoke[p.id] {
				rest = append(rest, p)
			}
		}
		if len(rest) > 0 {
			s.optimist = rest[s.pkRandLocked(len(rest))].id
			s.optimistT = now
		}
	}
	if s.optimist != 0 {
		unchoke[s.optimist] = true
	}
	for _, p := range s.peers {
		s.setChokeLocked(p, !unchoke[p.id])
	}
}

// pkRandLocked returns a random number in [0, n).
func (s *Swarm) pkRandLocked(n int) int {
	if s.pk != nil {
		return s.pk.rng.IntN(n)
	}
	return int(time.Now().UnixNano() % int64(n))
}

// setChokeLocked chokes or unchokes p, dropping (or, with the fast
// extension, rejecting) its queued requests when choking.
func (s *Swarm) setChokeLocked(p *peer, choke bool) {
	if p.amChoking == choke {
		return
	}
	p.amChoking = choke
	if !choke {
		p.chokedRequests = 0
		p.sendLocked(peerwire.Message{ID: peerwire.Unchoke})
		return
	}
	ups := p.q.dropUploads()
	ms := []peerwire.Message{{ID: peerwire.Choke}}
	if p.fast {
		for _, u := range ups {
			ms = append(ms, peerwire.Message{ID: peerwire.Reject, Index: u.index, Begin: u.begin, Length: u.length})
		}
	}
	p.sendLocked(ms...)
}
