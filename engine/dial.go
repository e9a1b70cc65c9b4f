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

// peerDialer opens outgoing peer connections over TCP and uTP. One
// transport starts at once and the other joins it after headStart (or as
// soon as the first fails); the first to connect wins, the other is
// abandoned, and closed should it connect too. TCP goes first unless
// preferUTP: on a lossy path the host's TCP (CUBIC, BBR) keeps its rate
// where uTP's LEDBAT halves its window at each loss, and it costs no
// user-space CPU per packet (bench-swarm: the mixed swarm 35.8 s over
// TCP against 46.3 s over uTP first). An address where the other
// transport won, or whose TCP connection was closed at the handshake (a
// peer with TCP turned off, as libtorrent and Transmission allow), is
// dialed over the winner first for winnerMemory. Without a uTP socket it
// dials TCP only. Safe for concurrent use.
type peerDialer struct {
	utp       atomic.Pointer[utp.Socket] // nil: TCP only
	headStart time.Duration
	preferUTP bool
	tcp       net.Dialer

	// mu guards winners.
	mu      sync.Mutex
	winners map[netip.AddrPort]winner
}

// winner is the transport that last won the race to an address.
type winner struct {
	utp bool
	at  time.Time
}

func newPeerDialer(sock *utp.Socket, headStart time.Duration, preferUTP bool) *peerDialer {
	d := &peerDialer{headStart: headStart, preferUTP: preferUTP, winners: make(map[netip.AddrPort]winner)}
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
		return d.tcp.DialContext(ctx, "tcp", address)
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
				r.conn, r.err = d.tcp.DialContext(ctx, "tcp", address)
			}
			results <- r
		}()
	}
	first := d.firstUTP(ap)
	start(first)
	pending, secondStarted := 1, false
	startSecond := func() {
		if !secondStarted {
			secondStarted = true
			pending++
			start(!first)
		}
	}
	timer := time.NewTimer(d.headStart)
	defer timer.Stop()
	var errs []error
	notReady := false // the uTP socket was not serving yet: no verdict on the peer
	for pending > 0 {
		select {
		case <-timer.C:
			startSecond()
		case r := <-results:
			pending--
			if r.err == nil {
				if !notReady {
					d.remember(ap, r.utp)
				}
				if pending > 0 {
					cancel()
					go closeLate(results)
				}
				return r.conn, nil
			}
			name := "TCP"
			if r.utp {
				name = "uTP"
				notReady = notReady || errors.Is(r.err, utp.ErrNotReady)
			}
			errs = append(errs, fmt.Errorf("%s: %w", name, r.err))
			startSecond()
		}
	}
	return nil, errors.Join(errs...)
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

// firstUTP reports whether to dial ap over uTP first: the transport that
// last won there, else the dialer's preference.
func (d *peerDialer) firstUTP(ap netip.AddrPort) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if w, ok := d.winners[ap]; ok && time.Since(w.at) < winnerMemory {
		return w.utp
	}
	return d.preferUTP
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
