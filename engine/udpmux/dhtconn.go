package udpmux

import (
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// dhtConn is the DHT's view of the socket: a net.PacketConn whose reads
// come from a bounded queue the mux fills and whose writes go straight to
// the socket.
type dhtConn struct {
	m      *Mux
	queue  chan dhtPacket
	bytes  atomic.Int64 // bytes in queue
	closed chan struct{}
	once   sync.Once

	// mu guards deadline and wake.
	mu       sync.Mutex
	deadline time.Time
	wake     chan struct{} // closed when the deadline changes
}

type dhtPacket struct {
	b    []byte
	from netip.AddrPort
}

func newDHTConn(m *Mux) *dhtConn {
	return &dhtConn{m: m, queue: make(chan dhtPacket, m.cfg.DHTQueue), closed: make(chan struct{}), wake: make(chan struct{})}
}

// push queues a copy of b; it reports false when the queue is full.
func (c *dhtConn) push(b []byte, from netip.AddrPort) bool {
	if c.bytes.Load()+int64(len(b)) > int64(c.m.cfg.DHTQueueBytes) {
		return false
	}
	select {
	case c.queue <- dhtPacket{b: append([]byte(nil), b...), from: from}:
		c.bytes.Add(int64(len(b)))
		return true
	default:
		return false
	}
}

// ReadFromUDPAddrPort reads the next KRPC packet into b. It fails with a
// timeout once the read deadline has passed (even with packets queued, as
// a socket does), and with net.ErrClosed after Close or once the mux has
// stopped.
func (c *dhtConn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	for {
		c.mu.Lock()
		deadline, wake := c.deadline, c.wake
		c.mu.Unlock()
		var timeout <-chan time.Time
		if !deadline.IsZero() {
			d := time.Until(deadline)
			if d <= 0 {
				return 0, netip.AddrPort{}, c.opErr(os.ErrDeadlineExceeded)
			}
			t := time.NewTimer(d)
			timeout = t.C
			defer t.Stop()
		}
		select {
		case <-c.closed:
			return 0, netip.AddrPort{}, c.opErr(net.ErrClosed)
		default:
		}
		select {
		case p := <-c.queue:
			c.bytes.Add(-int64(len(p.b)))
			return copy(b, p.b), p.from, nil
		case <-wake:
		case <-timeout:
		case <-c.closed:
			return 0, netip.AddrPort{}, c.opErr(net.ErrClosed)
		case <-c.m.done:
			return 0, netip.AddrPort{}, c.opErr(net.ErrClosed)
		}
	}
}

// ReadFrom is ReadFromUDPAddrPort with a *net.UDPAddr.
func (c *dhtConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := c.ReadFromUDPAddrPort(b)
	if err != nil {
		return 0, nil, err
	}
	return n, net.UDPAddrFromAddrPort(from), nil
}

// WriteToUDPAddrPort sends b to addr through the shared socket.
func (c *dhtConn) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	return c.m.WriteToUDPAddrPort(b, addr)
}

// WriteTo sends b to addr, a *net.UDPAddr.
func (c *dhtConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	a, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, &net.OpError{Op: "write", Net: "udp", Addr: addr, Err: net.InvalidAddrError("not a UDP address")}
	}
	return c.m.WriteToUDPAddrPort(b, a.AddrPort())
}

// Close closes the view (not the socket): reads fail with net.ErrClosed.
func (c *dhtConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

// LocalAddr is the socket's address.
func (c *dhtConn) LocalAddr() net.Addr { return c.m.conn.LocalAddr() }

// SetDeadline sets the read deadline; writes have none.
func (c *dhtConn) SetDeadline(t time.Time) error { return c.SetReadDeadline(t) }

// SetReadDeadline sets when reads fail with a timeout, waking a blocked
// one; the zero time means never.
func (c *dhtConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	close(c.wake)
	c.wake = make(chan struct{})
	c.mu.Unlock()
	return nil
}

// SetWriteDeadline does nothing: writes go straight to the socket, whose
// deadlines belong to the mux.
func (c *dhtConn) SetWriteDeadline(time.Time) error { return nil }

func (c *dhtConn) opErr(err error) error {
	return &net.OpError{Op: "read", Net: "udp", Addr: c.m.conn.LocalAddr(), Err: err}
}
