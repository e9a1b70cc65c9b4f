package swarm

import (
	"time"

	"github.com/swarmdrop/swarmdrop/engine/peerwire"
)

// Request queue bounds: a peer gets at least minQueue requests outstanding
// and at most maxQueue (or what it accepts, reqq); in between, enough for
// queueSeconds of its measured rate, so that one fast peer fills the pipe
// (bandwidth x delay) and a slow one does not hoard blocks.
const (
	minQueue     = 32
	startQueue   = 128
	maxQueue     = 1500
	queueSeconds = 1.5
)

// fillRequestsLocked tops up p's outstanding requests.
func (s *Swarm) fillRequestsLocked(p *peer) {
	if s.pk == nil || p.closed || p.peerChoking || !p.amInterested || s.paused || s.err != nil || s.done {
		return
	}
	limit := p.maxReq
	if p.reqq > 0 && limit > p.reqq {
		limit = p.reqq
	}
	want := limit - len(p.requests)
	// Top up in batches: fewer, larger writes.
	if want <= 0 || (len(p.requests) > 0 && want < min(8, limit/4)) {
		return
	}
	now := time.Now()
	p.wmu.Lock()
	for ; want > 0; want-- {
		b, ok := s.pk.next(p.haveAll, p.have, p.requests)
		if !ok {
			break
		}
		p.requests[b] = now
		p.outbox = append(p.outbox, peerwire.Message{
			ID: peerwire.Request, Index: uint32(b.piece), Begin: uint32(b.begin),
			Length: uint32(s.pk.blockLength(b)),
		})
	}
	p.wmu.Unlock()
	p.wakeWriter()
}

// blockLength returns the length of block b.
func (pk *picker) blockLength(b block) int {
	size := pk.pieceSize(b.piece)
	if b.begin+BlockSize > size {
		return size - b.begin
	}
	return BlockSize
}

// dropRequestsLocked gives back every request outstanding with p.
func (s *Swarm) dropRequestsLocked(p *peer) {
	if s.pk == nil {
		clear(p.requests)
		return
	}
	for b := range p.requests {
		s.pk.unrequest(b)
	}
	clear(p.requests)
}

// unrequestLocked gives back one request.
func (s *Swarm) unrequestLocked(b block) {
	if s.pk != nil {
		s.pk.unrequest(b)
	}
}

// checkRequestsLocked gives away the requests of a peer that has sent
// nothing for requestTimeout, and marks it snubbed (a short queue) so it
// cannot hold up the tail of the download.
func (s *Swarm) checkRequestsLocked(p *peer, now time.Time) {
	if len(p.requests) == 0 {
		return
	}
	oldest := now
	for _, t := range p.requests {
		if t.Before(oldest) {
			oldest = t
		}
	}
	if now.Sub(oldest) < requestTimeout || now.Sub(p.lastBlock) < requestTimeout {
		return
	}
	s.dropRequestsLocked(p)
	p.maxReq = 4
	s.logf("peer %s snubbed: no block for %v", p.addr, requestTimeout)
}

// resizeQueue returns the request queue for a peer's measured rate.
func resizeQueue(rate float64) int {
	n := int(rate*queueSeconds/BlockSize) + minQueue
	return min(max(n, minQueue), maxQueue)
}
