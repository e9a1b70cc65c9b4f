package engine

import (
	"context"
	"crypto/rand"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/peerwire"
	"github.com/swarmdrop/swarmdrop/engine/swarm"
)

// TestLimitsSharedByUTPAndTCP: one address opens 5 TCP and 5 uTP
// connections to a torrent, each with a handshake and its own peer ID
// (the first, over uTP, admitted before the others start): the
// per-address limit of a torrent (swarm.DefaultMaxPeersPerIP) holds for
// both transports together.
func TestLimitsSharedByUTPAndTCP(t *testing.T) {
	e, ih, mi, addr := seedForFlood(t, testContent(t, t.TempDir(), "set", 50_000), 15)
	sock, _ := startUTPOn(t, "127.0.0.1:0")
	target := netip.MustParseAddrPort(addr)
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range 10 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var c net.Conn
		var err error
		if i%2 == 0 {
			c, err = sock.Dial(ctx, target)
		} else {
			c, err = (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		}
		cancel()
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
		var id [20]byte
		rand.Read(id[:])
		c.Write(peerwire.AppendHandshake(nil, peerwire.NewHandshake(mi.InfoHash, id)))
		go func() { // read (and drop) what the seeder sends, until closed
			b := make([]byte, 1<<14)
			for {
				if _, err := c.Read(b); err != nil {
					return
				}
			}
		}()
		if i == 0 {
			// The first (uTP) takes its slot before the TCP ones race
			// for the rest: on a loaded machine TCP's handshakes would
			// otherwise all finish first.
			waitTransport(t, e, ih, "uTP")
		}
	}
	deadline := time.Now().Add(3 * time.Second)
	most, transports := 0, map[string]bool{}
	for time.Now().Before(deadline) {
		ps := lastStatus(t, e, ih).PeerList
		most = max(most, len(ps))
		for _, p := range ps {
			transports[p.Transport] = true
		}
		time.Sleep(50 * time.Millisecond)
	}
	if most == 0 || most > swarm.DefaultMaxPeersPerIP {
		t.Fatalf("at most %d connections from one address at once, want 1 to %d", most, swarm.DefaultMaxPeersPerIP)
	}
	if !transports["uTP"] || !transports["TCP"] {
		t.Fatalf("transports seen %v, want both", transports)
	}
	t.Logf("at most %d of 10 connections from one address; transports seen %v", most, transports)
}

// waitTransport waits up to 10 s until the torrent's peer list holds a
// connection over transport.
func waitTransport(t *testing.T, e *Engine, ih, transport string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, p := range lastStatus(t, e, ih).PeerList {
			if p.Transport == transport {
				return
			}
		}
	}
	t.Fatalf("no %s connection listed after 10 s", transport)
}
