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

// noUTPMemory is how long an address where TCP won the race (uTP failed
// or was slower than the head start) is dialed over both at once; maxNoUTP bounds how many such
// addresses are remembered.
const (
	noUTPMemory = time.Hour
	maxNoUTP    = 4096
)

// peerDialer opens outgoing peer connections over uTP and TCP, as
// libtorrent does, uTP first: a uTP attempt starts at once, a TCP attempt
// joins it after headStart (or as soon as uTP fails), and the first to
// connect wins; the other is abandoned, and closed should it connect too.
// An address where TCP won is dialed over both at once for noUTPMemory. Without a uTP socket it dials TCP only. Safe for
// concurrent use.
type peerDialer struct {
	utp       atomic.Pointer[utp.Socket] // nil: TCP only
	headStart time.Duration
	tcp       net.Dialer

	// mu guards noUTP.
	mu    sync.Mutex
	noUTP map[netip.AddrPort]time.Time // when TCP won a race to the address
}

func newPeerDialer(sock *utp.Socket, headStart time.Duration) *peerDialer {
	d := &peerDialer{headStart: headStart, noUTP: make(map[netip.AddrPort]time.Time)}
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
	go func() {
		c, err := sock.Dial(ctx, ap)
		r := dialResult{err: err, utp: true}
		if err == nil {
			r.conn = c
		}
		results <- r
	}()
	pending, tcpStarted := 1, false
	startTCP := func() {
		tcpStarted = true
		pending++
		go func() {
			c, err := d.tcp.DialContext(ctx, "tcp", address)
			results <- dialResult{conn: c, err: err}
		}()
	}
	wait := d.headStart
	if d.utpFailed(ap) {
		wait = 0
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	var errs []error
	notReady := false // the socket was not serving yet: no verdict on the peer
	for pending > 0 {
		select {
		case <-timer.C:
			if !tcpStarted {
				startTCP()
			}
		case r := <-results:
			pending--
			if r.err == nil {
				if !notReady {
					d.rememberNoUTP(ap, !r.utp)
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
				notReady = errors.Is(r.err, utp.ErrNotReady)
			}
			errs = append(errs, fmt.Errorf("%s: %w", name, r.err))
			if !tcpStarted {
				startTCP()
			}
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

// utpFailed reports whether TCP recently won a race to ap.
func (d *peerDialer) utpFailed(ap netip.AddrPort) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	t, ok := d.noUTP[ap]
	return ok && time.Since(t) < noUTPMemory
}

// rememberNoUTP records which transport won a race to ap: TCP (uTP
// failed or did not connect within the head start) or uTP.
func (d *peerDialer) rememberNoUTP(ap netip.AddrPort, tcpWon bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !tcpWon {
		delete(d.noUTP, ap)
		return
	}
	if len(d.noUTP) >= maxNoUTP {
		now := time.Now()
		for a, t := range d.noUTP {
			if now.Sub(t) >= noUTPMemory {
				delete(d.noUTP, a)
			}
		}
		if len(d.noUTP) >= maxNoUTP {
			clear(d.noUTP)
		}
	}
	d.noUTP[ap] = time.Now()
}
