package linkem

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// packet is one IP packet in the emulator, in a buffer it reuses.
type packet struct {
	buf      []byte // MTU+1 bytes: a read that fills it was too long
	n        int    // bytes of buf in use
	src, dst int    // host indexes
}

// readBatch is how many packets the loop takes from one device per wakeup,
// so that a flooding host cannot starve the others or the releases.
const readBatch = 64

// emulator moves packets between the hosts' devices through their links:
// host i's packet to host j crosses up[i] then down[j]. One goroutine does
// everything: it waits in epoll for a device to be readable or for the
// earliest release time (one heap for all links), reads what is ready
// into its uplink, and releases what is due into the downlink or out to
// the destination device.
//
// epoll_pwait2 rather than the Go poller and a time.Timer: Go's timers
// wake up to a millisecond late, epoll_pwait2 to the kernel's timer slack
// (none for a real-time thread). The emulator runs in a process of its own
// (child.go says why) whose threads are real-time.
type emulator struct {
	start time.Time
	devs  []*device
	route func(b []byte, src int) int // destination host, or -1
	mtu   int
	slack int64 // least time between two wakeups (Config.Slack)

	// Owned by the loop goroutine.
	events     eventHeap
	seq        uint64
	free       []*packet // buffers to reuse
	maxBuffers int

	mu       sync.Mutex // guards the fields below against Stats; the loop holds it while it works
	up, down []*stage
	buffers  int // buffers allocated, at most maxBuffers
	counts   Counts
}

// Counts are the emulator's counts outside any one link. A snapshot.
type Counts struct {
	Unroutable uint64 // packets to an address no host has (dropped)
	NoBuffer   uint64 // packets dropped because every buffer was in use
	TooLong    uint64 // packets longer than the MTU (dropped)
	WriteFail  uint64 // packets a destination device refused
	// Released counts the packets a link released after holding them,
	// and Late sums how long after their release time that happened;
	// MaxLate is the worst. Late/Released is the loop's mean lateness.
	Released uint64
	Late     time.Duration
	MaxLate  time.Duration
}

// newEmulator makes the emulator of cfg (defaults applied) moving packets
// between devs, host i's device being devs[i].
func newEmulator(cfg Config, devs []*device) *emulator {
	n := len(cfg.Hosts)
	e := &emulator{
		start:      time.Now(),
		devs:       devs,
		route:      func(b []byte, src int) int { return routeIP(b, src, n) },
		mtu:        cfg.MTU,
		slack:      int64(cfg.Slack),
		maxBuffers: cfg.Buffers,
	}
	rtts := pathRTTs(cfg.Hosts)
	for i, h := range cfg.Hosts {
		e.up = append(e.up, newStage(h.Up, rtts[i], cfg.MTU, cfg.Hold, rand.New(rand.NewPCG(cfg.Seed, uint64(2*i)))))
		e.down = append(e.down, newStage(h.Down, rtts[i], cfg.MTU, cfg.Hold, rand.New(rand.NewPCG(cfg.Seed, uint64(2*i+1)))))
	}
	return e
}

// stats is a snapshot of the counts.
func (e *emulator) stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := Stats{Counts: e.counts, Buffers: e.buffers}
	for i := range e.up {
		s.Up = append(s.Up, e.up[i].stats)
		s.Down = append(s.Down, e.down[i].stats)
	}
	return s
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
// through every stage that does not hold it; a packet through all of them
// is written to its destination. Otherwise p is held in the heap, or
// dropped and its buffer freed.
func (e *emulator) enterLocked(p *packet, hop int, at int64) {
	for ; hop < 2; hop++ {
		st := e.stageOf(p, hop)
		t, v := st.admit(at, p.n)
		if v != pass {
			e.free = append(e.free, p)
			return
		}
		if t > at {
			e.seq++
			e.events.push(event{at: t, seq: e.seq, pkt: p, hop: hop})
			return
		}
		st.release(p.n)
	}
	e.deliverLocked(p)
}

// deliverLocked writes p to its destination and frees its buffer.
func (e *emulator) deliverLocked(p *packet) {
	if err := e.devs[p.dst].write(p.buf[:p.n]); err != nil {
		e.counts.WriteFail++
	}
	e.free = append(e.free, p)
}

// serve runs the loop until ctx ends or a device fails.
func (e *emulator) serve(ctx context.Context) error {
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return fmt.Errorf("eventfd: %w", err)
	}
	defer unix.Close(wake)
	stop := context.AfterFunc(ctx, func() {
		unix.Write(wake, []byte{1, 0, 0, 0, 0, 0, 0, 0})
	})
	defer stop()
	return e.loop(ctx, wake)
}

