package swarm

import (
	"time"

	"github.com/swarmdrop/swarmdrop/engine/peerwire"
)

// Request queue bounds: a peer gets at least minQueue requests outstanding
// and at most maxQueue (and always fewer than it accepts, its reqq); in
// between, enough for a span of its measured rate (queueSpan: 8 round
// trips of the path, within 0.5 s and Timing.RequestQueueTime), so
// that one fast peer fills the pipe (bandwidth x delay) and a slow one
// does not hoard blocks. minQueue is added to the rate's share and is
// small: with many peers, every block it reserves from a slow peer is one
// a faster peer holding the same piece cannot send (in a flash crowd of
// ten, 32 left leechers' uploads idle: mean completion 16.1 s against
// 14.9 s with 8).
const (
	minQueue     = 8
	startQueue   = 64 // at the start of slow start
	maxQueue     = 1500
	snubbedQueue = 4 // a peer that let a request time out
)

// The request logic below is pure (no locks, no I/O, no clock): the swarm
// passes in what it knows; requests_test.go drives it through tables.

// requestLimit is how many requests to keep outstanding with a peer whose
// queue is maxReq and that accepts reqq (0: unknown). It stays below reqq:
// Transmission rejects the reqq-th outstanding request.
func requestLimit(maxReq, reqq int) int {
	if reqq > 0 && maxReq >= reqq {
		return max(reqq-1, 1)
	}
	return maxReq
}

// requestRoom is how many requests to add now for a peer with outstanding
// requests of limit: none until the gap is worth a batch (fewer, larger
// writes), except when nothing is outstanding.
func requestRoom(limit, outstanding int) int {
	want := limit - outstanding
	if want <= 0 || (outstanding > 0 && want < min(8, limit/4)) {
		return 0
	}
	return want
}

// snubbed reports whether a peer has let its requests go unanswered for
// timeout: its oldest request and its last block are both that old.
func snubbed(oldest, lastBlock, now time.Time, timeout time.Duration) bool {
	return !oldest.IsZero() && now.Sub(oldest) >= timeout && now.Sub(lastBlock) >= timeout
}

// resizeQueue returns the request queue for a peer's measured rate
// (bytes per second) to keep span of it requested.
func resizeQueue(rate float64, span time.Duration) int {
	n := int(rate*span.Seconds()/BlockSize) + minQueue
	return min(max(n, minQueue), maxQueue)
}

// slowStartGrowth is the growth of a peer's measured rate from one tick
// to the next that keeps its request queue in slow start: as long as the
// rate still climbs (the peer's TCP is ramping up), one more request per
// block received doubles the queue each round trip.
const slowStartGrowth = 1.1

// nextQueue returns a peer's request queue after a tick, given its rate
// before (prevRate) and after the tick (bytes per second). Slow start
// lasts while the rate grows by slowStartGrowth and the queue is at most
// startQueue more than twice what the rate asks (so a slowly climbing
// peer cannot hoard blocks, while the first tick, with a few blocks
// measured, does not end it); it ends with the larger of the queue and
// the rate's, capped at twice the rate's.
// A snubbed peer keeps its short queue until it sends a block again;
// otherwise the queue follows the rate.
func nextQueue(maxReq int, slowStart bool, prevRate, rate float64, sinceBlock, timeout, span time.Duration) (int, bool) {
	switch {
	case slowStart && rate > 0:
		q := resizeQueue(rate, span)
		if rate >= prevRate*slowStartGrowth && maxReq <= 2*q+startQueue {
			return max(maxReq, q), true
		}
		return max(min(maxReq, 2*q), q), false
	case slowStart:
		return maxReq, true
	case maxReq > snubbedQueue || sinceBlock < timeout:
		return resizeQueue(rate, span), false
	}
	return maxReq, false
}

// fillRequestsLocked tops up p's outstanding requests.
func (s *Swarm) fillRequestsLocked(p *peer) {
	if s.pk == nil || p.closed || p.peerChoking || !p.amInterested || s.paused || s.err != nil || s.done {
		return
	}
	want := requestRoom(requestLimit(p.maxReq, p.reqq), len(p.requests))
	if want == 0 {
		return
	}
	now := time.Now()
	ms := make([]peerwire.Message, 0, min(want, 64))
	for ; want > 0; want-- {
		b, ok := s.pk.next(now, p.haveAll, p.have, p.requests)
		if !ok {
			break
		}
		p.requests[b] = now
		ms = append(ms, peerwire.Message{
			ID: peerwire.Request, Index: uint32(b.piece), Begin: uint32(b.begin),
			Length: uint32(s.pk.blockLength(b)),
		})
	}
	if len(ms) > 0 {
		p.sendLocked(ms...)
	}
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
// nothing for Timing.RequestTimeout, and marks it snubbed (a short queue)
// so it cannot hold up the tail of the download.
func (s *Swarm) checkRequestsLocked(p *peer, now time.Time) {
	var oldest time.Time
	for _, t := range p.requests {
		if oldest.IsZero() || t.Before(oldest) {
			oldest = t
		}
	}
	timeout := s.cfg.Timing.RequestTimeout
	if !snubbed(oldest, p.lastBlock, now, timeout) {
		return
	}
	s.dropRequestsLocked(p)
	p.maxReq = snubbedQueue
	s.logf("peer %s snubbed: no block for %v", p.addr, timeout)
}
