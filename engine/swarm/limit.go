package swarm

import (
	"net/netip"
	"sync"
	"time"
)

// Process-wide defaults of a ConnLimit.
const (
	// DefaultMaxPerIP bounds connections to one IP address over all
	// torrents.
	DefaultMaxPerIP = 20
	// DefaultMaxHandshakes bounds incoming connections still in their
	// handshake, and DefaultMaxHandshakesPerIP those from one address.
	DefaultMaxHandshakes      = 64
	DefaultMaxHandshakesPerIP = 4
	// RefusedPause is how long new connections from an address are
	// closed unread after one of its connections was refused for a full
	// torrent or address: a flood of reconnections then costs an accept
	// and a close each, and leaves the handshake slots to others.
	RefusedPause = 5 * time.Second
	// maxPaused bounds the addresses remembered for RefusedPause.
	maxPaused = 4096
)

// ConnLimit bounds peer connections over all torrents: in total, per IP
// address, and, for incoming connections, those still in their handshake.
// The zero value allows none; use NewConnLimit. It is safe for concurrent
// use. Its maps hold only addresses with a connection, so they are bounded
// by the limits themselves.
type ConnLimit struct {
	mu            sync.Mutex // guards every field
	n, max        int
	maxPerIP      int
	perIP         map[netip.Addr]int
	hs            int
	maxHS         int
	maxHSPerIP    int
	handshakesFor map[netip.Addr]int
	paused        map[netip.Addr]time.Time // until when
}

// NewConnLimit returns a limit of max connections, DefaultMaxPerIP per
// address, and DefaultMaxHandshakes handshakes in progress
// (DefaultMaxHandshakesPerIP per address).
func NewConnLimit(max int) *ConnLimit {
	return &ConnLimit{
		max: max, maxPerIP: DefaultMaxPerIP, perIP: make(map[netip.Addr]int),
		maxHS: DefaultMaxHandshakes, maxHSPerIP: DefaultMaxHandshakesPerIP,
		handshakesFor: make(map[netip.Addr]int), paused: make(map[netip.Addr]time.Time),
	}
}

// SetMax changes the limit; existing connections are kept.
func (l *ConnLimit) SetMax(max int) {
	l.mu.Lock()
	l.max = max
	l.mu.Unlock()
}

// SetMaxPerIP changes the limit per address over all torrents (at least 1).
func (l *ConnLimit) SetMaxPerIP(n int) {
	l.mu.Lock()
	l.maxPerIP = max(n, 1)
	l.mu.Unlock()
}

// InUse returns the connections counted now.
func (l *ConnLimit) InUse() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

// admitResult says why a connection was or was not admitted.
type admitResult int

const (
	admitted admitResult = iota
	admitFull
	admitAddrFull
)

// acquire counts a connection to ip.
func (l *ConnLimit) acquire(ip netip.Addr) admitResult {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.perIP[ip] >= l.maxPerIP {
		return admitAddrFull
	}
	if l.n >= l.max {
		return admitFull
	}
	l.n++
	l.perIP[ip]++
	return admitted
}

// release gives back a connection counted by acquire.
func (l *ConnLimit) release(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n--
	if l.perIP[ip] <= 1 {
		delete(l.perIP, ip)
	} else {
		l.perIP[ip]--
	}
}

// BeginHandshake counts an incoming connection from ip whose handshake has
// not been read yet; it reports false, counting nothing, when too many are
// in progress in total or from ip, or when a connection from ip was
// refused less than RefusedPause ago: the caller closes the connection
// then. Each true is paired with one EndHandshake.
func (l *ConnLimit) BeginHandshake(ip netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if until, ok := l.paused[ip]; ok {
		if time.Now().Before(until) {
			return false
		}
		delete(l.paused, ip)
	}
	if l.hs >= l.maxHS || l.handshakesFor[ip] >= l.maxHSPerIP {
		return false
	}
	l.hs++
	l.handshakesFor[ip]++
	return true
}

// EndHandshake ends what BeginHandshake counted.
func (l *ConnLimit) EndHandshake(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.hs--
	if l.handshakesFor[ip] <= 1 {
		delete(l.handshakesFor, ip)
	} else {
		l.handshakesFor[ip]--
	}
}

// refused records that a connection from ip was refused for lack of room
// (see RefusedPause).
func (l *ConnLimit) refused(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if len(l.paused) >= maxPaused {
		for a, until := range l.paused {
			if now.After(until) || len(l.paused) >= maxPaused {
				delete(l.paused, a)
			}
		}
	}
	l.paused[ip] = now.Add(RefusedPause)
}
