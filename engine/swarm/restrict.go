package swarm

import (
	"github.com/swarmdrop/swarmdrop/engine/bitfield"
	"github.com/swarmdrop/swarmdrop/engine/peerwire"
)

// RestrictUploads limits the pieces the swarm uploads to those set in
// allowed (a copy is kept; a bitfield of another length than the
// torrent's piece count allows none). A request for any other piece is
// refused as one we will not serve: a Reject to a peer with the fast
// extension (BEP 6), nothing to one without; it is counted in
// Stats.Refused and never read from storage, and blocks of such pieces
// already queued are dropped (and rejected) unread. Peers that connect
// afterwards are told only of the allowed pieces. It serves a version of
// a publication whose files a newer version rewrites in the same folder.
// A later call replaces the set; UnrestrictUploads lifts it.
func (s *Swarm) RestrictUploads(allowed bitfield.Bitfield) {
	m := allowed.Clone()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.uploadMask.Store(&m)
	for _, p := range s.peers {
		for _, u := range p.q.dropUploadsIf(func(u uploadReq) bool { return !s.uploadAllowed(int(u.index)) }) {
			s.stats.refused++
			if p.fast {
				p.sendLocked(peerwire.Message{ID: peerwire.Reject, Index: u.index, Begin: u.begin, Length: u.length})
			}
		}
	}
}

// UnrestrictUploads lifts RestrictUploads: every piece we have is served.
func (s *Swarm) UnrestrictUploads() {
	s.uploadMask.Store(nil)
}

// uploadAllowed reports whether piece i may be uploaded (any goroutine:
// the writer asks it without Swarm.mu, so that a block queued just
// before a restriction is still not read).
func (s *Swarm) uploadAllowed(i int) bool {
	m := s.uploadMask.Load()
	return m == nil || m.Has(i)
}

// advertisedLocked returns the pieces we tell a newcomer we have, and
// whether that is every piece (have, less the pieces not allowed).
func (s *Swarm) advertisedLocked() (bitfield.Bitfield, bool) {
	m := s.uploadMask.Load()
	if m == nil {
		return s.pk.have, s.pk.complete()
	}
	f := bitfield.New(s.pk.numPieces)
	for i := range s.pk.numPieces {
		if s.pk.have.Has(i) && m.Has(i) {
			f.Set(i)
		}
	}
	return f, f.Full()
}

// dropUploadsIf removes the queued blocks for which drop is true and
// returns them.
func (q *sendQueue) dropUploadsIf(drop func(uploadReq) bool) []uploadReq {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []uploadReq
	kept := q.uploads[:0]
	for _, u := range q.uploads {
		if drop(u) {
			out = append(out, u)
			q.dataBytes -= 13 + int(u.length)
			continue
		}
		kept = append(kept, u)
	}
	q.uploads = kept
	return out
}
