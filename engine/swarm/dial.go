package swarm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"syscall"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/peerwire"
)

// maxHalfOpen bounds outgoing connection attempts in progress per torrent.
const maxHalfOpen = 8

// maxIncomingHandshakes bounds incoming connections finishing their
// handshake per torrent (the listener bounds those before, see ConnLimit).
const maxIncomingHandshakes = 16

// incomingConn is an accepted connection whose handshake start has been
// read by the listener.
type incomingConn struct {
	conn     net.Conn
	reserved [8]byte
}

// dial connects to a candidate address and runs the connection.
func (s *Swarm) dial(ctx context.Context, a netip.AddrPort) {
	dctx, cancel := context.WithTimeout(ctx, s.cfg.Timing.HandshakeTimeout)
	conn, err := s.cfg.Dial(dctx, "tcp", a.String())
	var hs peerwire.Handshake
	if err == nil {
		hs, err = s.handshakeOut(dctx, conn)
		if err != nil && closedAtHandshake(err) && s.cfg.Refused != nil && s.cfg.Refused(conn) {
			conn.Close()
			conn, err = s.cfg.Dial(dctx, "tcp", a.String())
			if err == nil {
				hs, err = s.handshakeOut(dctx, conn)
			}
		}
	}
	cancel()
	s.mu.Lock()
	s.dialing--
	c := s.known[a]
	if c != nil {
		c.dialing = false
	}
	if err != nil {
		if c != nil {
			c.fails++
			c.nextTry = time.Now().Add(retryDelay(s.cfg.Timing.DialRetryMin, s.cfg.Timing.RedialMax, c.fails))
			if errors.Is(err, errSelf) {
				c.self = true
			}
		}
		s.mu.Unlock()
		if conn != nil {
			conn.Close()
		}
		s.logf("dial %s: %v", a, err)
		return
	}
	src := SourceManual
	if c != nil {
		src = c.src
	}
	s.mu.Unlock()
	s.runPeer(ctx, conn, hs, a, true, src)
}

// closedAtHandshake reports whether a handshake failed because the peer
// closed the connection before sending a byte.
func closedAtHandshake(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// retryDelay is the wait after n failures (or closes) in a row: first,
// doubling each time, at most most.
func retryDelay(first, most time.Duration, n int) time.Duration {
	if n <= 0 {
		return 0
	}
	d := first << min(n-1, 20)
	if d <= 0 || d > most {
		return most
	}
	return d
}

// ourHandshake returns the handshake we send.
func (s *Swarm) ourHandshake() peerwire.Handshake {
	hs := peerwire.NewHandshake(s.cfg.InfoHash, s.cfg.PeerID)
	if s.cfg.DHTPort == 0 {
		hs.Reserved[7] &^= 0x01
	}
	return hs
}

// handshakeOut sends our handshake and reads the peer's, within ctx's
// deadline and until ctx ends.
func (s *Swarm) handshakeOut(ctx context.Context, conn net.Conn) (peerwire.Handshake, error) {
	stop := closeOnDone(ctx, conn)
	defer stop()
	if err := writeHandshake(conn, s.ourHandshake()); err != nil {
		return peerwire.Handshake{}, err
	}
	theirs, err := peerwire.ReadHandshake(conn)
	if err != nil {
		return theirs, fmt.Errorf("reading handshake: %w", err)
	}
	if theirs.InfoHash != s.cfg.InfoHash {
		return theirs, errWrongHash
	}
	if theirs.PeerID == s.cfg.PeerID {
		return theirs, errSelf
	}
	return theirs, nil
}

func writeHandshake(conn net.Conn, hs peerwire.Handshake) error {
	if _, err := conn.Write(peerwire.AppendHandshake(nil, hs)); err != nil {
		return fmt.Errorf("sending handshake: %w", err)
	}
	return nil
}

// closeOnDone applies ctx's deadline to conn and makes its reads and
// writes fail once ctx ends; stop clears both.
func closeOnDone(ctx context.Context, conn net.Conn) (stop func()) {
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	}
	after := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	return func() {
		after()
		conn.SetDeadline(time.Time{})
	}
}

// startIncoming finishes an incoming handshake in its own goroutine; at
// most maxIncomingHandshakes run at once, others are closed.
func (s *Swarm) startIncoming(ctx context.Context, in incomingConn) {
	s.mu.Lock()
	if s.handshaking >= maxIncomingHandshakes {
		s.mu.Unlock()
		in.conn.Close()
		return
	}
	s.handshaking++
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		theirs, err := s.handshakeIn(ctx, in)
		s.mu.Lock()
		s.handshaking--
		s.mu.Unlock()
		if err != nil {
			in.conn.Close()
			return
		}
		ap, _ := netip.ParseAddrPort(in.conn.RemoteAddr().String())
		s.runPeer(ctx, in.conn, theirs, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), false, SourceIncoming)
	}()
}

// handshakeIn answers an incoming handshake and reads the peer ID that
// ends it.
func (s *Swarm) handshakeIn(ctx context.Context, in incomingConn) (peerwire.Handshake, error) {
	hctx, cancel := context.WithTimeout(ctx, s.cfg.Timing.HandshakeTimeout)
	defer cancel()
	stop := closeOnDone(hctx, in.conn)
	defer stop()
	if err := writeHandshake(in.conn, s.ourHandshake()); err != nil {
		return peerwire.Handshake{}, err
	}
	id, err := peerwire.ReadPeerID(in.conn)
	if err != nil {
		return peerwire.Handshake{}, err
	}
	if id == s.cfg.PeerID {
		return peerwire.Handshake{}, errSelf
	}
	return peerwire.Handshake{Reserved: in.reserved, InfoHash: s.cfg.InfoHash, PeerID: id}, nil
}
