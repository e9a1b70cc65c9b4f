package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/utp"
)

// winnerMemory is how long the transport that last won the race to an
// address is dialed first there; maxWinners bounds how many addresses are
// remembered.
const (
	winnerMemory = time.Hour
	maxWinners   = 4096
)

// peerDialer opens outgoing peer connections over TCP and uTP. By
// default it races them: both attempts start at once and TCP wins a near
// tie (uTP connecting first waits up to half its connect time, within
// minGrace and headStart, for TCP): on a lossy path the host's TCP
// (CUBIC, BBR) keeps its rate where uTP's LEDBAT halves its window at
// each loss, and it costs no user-space CPU per packet (bench-swarm: the
// mixed swarm 35 s over TCP against 46 s over uTP first). With preferUTP
// it dials as libtorrent does: uTP first, TCP after headStart or as soon
// as uTP fails. An address where uTP won, or whose TCP connection was
// closed at the handshake (a peer with TCP turned off, as libtorrent and
// Transmission allow), is dialed over uTP first for winnerMemory; with
// preferUTP, an address where TCP won is raced. Without a uTP socket it
// dials TCP only. Safe for concurrent use.
type peerDialer struct {
	utp       atomic.Pointer[utp.Socket] // nil: TCP only
	headStart time.Duration
	preferUTP bool
	tcp       func(ctx context.Context, network, address string) (net.Conn, error)

	// mu guards winners.
	mu      sync.Mutex
	winners map[netip.AddrPort]winner
}

// minGrace is the least a uTP connection that won a race waits for TCP.
const minGrace = 20 * time.Millisecond

// winner is the transport that last won the race to an address.
type winner struct {
	utp bool
	at  time.Time
}

func newPeerDialer(sock *utp.Socket, headStart time.Duration, preferUTP bool) *peerDialer {
	d := &peerDialer{headStart: headStart, preferUTP: preferUTP, winners: make(map[netip.AddrPort]winner)}
	d.tcp = (&net.Dialer{}).DialContext
	d.utp.Store(sock)
	return d
}

// dialResult is one transport's attempt.
type dialResult struct {
	conn net.Conn
	err  error
	utp  bool
}

// DialContext connects to address ("ip:port"); network is ignored (the
// swarm asks for "tcp"). It gives up when ctx ends.
func (d *peerDialer) DialContext(ctx context.Context, _, address string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(address)
	sock := d.utp.Load()
	if sock == nil || err != nil {
		return d.tcp(ctx, "tcp", address)
	}
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan dialResult, 2)
	start := func(overUTP bool) {
		go func() {
			var r dialResult
			if overUTP {
				c, err := sock.Dial(ctx, ap)
				r = dialResult{err: err, utp: true}
				if err == nil {
					r.conn = c
				}
			} else {
				r.conn, r.err = d.tcp(ctx, "tcp", address)
			}
			results <- r
		}()
	}
	began := time.Now()
	// Race: both now. uTP first: TCP after the head start, or when uTP fails.
	pending, tcpStarted, tcpPending := 0, false, false
	startTCP := func() {
		if !tcpStarted {
			tcpStarted, tcpPending = true, true
			pending++
			start(false)
		}
	}
	pending++
	start(true)
	if !d.utpFirst(ap) {
		startTCP()
	}
	timer := time.NewTimer(d.headStart)
	defer timer.Stop()
	var held net.Conn // a uTP connection waiting out its grace for TCP
	var errs []error
	notReady := false // the uTP socket was not serving yet: no verdict on the peer
	win := func(c net.Conn, overUTP bool) (net.Conn, error) {
		if !notReady {
			d.remember(ap, overUTP)
		}
		if pending > 0 {
			cancel()
			go closeLate(results)
		}
		return c, nil
	}
	for pending > 0 {
		select {
		case <-timer.C:
			if held != nil {
				return win(held, true)
			}
			startTCP()
		case r := <-results:
			pending--
			if !r.utp {
				tcpPending = false
			}
			switch {
			case r.err == nil && r.utp && tcpPending:
				held = r.conn
				timer.Reset(min(d.headStart, max(minGrace, time.Since(began)/2)))
			case r.err == nil:
				if held != nil {
					held.Close()
				}
				return win(r.conn, r.utp)
			case held != nil:
				return win(held, true) // TCP failed
			default:
				name := "TCP"
				if r.utp {
					name = "uTP"
					notReady = notReady || errors.Is(r.err, utp.ErrNotReady)
				}
				errs = append(errs, fmt.Errorf("%s: %w", name, r.err))
				if r.utp {
					startTCP()
				}
			}
		}
	}
	if held != nil {
		return win(held, true)
	}
	return nil, errors.Join(errs...)
}

// utpFirst reports whether to dial ap over uTP first, TCP after the head
// start (an address where uTP won last, or with preferUTP one where TCP
// has not), rather than to race them.
func (d *peerDialer) utpFirst(ap netip.AddrPort) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	w, ok := d.winners[ap]
	if ok && time.Since(w.at) < winnerMemory {
		return w.utp
	}
	return d.preferUTP
}

// closeLate closes the losing attempt's connection, should it connect
// after all (its context is cancelled, so it ends soon).
func closeLate(results <-chan dialResult) {
	if r := <-results; r.err == nil {
		r.conn.Close()
	}
}

// Refused is told of an outgoing connection the peer closed during the
// handshake before sending a byte. It reports whether to dial again at
// once: when conn was TCP and uTP is on, the address is remembered as
// uTP first (the peer may accept TCP only to close it).
func (d *peerDialer) Refused(conn net.Conn) bool {
	if d.utp.Load() == nil || conn.RemoteAddr().Network() != "tcp" {
		return false
	}
	ap, err := netip.ParseAddrPort(conn.RemoteAddr().String())
	if err != nil {
		return false
	}
	d.remember(netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), true)
	return true
}

// remember records which transport won the race to ap.
func (d *peerDialer) remember(ap netip.AddrPort, overUTP bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if overUTP == d.preferUTP {
		delete(d.winners, ap)
		return
	}
	if len(d.winners) >= maxWinners {
		now := time.Now()
		for a, w := range d.winners {
			if now.Sub(w.at) >= winnerMemory {
				delete(d.winners, a)
			}
		}
		if len(d.winners) >= maxWinners {
			clear(d.winners)
		}
	}
	d.winners[ap] = winner{utp: overUTP, at: time.Now()}
}