// loop moves packets until ctx ends; wake becomes readable then.
func (e *emulator) loop(ctx context.Context, wake int) error {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return fmt.Errorf("epoll: %w", err)
	}
	defer unix.Close(ep)
	// Each descriptor's event carries its index: 0 wake, i+1 host i.
	for i, fd := range append([]int{wake}, e.deviceFDs()...) {
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(i)}
		if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			return fmt.Errorf("epoll: %w", err)
		}
	}
	ready := make([]unix.EpollEvent, len(e.devs)+1)
	var woke int64 // when the loop last woke
	for {
		if d := woke + e.slack - e.now(); e.slack > 0 && d > 0 {
			// Let packets gather: one wakeup for all of them.
			ts := unix.NsecToTimespec(d)
			unix.Nanosleep(&ts, nil)
		}
		timeout := time.Duration(-1)
		if len(e.events) > 0 {
			timeout = time.Duration(max(e.events[0].at-e.now(), 0))
		}
		n, err := epollWait(ep, ready, timeout)
		if err != nil && err != unix.EINTR {
			return fmt.Errorf("epoll: %w", err)
		}
		if ctx.Err() != nil {
			return nil
		}
		woke = e.now()
		e.mu.Lock()
		e.releaseDueLocked()
		now := e.now()
		for _, ev := range ready[:max(n, 0)] {
			i := int(ev.Fd) - 1
			if i < 0 {
				continue
			}
			if ev.Events&(unix.EPOLLERR|unix.EPOLLHUP) != 0 {
				e.mu.Unlock()
				return fmt.Errorf("device of host %d failed (poll events %#x)", i, ev.Events)
			}
			if err := e.readLocked(i, e.devs[i], now); err != nil {
				e.mu.Unlock()
				return err
			}
		}
		e.mu.Unlock()
	}
}

func (e *emulator) deviceFDs() []int {
	var fds []int
	for _, d := range e.devs {
		fds = append(fds, d.fd)
	}
	return fds
}

// epollWait waits up to timeout (forever if negative) for events, to the
// nanosecond (epoll_pwait2; plain epoll_wait rounds to milliseconds).
func epollWait(ep int, events []unix.EpollEvent, timeout time.Duration) (int, error) {
	var ts *unix.Timespec
	if timeout >= 0 {
		t := unix.NsecToTimespec(int64(timeout))
		ts = &t
	}
	n, _, errno := unix.Syscall6(unix.SYS_EPOLL_PWAIT2, uintptr(ep), uintptr(unsafe.Pointer(&events[0])),
		uintptr(len(events)), uintptr(unsafe.Pointer(ts)), 0, 0)
	if errno == unix.ENOSYS { // before Linux 5.11
		ms := -1
		if timeout >= 0 {
			ms = int((timeout + time.Millisecond - 1) / time.Millisecond)
		}
		return unix.EpollWait(ep, events, ms)
	}
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// releaseDueLocked releases every held packet whose time has come.
func (e *emulator) releaseDueLocked() {
	t := e.now()
	for len(e.events) > 0 && e.events[0].at <= t {
		ev := e.events.pop()
		p := ev.pkt
		e.stageOf(p, ev.hop).release(p.n)
		late := time.Duration(t - ev.at)
		e.counts.Released++
		e.counts.Late += late
		e.counts.MaxLate = max(e.counts.MaxLate, late)
		// The next stage sees the packet arrive at its release time, not
		// now: the model's clock does not slip with the loop's.
		e.enterLocked(p, ev.hop+1, ev.at)
	}
}

// readLocked reads up to readBatch packets from host i's device d and
// admits them into host i's uplink at time now.
func (e *emulator) readLocked(i int, d *device, now int64) error {
	for range readBatch {
		p := e.newPacketLocked()
		buf := d.scratch // every buffer is held: read the packet to drop it
		if p != nil {
			buf = p.buf
		}
		n, err := d.read(buf)
		if err == nil && n == 0 {
			err = io.EOF // not a TUN device's answer: the other end is gone
		}
		if err != nil {
			if p != nil {
				e.free = append(e.free, p)
			}
			if err == unix.EAGAIN {
				return nil
			}
			return fmt.Errorf("reading host %d's device: %w", i, err)
		}
		if p == nil {
			e.counts.NoBuffer++
			continue
		}
		p.n = n
		dst := -1
		if n > e.mtu {
			e.counts.TooLong++
		} else if dst = e.route(p.buf[:n], i); dst < 0 {
			e.counts.Unroutable++
		}
		if dst < 0 {
			e.free = append(e.free, p)
			continue
		}
		p.src, p.dst = i, dst
		e.enterLocked(p, 0, now)
	}
	return nil
}
