package dht

import (
	"net/netip"
	"sync"
	"time"
)

// rateLimiter limits the queries each IP address may send us with a token
// bucket per address (rate per second, up to burst at once), and all
// queries together with one more bucket. It tracks at most maxIPs
// addresses: idle ones are forgotten first, then arbitrary ones, so a
// flood from many addresses cannot grow it. Safe for concurrent use.
type rateLimiter struct {
	rate, burst           float64 // per address
	totalRate, totalBurst float64 // all addresses together
	maxIPs                int

	// mu guards perIP and total.
	mu    sync.Mutex
	perIP map[netip.Addr]*tokenBucket
	total tokenBucket
}

type tokenBucket struct {
	tokens float64
	last   time.Time
}

func (b *tokenBucket) take(rate, burst float64, now time.Time) bool {
	if b.last.IsZero() {
		b.tokens = burst
	} else if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = min(burst, b.tokens+dt*rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func newRateLimiter(rate, burst float64, maxIPs int, totalRate float64) *rateLimiter {
	return &rateLimiter{
		rate: rate, burst: burst, maxIPs: maxIPs,
		perIP:     map[netip.Addr]*tokenBucket{},
		totalRate: totalRate, totalBurst: totalRate,
	}
}

// Allow reports whether a query from ip may be answered now. An IPv6
// address counts as its /64.
func (l *rateLimiter) Allow(ip netip.Addr, now time.Time) bool {
	ip = hostKey(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.perIP[ip]
	if b == nil {
		if len(l.perIP) >= l.maxIPs {
			l.sweepLocked(now)
		}
		b = &tokenBucket{}
		l.perIP[ip] = b
	}
	if !b.take(l.rate, l.burst, now) {
		return false
	}
	return l.total.take(l.totalRate, l.totalBurst, now)
}

// sweepLocked forgets addresses whose bucket has refilled (they carry no
// state), and if that is not enough, arbitrary ones down to 3/4 of maxIPs.
func (l *rateLimiter) sweepLocked(now time.Time) {
	l.dropIdleLocked(now)
	for ip := range l.perIP {
		if len(l.perIP) < l.maxIPs*3/4 {
			break
		}
		delete(l.perIP, ip)
	}
}

func (l *rateLimiter) dropIdleLocked(now time.Time) {
	full := l.burst / l.rate
	for ip, b := range l.perIP {
		if now.Sub(b.last).Seconds() >= full {
			delete(l.perIP, ip)
		}
	}
}

// Sweep forgets idle addresses.
func (l *rateLimiter) Sweep(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dropIdleLocked(now)
}

// Tracked returns how many addresses the limiter holds state for.
func (l *rateLimiter) Tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.perIP)
}
