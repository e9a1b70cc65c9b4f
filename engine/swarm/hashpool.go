package swarm

import (
	"runtime"
	"sync"
)

// HashPool verifies complete pieces for every torrent of a process with at
// most a fixed number of goroutines. A worker starts when a piece is
// queued and no worker is free, and ends as soon as the queue is empty, so
// an idle or seeding torrent costs no goroutine at all. The queue holds
// pieces that already count against a PieceMemory budget, which bounds
// it. It is safe for concurrent use.
type HashPool struct {
	mu      sync.Mutex // guards queue and running
	queue   []hashJob
	running int
	workers int
}

// hashJob is one complete piece of one swarm waiting to be verified: run
// verifies it and tells the swarm.
type hashJob struct {
	s   *Swarm
	pp  *partial
	run func()
}

// NewHashPool returns a pool of at most workers goroutines (runtime.NumCPU
// when workers <= 0).
func NewHashPool(workers int) *HashPool {
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	return &HashPool{workers: workers}
}

// submit queues a job; it never blocks.
func (h *HashPool) submit(j hashJob) {
	h.mu.Lock()
	h.queue = append(h.queue, j)
	start := h.running < h.workers
	if start {
		h.running++
	}
	h.mu.Unlock()
	if start {
		go h.work()
	}
}

// work verifies queued pieces until the queue is empty.
func (h *HashPool) work() {
	for {
		h.mu.Lock()
		if len(h.queue) == 0 {
			h.running--
			h.queue = nil // let a large backing array go
			h.mu.Unlock()
			return
		}
		j := h.queue[0]
		h.queue[0] = hashJob{}
		h.queue = h.queue[1:]
		h.mu.Unlock()
		j.run()
	}
}

// drop removes the queued pieces of s (not those being verified) and
// returns them, for a swarm that is stopping.
func (h *HashPool) drop(s *Swarm) []*partial {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*partial
	kept := h.queue[:0]
	for _, j := range h.queue {
		if j.s == s {
			out = append(out, j.pp)
		} else {
			kept = append(kept, j)
		}
	}
	clear(h.queue[len(kept):])
	h.queue = kept
	return out
}

// Running returns how many workers are verifying pieces now.
func (h *HashPool) Running() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.running
}
