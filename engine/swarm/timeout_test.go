package swarm

import (
	"crypto/rand"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/peerwire"
)

// TestKeepAliveAndIdleTimeout: a peer that handshakes and then says
// nothing gets keep-alives from us while it is quiet, and is dropped once
// it has been silent for the idle timeout; one that stalls inside the
// handshake is dropped after the handshake timeout.
func TestKeepAliveAndIdleTimeout(t *testing.T) {
	idleTimeout, keepAliveEvery := 1500*time.Millisecond, 200*time.Millisecond
	content, mi := testTorrent(t, 64<<10, 16<<10)
	s := startNode(t, mi, content, true, false, func(c *Config) {
		c.Timing.HandshakeTimeout, c.Timing.IdleTimeout, c.Timing.KeepAliveEvery = 300*time.Millisecond, idleTimeout, keepAliveEvery
	})

	c, err := net.Dial("tcp", s.addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var id [20]byte
	rand.Read(id[:])
	if _, err := c.Write(peerwire.AppendHandshake(nil, peerwire.NewHandshake(mi.InfoHash, id))); err != nil {
		t.Fatal(err)
	}
	if _, err := peerwire.ReadHandshake(c); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := peerwire.NewReader(c, mi.Info.NumPieces())
	keepalives := 0
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		m, err := r.ReadMessage()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err) {
				break
			}
			t.Fatalf("after %v: %v (want the connection closed by the swarm)", time.Since(start), err)
		}
		if m.Keepalive {
			keepalives++
		}
	}
	quiet := time.Since(start)
	if quiet < idleTimeout || quiet > idleTimeout+2*time.Second {
		t.Fatalf("a silent peer was dropped after %v, want about %v", quiet, idleTimeout)
	}
	if keepalives < 3 {
		t.Fatalf("%d keep-alives in %v of silence, want one every %v", keepalives, quiet, keepAliveEvery)
	}

	// A connection whose handshake stops before the peer ID.
	c2, err := net.Dial("tcp", s.addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	h := peerwire.AppendHandshake(nil, peerwire.NewHandshake(mi.InfoHash, id))
	if _, err := c2.Write(h[:peerwire.HandshakeLen-20]); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = io.Copy(io.Discard, c2)
	if d := time.Since(start); err != nil && !isReset(err) || d > 3*time.Second {
		t.Fatalf("a half handshake was kept for %v (%v)", d, err)
	}
}

// isReset reports a connection reset by the other side.
func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}
