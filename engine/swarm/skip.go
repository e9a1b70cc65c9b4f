package swarm

// abandonSkippedLocked gives up the pieces being downloaded that hold no
// byte of a wanted file any more: their outstanding requests are
// cancelled at every peer and their received blocks and memory let go,
// so a file the user just skipped stops arriving at once instead of
// running out its queue. Blocks of such a piece that arrive after the
// cancel are counted as wasted.
func (s *Swarm) abandonSkippedLocked() {
	var gone map[int]*partial
	for i, pp := range s.pk.active {
		if s.pk.priority(i) < Normal {
			if gone == nil {
				gone = make(map[int]*partial)
			}
			gone[i] = pp
		}
	}
	if gone == nil {
		return
	}
	for _, p := range s.peers {
		for b := range p.requests {
			if pp, ok := gone[b.piece]; ok {
				s.cancelLocked(p, b, pp)
			}
		}
	}
	for i := range gone {
		s.pk.abandon(i)
	}
	for _, p := range s.peers {
		s.fillRequestsLocked(p) // wanted blocks in the room freed
	}
}
