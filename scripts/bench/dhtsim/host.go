package main

import (
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// host is a machine of the simulated internet with one UDP socket: it
// implements net.PacketConn for a dht.Node. Behind a NAT (natted), only
// packets from an address the host sent to within NATTimeout get in, as
// with a port-restricted NAT. Safe for concurrent use; one reader at a
// time.
type host struct {
	net    *simNet
	addr   netip.AddrPort
	natted bool
	x, y   float64       // where it is: the path delay grows with distance
	access time.Duration // its last mile's one-way delay
	// watch, if set before the host is used, sees the host's traffic.
	watch *observer

	inFlight  atomic.Int64  // packets it sent that are on their way
	signal    chan struct{} // one slot: a packet arrived
	closed    chan struct{}
	closeOnce sync.Once

	// mu guards the fields below.
	mu       sync.Mutex
	inbox    []queued
	readAt   time.Time                // read deadline; zero: none
	deadline chan struct{}            // closed when readAt changes
	nat      map[netip.AddrPort]int64 // NAT mapping: remote address -> last packet out (net time)
}

// queued is a packet in the socket buffer.
type queued struct {
	b    []byte
	from netip.AddrPort
	at   int64
}

// receive puts an arriving packet into the socket buffer, or says why not.
func (h *host) receive(p *packet, now int64) dropCause {
	select {
	case <-h.closed:
		return dropGone
	default:
	}
	h.mu.Lock()
	if h.natted {
		if last, ok := h.nat[p.from]; !ok || now-last > int64(h.net.cfg.NATTimeout) {
			h.mu.Unlock()
			return dropNAT
		}
	}
	if len(h.inbox) >= h.net.cfg.InboxLen {
		h.mu.Unlock()
		return dropInbox
	}
	h.inbox = append(h.inbox, queued{b: p.b, from: p.from, at: now})
	h.mu.Unlock()
	if h.watch != nil {
		h.watch.received(p.b, p.from, now)
	}
	select {
	case h.signal <- struct{}{}:
	default:
	}
	return delivered
}

// ReadFrom returns the next packet of the socket buffer, waiting for one
// until the read deadline or Close.
func (h *host) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		h.mu.Lock()
		if len(h.inbox) > 0 {
			q := h.inbox[0]
			h.inbox[0] = queued{}
			h.inbox = h.inbox[1:]
			if len(h.inbox) == 0 {
				h.inbox = nil // let the backing array go
			}
			h.mu.Unlock()
			h.net.waiting.add(time.Duration(h.net.now() - q.at))
			return copy(b, q.b), net.UDPAddrFromAddrPort(q.from), nil
		}
		readAt, changed := h.readAt, h.deadline
		h.mu.Unlock()
		var expired <-chan time.Time
		var timer *time.Timer
		if !readAt.IsZero() {
			d := time.Until(readAt)
			if d <= 0 {
				return 0, nil, os.ErrDeadlineExceeded
			}
			timer = time.NewTimer(d)
			expired = timer.C
		}
		select {
		case <-h.signal:
		case <-h.closed:
			return 0, nil, net.ErrClosed
		case <-changed:
		case <-expired:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// WriteTo sends b to addr (a *net.UDPAddr). Like UDP, it succeeds
// whatever becomes of the packet.
func (h *host) WriteTo(b []byte, addr net.Addr) (int, error) {
	select {
	case <-h.closed:
		return 0, net.ErrClosed
	default:
	}
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, &net.OpError{Op: "write", Net: "udp", Addr: addr, Err: net.UnknownNetworkError(addr.Network())}
	}
	to := ua.AddrPort()
	to = netip.AddrPortFrom(to.Addr().Unmap(), to.Port())
	if h.natted {
		h.mapNAT(to)
	}
	h.net.send(h, b, to)
	return len(b), nil
}

// mapNAT opens (or refreshes) the NAT mapping towards to. The NAT keeps
// at most NATLen mappings: expired ones go first, then arbitrary ones.
func (h *host) mapNAT(to netip.AddrPort) {
	now := h.net.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.nat[to]; !ok && len(h.nat) >= h.net.cfg.NATLen {
		for a, last := range h.nat {
			if now-last > int64(h.net.cfg.NATTimeout) {
				delete(h.nat, a)
			}
		}
		for a := range h.nat {
			if len(h.nat) < h.net.cfg.NATLen {
				break
			}
			delete(h.nat, a)
		}
	}
	h.nat[to] = now
}

// Close detaches the host from the network; packets to it are lost.
func (h *host) Close() error {
	h.closeOnce.Do(func() {
		close(h.closed)
		h.net.detach(h)
		h.mu.Lock()
		h.inbox = nil
		h.mu.Unlock()
	})
	return nil
}

func (h *host) LocalAddr() net.Addr { return net.UDPAddrFromAddrPort(h.addr) }

func (h *host) SetDeadline(t time.Time) error { return h.SetReadDeadline(t) }

func (h *host) SetReadDeadline(t time.Time) error {
	h.mu.Lock()
	h.readAt = t
	close(h.deadline)
	h.deadline = make(chan struct{})
	h.mu.Unlock()
	return nil
}

func (h *host) SetWriteDeadline(time.Time) error { return nil }
