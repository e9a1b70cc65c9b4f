package swarm

import (
	"net"
	"time"
)

// The request queue covers a span of a peer's measured rate (see
// resizeQueue): rttSpans round trips of the path to the peer, within
// [minQueueSpan, Timing.RequestQueueTime]. A deep queue fills a long fat
// path through TCP's loss stalls (each loss holds back in-order delivery
// for a round trip); on a short path it only makes the peer's queue of
// our requests long, and in a swarm every block queued with one peer is
// one that another peer, which may get the piece sooner, cannot send (a
// flash crowd of ten Swarmdrop leechers 20-100 ms apart: mean completion
// 16.9 s with 1.5 s of rate queued, 15.4 s with 0.5 s; the seeder sent
// 1.9 copies of each piece instead of 2.0).
const (
	rttSpans     = 8
	minQueueSpan = 500 * time.Millisecond
)

// queueSpan returns how much of a peer's rate to keep requested given
// the lowest round trip measured to it (0: unknown, all of most).
func queueSpan(minRTT, most time.Duration) time.Duration {
	if minRTT <= 0 {
		return most
	}
	return min(most, max(minQueueSpan, rttSpans*minRTT))
}

// minRTTer is a connection that measures its path's lowest round trip
// (a uTP connection).
type minRTTer interface{ MinRTT() time.Duration }

// pathRTT returns the lowest round trip the transport under conn has
// measured, or 0 when it cannot tell.
func pathRTT(conn net.Conn) time.Duration {
	switch c := conn.(type) {
	case minRTTer:
		return c.MinRTT()
	case *net.TCPConn:
		return tcpMinRTT(c)
	}
	return 0
}
