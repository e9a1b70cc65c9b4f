package swarm

import (
	"context"
	"sync"
	"time"
)

// RateLimit is a token bucket shared by every connection in one direction
// (all downloads, or all uploads). A rate of 0 means no limit. It is safe
// for concurrent use; a nil *RateLimit never waits.
type RateLimit struct {
	mu     sync.Mutex // guards the fields below
	rate   float64    // bytes per second
	tokens float64
	last   time.Time
}

// NewRateLimit returns a limit of bytesPerSec (0: none).
func NewRateLimit(bytesPerSec int64) *RateLimit {
	return &RateLimit{rate: float64(bytesPerSec), last: time.Now()}
}

// SetRate changes the limit.
func (r *RateLimit) SetRate(bytesPerSec int64) {
	r.mu.Lock()
	r.rate = float64(bytesPerSec)
	r.mu.Unlock()
}

// Rate returns the limit in bytes per second (0: none; also for a nil
// limit).
func (r *RateLimit) Rate() int64 {
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return int64(r.rate)
}

// Wait takes n bytes from the bucket, waiting until they are available or
// ctx ends. The bucket holds at most a quarter second of traffic (and at
// least one block), so bursts stay short.
func (r *RateLimit) Wait(ctx context.Context, n int) error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	if r.rate <= 0 {
		r.mu.Unlock()
		return nil
	}
	now := time.Now()
	burst := max(r.rate/4, 2*BlockSize)
	r.tokens = min(r.tokens+now.Sub(r.last).Seconds()*r.rate, burst)
	r.last = now
	r.tokens -= float64(n)
	var wait time.Duration
	if r.tokens < 0 {
		wait = time.Duration(-r.tokens / r.rate * float64(time.Second))
	}
	r.mu.Unlock()
	if wait == 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
