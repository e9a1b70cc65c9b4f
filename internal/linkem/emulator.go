package linkem

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"
)

// packet is one IP packet in the emulator, in a buffer it reuses.
type packet struct {
	buf      []byte // MTU+1 bytes: a read that fills it was too long
	n        int    // bytes of buf in use
	src, dst int    // host indexes
}

// readBatch is how many packets a reader takes from its device per wakeup.
const readBatch = 32

// emulator moves packets between the hosts' devices through their links:
// host i's packet to host j crosses up[i] then down[j]. One reader
// goroutine per device admits packets into the uplinks; one scheduler
// goroutine releases them at their times (from one heap for all links),
// moves them to the downlinks and writes them to their destination.
type emulator struct {
	start time.Time
	devs  []*device
	route func(b []byte, src int) int // destination host, or -1
	mtu   int
	kick  chan struct{} // one slot: the earliest release time moved earlier

	mu sync.Mutex // guards the fields below
	up, down   []*stage
	events     eventHeap
	seq        uint64
	wake       int64     // when the scheduler next looks; MaxInt64 idle
	free       []*packet // buffers to reuse
	buffers    int       // buffers allocated, at most maxBuffers
	maxBuffers int
	counts     Counts
}

// Counts are the emulator's counts outside any one link. A snapshot.
type Counts struct {
	Unroutable uint64 // packets to an address no host has (dropped)
	NoBuffer   uint64 // packets dropped because every buffer was in use
	TooLong    uint64 // packets longer than the MTU (dropped)
	WriteFail  uint64 // packets a destination device refused
	// Released counts packets delivered after a wait, and Late sums how
	// long after their release time they were written; MaxLate is the
	// worst. Late/Released is the timer's mean lateness.
	Released uint64
	Late     time.Duration
	MaxLate  time.Duration
}

func (e *emulator) now() int64 { return int64(time.Since(e.start)) }

// newPacketLocked returns a free buffer, or nil when all are in use.
func (e *emulator) newPacketLocked() *packet {
	if n := len(e.free); n > 0 {
		p := e.free[n-1]
		e.free = e.free[:n-1]
		return p
	}
	if e.buffers >= e.maxBuffers {
		return nil
	}
	e.buffers++
	return &packet{buf: make([]byte, e.mtu+1)}
}

// stageOf is the stage that holds p at hop.
func (e *emulator) stageOf(p *packet, hop int) *stage {
	if hop == 0 {
		return e.up[p.src]
	}
	return e.down[p.dst]
}

// enterLocked puts p into the stage at hop, arriving at time at, and on
// through every stage that does not hold it. It says whether p is to be
// written to its destination now; false means it is held in the heap or
// was dropped (and its buffer freed).
func (e *emulator) enterLocked(p *packet, hop int, at int64) bool {
	for ; hop < 2; hop++ {
		st := e.stageOf(p, hop)
		t, v := st.admit(at, p.n)
		if v != pass {
			e.free = append(e.free, p)
			return false
		}
		if t > at {
			e.seq++
			e.events.push(event{at: t, seq: e.seq, pkt: p, hop: hop})
			return false
		}
		st.release(p.n)
	}
	return true
}

// serve runs the readers and the scheduler until ctx ends or a device
// fails, then stops them. A device failing is an error.
func (e *emulator) serve(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(e.devs)+1)
	var wg sync.WaitGroup
	for i, d := range e.devs {
		wg.Go(func() { errs <- e.read(ctx, i, d) })
	}
	wg.Go(func() { e.schedule(ctx); errs <- nil })
	var err error
	select {
	case <-ctx.Done():
	case err = <-errs:
	}
	cancel()
	for _, d := range e.devs {
		d.interrupt()
	}
	wg.Wait()
	return err
}

// read admits the packets of host i's device into host i's uplink.
func (e *emulator) read(ctx context.Context, i int, d *device) error {
	batch := make([]*packet, readBatch)
	for k := range batch {
		batch[k] = &packet{buf: make([]byte, e.mtu+1)}
	}
	var now []*packet // passed through without a wait: write at once
	for {
		n, err := d.readBatch(batch)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		e.mu.Lock()
		t := e.now()
		kick := false
		for k := range n {
			p := batch[k]
			if p.n > e.mtu {
				e.counts.TooLong++
				continue
			}
			dst := e.route(p.buf[:p.n], i)
			if dst < 0 {
				e.counts.Unroutable++
				continue
			}
			// The packet goes on; the reader takes a free buffer in its
			// place, or drops the packet if there is none.
			fresh := e.newPacketLocked()
			if fresh == nil {
				e.counts.NoBuffer++
				continue
			}
			batch[k] = fresh
			p.src, p.dst = i, dst
			if e.enterLocked(p, 0, t) {
				now = append(now, p)
			}
		}
		if len(e.events) > 0 && e.events[0].at < e.wake {
			kick = true
		}
		e.mu.Unlock()
		if kick {
			select {
			case e.kick <- struct{}{}:
			default:
			}
		}
		if len(now) > 0 {
			e.writeAll(now)
			e.mu.Lock()
			e.free = append(e.free, now...)
			e.mu.Unlock()
			clear(now)
			now = now[:0]
		}
	}
}

// schedule releases held packets at their times until ctx ends.
func (e *emulator) schedule(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var out []*packet
	for {
		e.mu.Lock()
		e.free = append(e.free, out...)
		clear(out)
		out = out[:0]
		t := e.now()
		for len(e.events) > 0 && e.events[0].at <= t {
			ev := e.events.pop()
			p := ev.pkt
			e.stageOf(p, ev.hop).release(p.n)
			if e.enterLocked(p, ev.hop+1, ev.at) {
				late := time.Duration(t - ev.at)
				e.counts.Released++
				e.counts.Late += late
				e.counts.MaxLate = max(e.counts.MaxLate, late)
				out = append(out, p)
			}
		}
		wait := time.Duration(math.MaxInt64)
		e.wake = math.MaxInt64
		if len(e.events) > 0 {
			e.wake = e.events[0].at
			wait = time.Duration(e.wake - t)
		}
		e.mu.Unlock()
		e.writeAll(out)
		if len(out) > 0 {
			continue // writing took time: look again before sleeping
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-e.kick:
		}
	}
}

// writeAll writes each packet to its destination's device.
func (e *emulator) writeAll(ps []*packet) {
	var failed uint64
	for _, p := range ps {
		if err := e.devs[p.dst].write(p.buf[:p.n]); err != nil {
			failed++
		}
	}
	if failed > 0 {
		e.mu.Lock()
		e.counts.WriteFail += failed
		e.mu.Unlock()
	}
}

// errStopped is what a device read returns once interrupted.
var errStopped = errors.New("linkem: stopped")
