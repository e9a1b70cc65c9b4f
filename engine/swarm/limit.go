package swarm

import "sync"

// ConnLimit bounds peer connections over all torrents. The zero value
// allows none; use NewConnLimit. It is safe for concurrent use.
type ConnLimit struct {
	mu  sync.Mutex // guards n and max
	n   int
	max int
}

// NewConnLimit returns a limit of max connections.
func NewConnLimit(max int) *ConnLimit { return &ConnLimit{max: max} }

// SetMax changes the limit; existing connections are kept.
func (l *ConnLimit) SetMax(max int) {
	l.mu.Lock()
	l.max = max
	l.mu.Unlock()
}

// InUse returns the connections counted now.
func (l *ConnLimit) InUse() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

func (l *ConnLimit) acquire() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n >= l.max {
		return false
	}
	l.n++
	return true
}

func (l *ConnLimit) release() {
	l.mu.Lock()
	l.n--
	l.mu.Unlock()
}
