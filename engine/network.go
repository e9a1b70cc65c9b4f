package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht"
	"github.com/swarmdrop/swarmdrop/engine/lsd"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/peerwire"
	"github.com/swarmdrop/swarmdrop/engine/udpmux"
	"github.com/swarmdrop/swarmdrop/engine/utp"
	"github.com/swarmdrop/swarmdrop/nat"
)

// network is the engine's listening port: TCP for peers, UDP (the same
// port number) shared by the DHT and uTP peers, the UPnP mapping of
// both, and local peer discovery announcing the port. With no bind
// address both listen on IPv4 and IPv6 (dual-stack sockets).
type network struct {
	tcp  net.Listener
	udp  *net.UDPConn // nil with the DHT and uTP off
	port int
	dht  *dht.Node    // nil with the DHT off
	mux  *udpmux.Mux  // sorts the UDP packets; nil without n.udp
	utp  *utp.Socket  // nil without n.udp; fed by mux while utpOn
	dial *peerDialer  // opens outgoing peer connections
	ip6  netip.Addr   // our global IPv6 address, if any (see ownIPv6)
	nat  *nat.Service // nil with UPnP off
	lsd  *lsd.Service // local peer discovery, switched off with NoLSD
	// utpOn says whether uTP peer connections are on (see setUTP).
	utpOn atomic.Bool

	// mu guards natStatus.
	mu        sync.Mutex
	natStatus nat.Status
}

// listenPair listens on TCP and UDP with the same port number. Port 0
// picks a free one (a few tries, since the UDP port may be taken).
func listenPair(bind string, port int, udp bool) (net.Listener, *net.UDPConn, error) {
	tries := 1
	if port == 0 {
		tries = 20
	}
	var lastErr error
	for range tries {
		l, err := net.Listen("tcp", net.JoinHostPort(bind, strconv.Itoa(port)))
		if err != nil {
			return nil, nil, fmt.Errorf("listening on TCP port %d: %w", port, err)
		}
		if !udp {
			return l, nil, nil
		}
		p := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", net.JoinHostPort(bind, strconv.Itoa(p)))
		if err == nil {
			return l, u.(*net.UDPConn), nil
		}
		l.Close()
		lastErr = fmt.Errorf("listening on UDP port %d: %w", p, err)
	}
	return nil, nil, lastErr
}

// startNetwork listens and starts the DHT node, uTP, the UPnP helper,
// local peer discovery and the accept loops, all ended by ctx.
func (e *Engine) startNetwork(ctx context.Context) (*network, error) {
	l, u, err := listenPair(e.cfg.Bind, e.cfg.Port, !e.cfg.NoDHT || !e.cfg.NoUTP)
	if err != nil {
		return nil, err
	}
	n := &network{tcp: l, udp: u, port: l.Addr().(*net.TCPAddr).Port, ip6: ownIPv6(e.cfg.Bind)}
	if u != nil {
		if err := e.startUDP(ctx, n); err != nil {
			l.Close()
			u.Close()
			return nil, err
		}
	}
	n.dial = newPeerDialer(nil, e.timing.DialHeadStart, e.cfg.PreferUTP)
	n.setUTP(!e.cfg.NoUTP)
	n.nat = nat.NewService(nat.Config{
		Port:        n.port,
		Description: "Swarmdrop",
		OnChange: func(st nat.Status) {
			n.mu.Lock()
			n.natStatus = st
			n.mu.Unlock()
			if n.dht != nil && st.ExternalIP.IsValid() {
				n.dht.SetExternalIP(st.ExternalIP)
			}
		},
	})
	n.nat.SetEnabled(!e.cfg.NoUPnP)
	e.startLSD(ctx, n)
	e.wg.Add(2)
	go func() {
		defer e.wg.Done()
		n.nat.Serve(ctx)
	}()
	go func() {
		defer e.wg.Done()
		e.acceptLoop(ctx, l)
	}()
	go func() {
		<-ctx.Done()
		l.Close()
	}()
	return n, nil
}

// acceptLoop accepts peer connections (TCP or uTP) and hands each to its torrent's
// swarm by the info hash in its handshake. Connections still in their
// handshake are bounded in total and per address (swarm.ConnLimit): past
// that, a new connection is closed at once.
func (e *Engine) acceptLoop(ctx context.Context, l net.Listener) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(50 * time.Millisecond) // e.g. out of file descriptors
			continue
		}
		ip := remoteIP(c)
		if !e.limit.BeginHandshake(ip) {
			c.Close()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer e.limit.EndHandshake(ip)
			e.route(ctx, c)
		}()
	}
}

// remoteIP returns a connection's remote address (the zero Addr when it
// has none).
func remoteIP(c net.Conn) netip.Addr {
	ap, _ := netip.ParseAddrPort(c.RemoteAddr().String())
	return ap.Addr().Unmap()
}

// route reads the start of an incoming handshake and passes the
// connection to the swarm it names, or closes it. It gives up when ctx
// ends.
func (e *Engine) route(ctx context.Context, c net.Conn) {
	c.SetDeadline(time.Now().Add(e.timing.Handshake))
	stop := context.AfterFunc(ctx, func() { c.Close() })
	reserved, ih, err := peerwire.ReadHandshakeStart(c)
	if !stop() || err != nil {
		c.Close()
		return
	}
	e.routesMu.Lock()
	sw := e.routes[metainfo.Hash(ih)]
	e.routesMu.Unlock()
	if sw == nil {
		c.Close()
		return
	}
	sw.Accept(c, reserved)
}
