package utp

import (
	"sync/atomic"
	"time"
)

// ConnStats is a snapshot of one connection.
type ConnStats struct {
	RTT        time.Duration // smoothed round-trip time (0 before a sample)
	MinRTT     time.Duration // lowest round-trip sample (0 before one)
	RTO        time.Duration // retransmission timeout
	Delay      time.Duration // queuing delay our packets see, LEDBAT's measure
	Window     int           // congestion window, bytes
	PeerWindow int           // the peer's advertised receive window, bytes
	RecvWindow int           // the receive window we advertise, bytes
	InFlight   int           // payload bytes sent and not acknowledged
	PacketSize int           // size of our full packets (UDP payload bytes)
	Unsent     int           // bytes written and not yet sent
	Unread     int           // bytes received in order and not yet read

	BytesSent, BytesReceived, BytesRead uint64 // payload, retransmissions not counted in BytesSent
	PacketsSent, PacketsReceived        uint64
	Retransmits, FastRetransmits        uint64
	Timeouts, Losses, WindowProbes      uint64
	TailProbes                          uint64 // first unacknowledged packets sent again after a silence
	OutOfOrder, Duplicates              uint64 // data packets that arrived ahead of a gap, or twice
	Dropped                             uint64 // data packets dropped for want of window
	Ignored                             uint64 // packets out of any window (stale, forged or misdirected)
}

// MinRTT returns the lowest round trip measured on the connection (0
// before a sample): the path's delay without the queues our traffic
// builds. The swarm sizes its request queue by it.
func (c *Conn) MinRTT() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rtt.min
}

// Stats returns a snapshot of the connection's state and counters.
func (c *Conn) Stats() ConnStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.st
	st.RTT = c.rtt.srtt
	st.MinRTT = c.rtt.min
	st.RTO = c.rtt.rto()
	st.Delay = c.cc.delay(0)
	st.Window = int(c.cc.cwnd)
	st.PeerWindow = int(c.peerWnd)
	st.RecvWindow = int(c.wnd())
	st.InFlight = c.inflight
	st.PacketSize = c.mtu.size
	st.Unsent = c.unsent.Len()
	st.Unread = c.recvQ.Len()
	return st
}

// Stats is a snapshot of a socket.
type Stats struct {
	Conns    int // connections open, opening or closing
	Backlog  int // accepted connections waiting for Accept
	RecvHeld int // received bytes held by all connections

	PacketsIn, PacketsOut uint64
	Invalid               uint64 // packets that do not parse
	Unknown               uint64 // packets for no connection
	Syns                  uint64 // connection requests received
	SynsDropped           uint64 // requests left unanswered by the reply rate limit
	Refused               uint64 // requests and handshakes refused for the limits
	Accepted, Dialed      uint64
	ResetsSent            uint64 // RESETs sent to packets of closed connections
}

type socketCounters struct {
	packetsIn, packetsOut, invalid, unknown atomic.Uint64
	syns, synsDropped, refused              atomic.Uint64
	accepted, dialed, resetsSent            atomic.Uint64
}

func (c *socketCounters) snapshot() Stats {
	return Stats{
		PacketsIn: c.packetsIn.Load(), PacketsOut: c.packetsOut.Load(),
		Invalid: c.invalid.Load(), Unknown: c.unknown.Load(),
		Syns: c.syns.Load(), SynsDropped: c.synsDropped.Load(), Refused: c.refused.Load(),
		Accepted: c.accepted.Load(), Dialed: c.dialed.Load(), ResetsSent: c.resetsSent.Load(),
	}
}
