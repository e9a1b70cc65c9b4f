package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/swarmdrop/swarmdrop/engine/dht"
	"github.com/swarmdrop/swarmdrop/engine/udpmux"
	"github.com/swarmdrop/swarmdrop/engine/utp"
)

// startUDP starts what shares the UDP socket n.udp: a mux sorting its
// packets, the DHT node (unless Config.NoDHT) and the uTP socket with its
// accept loop, which the mux feeds unless Config.NoUTP (see setUTP). They
// end with ctx; the socket is closed once all have.
func (e *Engine) startUDP(ctx context.Context, n *network) error {
	mux := udpmux.New(n.udp, udpmux.Config{Logf: e.cfg.Logf})
	n.mux = mux
	type part struct {
		name  string
		serve func(context.Context) error
	}
	var parts []part
	sock, err := utp.New(utp.Config{Transport: mux, Logf: e.cfg.Logf})
	if err != nil {
		return fmt.Errorf("starting uTP: %w", err)
	}
	n.utp = sock
	parts = append(parts, part{"uTP", sock.Serve})
	if !e.cfg.NoDHT {
		state := ""
		if e.cfg.StateDir != "" {
			state = filepath.Join(e.cfg.StateDir, "dht-table.dat")
		}
		node, err := dht.New(dht.Config{Conn: mux.DHT(), StateFile: state, Bootstrap: e.cfg.Bootstrap, Logf: e.cfg.Logf})
		if err != nil {
			return fmt.Errorf("starting the DHT: %w", err)
		}
		n.dht = node
		parts = append(parts, part{"the DHT", node.Serve})
	}
	parts = append(parts, part{"the socket reader", mux.Serve})
	var wg sync.WaitGroup
	for _, p := range parts {
		wg.Add(1)
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			defer wg.Done()
			if err := p.serve(ctx); err != nil && ctx.Err() == nil {
				e.emit(Problem{Err: fmt.Errorf("UDP port %d: %s stopped: %w", n.port, p.name, err)})
			}
		}()
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		wg.Wait()
		n.udp.Close()
	}()
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.acceptLoop(ctx, sock)
	}()
	return nil
}

// setUTP turns uTP peer connections on or off at once: the mux hands uTP
// packets to the socket or drops them, and the dialer uses it or not.
// Without a UDP socket (the DHT and uTP both off at start) uTP stays off.
func (n *network) setUTP(on bool) {
	if n.utp == nil {
		return
	}
	n.utpOn.Store(on)
	if on {
		n.mux.SetUTP(n.utp)
		n.dial.utp.Store(n.utp)
	} else {
		n.mux.SetUTP(nil)
		n.dial.utp.Store(nil)
	}
}
