package dht

import (
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
)

// memNet is an in-memory packet network for simulations: each memConn is
// a net.PacketConn with a fake UDP address. Like UDP, a packet to an
// address nobody holds, or to a full inbox, is lost silently.
type memNet struct {
	mu    sync.Mutex
	conns map[netip.AddrPort]*memConn
}

type memPacket struct {
	b    []byte
	from netip.AddrPort
}

func newMemNet() *memNet { return &memNet{conns: map[netip.AddrPort]*memConn{}} }

// Listen returns a connection at addr.
func (m *memNet) Listen(addr netip.AddrPort) *memConn {
	c := &memConn{net: m, addr: addr, in: make(chan memPacket, 1024), closed: make(chan struct{}), wake: make(chan struct{})}
	m.mu.Lock()
	m.conns[addr] = c
	m.mu.Unlock()
	return c
}

type memConn struct {
	net    *memNet
	addr   netip.AddrPort
	in     chan memPacket
	closed chan struct{}
	once   sync.Once

	// mu guards deadline and wake.
	mu       sync.Mutex
	deadline time.Time
	wake     chan struct{} // closed when the deadline changes
}

func (c *memConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		c.mu.Lock()
		dl, wake := c.deadline, c.wake
		c.mu.Unlock()
		var timeout <-chan time.Time
		if !dl.IsZero() {
			d := time.Until(dl)
			if d <= 0 {
				return 0, nil, os.ErrDeadlineExceeded
			}
			t := time.NewTimer(d)
			timeout = t.C
			defer t.Stop()
		}
		select {
		case p := <-c.in:
			return copy(b, p.b), net.UDPAddrFromAddrPort(p.from), nil
		case <-c.closed:
			return 0, nil, net.ErrClosed
		case <-wake:
		case <-timeout:
		}
	}
}

func (c *memConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	default:
	}
	to := addrPortOf(addr)
	c.net.mu.Lock()
	dst := c.net.conns[to]
	c.net.mu.Unlock()
	if dst != nil {
		select {
		case dst.in <- memPacket{b: append([]byte(nil), b...), from: c.addr}:
		default:
		}
	}
	return len(b), nil
}

func (c *memConn) Close() error {
	c.once.Do(func() {
		close(c.closed)
		c.net.mu.Lock()
		delete(c.net.conns, c.addr)
		c.net.mu.Unlock()
	})
	return nil
}

func (c *memConn) LocalAddr() net.Addr { return net.UDPAddrFromAddrPort(c.addr) }

func (c *memConn) SetDeadline(t time.Time) error { return c.SetReadDeadline(t) }

func (c *memConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	close(c.wake)
	c.wake = make(chan struct{})
	c.mu.Unlock()
	return nil
}

func (c *memConn) SetWriteDeadline(time.Time) error { return nil }
