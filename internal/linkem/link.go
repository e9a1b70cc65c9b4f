package linkem

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Link is what one direction of a link does to the IP packets crossing it,
// in this order: a drop-tail queue in front of a server sending at Rate,
// random loss on the wire, then the propagation Delay with Jitter. The zero
// Link passes packets through at once.
type Link struct {
	// Delay is the one-way propagation delay.
	Delay time.Duration
	// Jitter varies each packet's delay uniformly within ±Jitter (never
	// below zero). Unless Reorder is set a packet never overtakes the one
	// ahead of it: it waits for it, as on a real wire.
	Jitter time.Duration
	// Reorder lets jitter reorder packets.
	Reorder bool
	// Loss is the probability, from 0 to 1, that a packet is lost on the
	// wire, each packet independently. A lost packet still used its slot
	// at the rate.
	Loss float64
	// Rate is the link's rate in bits per second of IP packets (headers
	// included, no link-layer overhead); 0 means no limit and no queue.
	Rate int64
	// Queue is how many bytes the queue in front of the rate holds, the
	// packet being sent included; a packet that does not fit is dropped.
	// 0 means the bandwidth x delay product of the longest round trip
	// through this link (Config explains), and at least 32 full packets.
	Queue int
}

// Mbit is one megabit per second, for Link.Rate.
const Mbit = 1_000_000

// validate says what is wrong with l, if anything.
func (l Link) validate() error {
	switch {
	case l.Delay < 0 || l.Jitter < 0:
		return errors.New("negative delay or jitter")
	case l.Loss < 0 || l.Loss > 1 || l.Loss != l.Loss:
		return fmt.Errorf("loss %v outside [0, 1]", l.Loss)
	case l.Rate < 0 || l.Queue < 0:
		return errors.New("negative rate or queue")
	}
	return nil
}

// LinkStats counts what one direction of a link did. It is a snapshot.
type LinkStats struct {
	Packets   uint64 // packets offered to the link
	Bytes     uint64 // their bytes
	Delivered uint64 // packets passed on
	Lost      uint64 // packets lost at random on the wire
	Dropped   uint64 // packets dropped because the queue was full
	Overflow  uint64 // packets dropped because the link held too many bytes
	// QueueLimit is the queue size in bytes the link uses (after defaults);
	// 0 when it has no rate.
	QueueLimit int
	// PeakQueue is the largest queue seen, in bytes, the packet being sent
	// included.
	PeakQueue int
	// PeakHeld is the most bytes held at once, queued or on the wire;
	// HoldLimit bounds it (Config.Hold without a rate; with a rate, twice
	// the queue and Rate x (Delay+Jitter), plus four packets).
	PeakHeld  int
	HoldLimit int
}

// stage is one direction of a link: the packet model of a Link, without
// I/O. Times are nanoseconds on the emulator's clock. Not safe for
// concurrent use.
type stage struct {
	link      Link
	queue     int   // queue limit in bytes (after defaults); 0 without rate
	holdLimit int   // most bytes queued or on the wire at once
	busyUntil int64 // when the server finishes the last admitted packet
	lastOut   int64 // latest release time handed out, for keeping order
	held      int   // bytes admitted and not yet released
	rng       *rand.Rand
	stats     LinkStats
}

// verdict is what a stage does with a packet.
type verdict uint8

const (
	pass     verdict = iota // released at the time given
	lost                    // lost at random
	dropped                 // queue full
	overflow                // the stage holds too much already
)

// minQueuePackets is the smallest default queue, in full packets.
const minQueuePackets = 32

// newStage makes the stage for l. rtt is the longest round trip of a path
// through it (for the default queue), mtu the largest packet, hold the
// bound on bytes held when l has no rate.
func newStage(l Link, rtt time.Duration, mtu, hold int, rng *rand.Rand) *stage {
	s := &stage{link: l, rng: rng, holdLimit: hold}
	if l.Rate > 0 {
		s.queue = l.Queue
		if s.queue == 0 {
			s.queue = max(int(float64(l.Rate)/8*rtt.Seconds()), minQueuePackets*mtu)
		}
		// Twice the queue and what the wire holds over Delay+Jitter: a
		// stage at its rate reaches half of it, plus what the loop's
		// lateness keeps a little longer.
		wire := float64(l.Rate) / 8 * (l.Delay + l.Jitter).Seconds()
		s.holdLimit = 2*(s.queue+int(wire)) + 4*mtu
	}
	s.stats.QueueLimit = s.queue
	s.stats.HoldLimit = s.holdLimit
	return s
}

// admit offers a packet of size bytes arriving at now and says when it
// leaves the stage. A packet that passes is held until release is called
// with its size; one that does not is never held.
func (s *stage) admit(now int64, size int) (int64, verdict) {
	s.stats.Packets++
	s.stats.Bytes += uint64(size)
	if s.held+size > s.holdLimit {
		s.stats.Overflow++
		return 0, overflow
	}
	sent := now
	if r := s.link.Rate; r > 0 {
		start := max(now, s.busyUntil)
		backlog := int(float64(start-now) * float64(r) / 8e9)
		if backlog+size > s.queue {
			s.stats.Dropped++
			return 0, dropped
		}
		s.stats.PeakQueue = max(s.stats.PeakQueue, backlog+size)
		s.busyUntil = start + int64(float64(size)*8e9/float64(r))
		sent = s.busyUntil
	}
	if s.link.Loss > 0 && s.rng.Float64() < s.link.Loss {
		s.stats.Lost++
		return 0, lost
	}
	out := sent + int64(s.link.Delay)
	if j := int64(s.link.Jitter); j > 0 {
		out = max(out+s.rng.Int64N(2*j+1)-j, sent)
	}
	if !s.link.Reorder {
		out = max(out, s.lastOut)
	}
	s.lastOut = max(s.lastOut, out)
	s.held += size
	s.stats.PeakHeld = max(s.stats.PeakHeld, s.held)
	return out, pass
}

// release tells the stage a packet of size bytes it admitted has left.
func (s *stage) release(size int) {
	s.held -= size
	s.stats.Delivered++
}
