package swarm

import (
	"net/netip"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/peerwire"
)

// PEX (BEP 11): we tell each peer that supports ut_pex which peers we are
// connected to (added) and which went away (dropped): a first message as
// soon as there is a peer to tell of (a newcomer learns the swarm in
// seconds, as from libtorrent), then at most one per Timing.PEXEvery to
// that peer. What peers tell us becomes candidates, at most pexMaxIn per
// message and one message per peer per Timing.PEXMinIn.
const (
	pexMaxOut = 50
	pexMaxIn  = 50
)

func (s *Swarm) onPEX(p *peer, px peerwire.PEX) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if !p.lastPexIn.IsZero() && now.Sub(p.lastPexIn) < s.cfg.Timing.PEXMinIn {
		return
	}
	p.lastPexIn = now
	added := px.Added
	if len(added) > pexMaxIn {
		added = added[:pexMaxIn]
	}
	for _, a := range added {
		s.addCandidateLocked(a, SourcePEX)
	}
	s.poke()
}

// pexDueLocked reports whether p may get a PEX message now: it has not
// had one yet, or its last is Timing.PEXEvery old.
func (s *Swarm) pexDueLocked(p *peer, now time.Time) bool {
	return p.utPex != 0 && (p.lastPexOut.IsZero() || now.Sub(p.lastPexOut) >= s.cfg.Timing.PEXEvery)
}

// sendPEXLocked sends each ut_pex peer that is due the changes since its
// last message.
func (s *Swarm) sendPEXLocked(now time.Time) {
	due := false
	for _, p := range s.peers {
		// A lone peer with nothing sent before has nothing to hear.
		due = due || (s.pexDueLocked(p, now) && (len(s.peers) > 1 || len(p.pexSent) > 0))
	}
	if !due {
		return
	}
	current := make(map[netip.AddrPort]bool)
	for _, p := range s.peers {
		if a, ok := p.remoteListenLocked(); ok && len(current) < pexMaxOut {
			current[a] = true
		}
	}
	for _, p := range s.peers {
		if !s.pexDueLocked(p, now) {
			continue
		}
		var msg peerwire.PEX
		self, _ := p.remoteListenLocked()
		for a := range current {
			if a != self && !p.pexSent[a] {
				msg.Added = append(msg.Added, a)
				msg.AddedFlags = append(msg.AddedFlags, 0)
				p.pexSent[a] = true
			}
		}
		for a := range p.pexSent {
			if !current[a] {
				msg.Dropped = append(msg.Dropped, a)
				delete(p.pexSent, a)
			}
		}
		if len(msg.Added) == 0 && len(msg.Dropped) == 0 {
			continue
		}
		p.lastPexOut = now
		p.sendLocked(peerwire.Message{ID: peerwire.Extended, ExtID: uint8(p.utPex), ExtPayload: msg.Encode()})
	}
}
