package swarm

import (
	"sync"
)

// DefaultPieceMemory is the piece-buffer budget of a process (or of a
// swarm run without a shared PieceMemory).
const DefaultPieceMemory = 64 << 20

// PieceMemory is the budget of piece buffers (pieces being downloaded or
// verified) shared by every torrent of a process. Buffers given back are
// kept for reuse while the budget allows, so a download does not make a
// piece's worth of garbage per piece. A swarm that could not get a buffer
// asks to be woken when one is given back. It is safe for concurrent use.
type PieceMemory struct {
	mu      sync.Mutex // guards the fields below
	limit   int64
	used    int64    // bytes of buffers handed out
	free    [][]byte // buffers kept for reuse (counted in held)
	held    int64    // bytes of free buffers
	waiters map[chan<- struct{}]struct{}
}

// NewPieceMemory returns a budget of limit bytes (DefaultPieceMemory when
// limit <= 0).
func NewPieceMemory(limit int64) *PieceMemory {
	if limit <= 0 {
		limit = DefaultPieceMemory
	}
	return &PieceMemory{limit: limit, waiters: make(map[chan<- struct{}]struct{})}
}

// InUse returns the bytes of piece buffers handed out now.
func (m *PieceMemory) InUse() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.used
}

// Limit returns the budget in bytes.
func (m *PieceMemory) Limit() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.limit
}

// get returns a buffer of size bytes, or nil when the budget is spent.
// A nil result registers wake to receive one value (without blocking)
// when memory is given back.
func (m *PieceMemory) get(size int, wake chan<- struct{}) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, b := range m.free {
		if cap(b) >= size && cap(b) <= 2*size {
			m.free[i] = m.free[len(m.free)-1]
			m.free[len(m.free)-1] = nil
			m.free = m.free[:len(m.free)-1]
			m.held -= int64(cap(b))
			m.used += int64(cap(b))
			return b[:size]
		}
	}
	// Drop kept buffers of other sizes to make room.
	for m.used+m.held+int64(size) > m.limit && len(m.free) > 0 {
		b := m.free[len(m.free)-1]
		m.free[len(m.free)-1] = nil
		m.free = m.free[:len(m.free)-1]
		m.held -= int64(cap(b))
	}
	if m.used+int64(size) > m.limit {
		if wake != nil {
			m.waiters[wake] = struct{}{}
		}
		return nil
	}
	m.used += int64(size)
	return make([]byte, size)
}

// put gives a buffer from get back and wakes the swarms waiting for one.
func (m *PieceMemory) put(b []byte) {
	if b == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.used -= int64(cap(b))
	if m.used+m.held+int64(cap(b)) <= m.limit {
		m.free = append(m.free, b[:0])
		m.held += int64(cap(b))
	}
	for w := range m.waiters {
		select {
		case w <- struct{}{}:
		default:
		}
		delete(m.waiters, w)
	}
}

// forget drops wake from the waiters (a swarm that stops).
func (m *PieceMemory) forget(wake chan<- struct{}) {
	m.mu.Lock()
	delete(m.waiters, wake)
	m.mu.Unlock()
}
