package engine

import (
	"context"
	"net/netip"

	"github.com/swarmdrop/swarmdrop/engine/lsd"
	"github.com/swarmdrop/swarmdrop/engine/swarm"
)

// LSDStatus describes local peer discovery (BEP 14) for a snapshot.
type LSDStatus struct {
	Enabled    bool     // the setting: on unless turned off
	Interfaces []string // the interfaces announced on (none: no LAN to announce on)
	Torrents   int      // torrents announced
	Peers      uint64   // peers heard announcing one of them
	LastError  string   // the last socket or interface failure, if any
}

// startLSD starts local peer discovery for n: a Service announcing our
// TCP port, on the interfaces that hold the Bind address when there is
// one, switched on unless Config.NoLSD, and the goroutine that hands the
// peers it hears to their torrents. Both end with ctx (Run goroutine).
func (e *Engine) startLSD(ctx context.Context, n *network) {
	n.lsd = lsd.New(lsd.Config{Port: n.port, Interfaces: lsdInterfaces(e.cfg.Bind), Logf: e.cfg.Logf})
	n.lsd.SetEnabled(!e.cfg.NoLSD)
	e.wg.Add(2)
	go func() {
		defer e.wg.Done()
		n.lsd.Serve(ctx) // fails only for a port out of range, which a listener never has
	}()
	go func() {
		defer e.wg.Done()
		e.routeLocalPeers(ctx, n.lsd.Peers())
	}()
}

// routeLocalPeers gives each peer heard on the local network to its
// torrent's swarm, labelled SourceLSD, until ctx ends. A peer of a torrent
// that is not running (any more) is dropped.
func (e *Engine) routeLocalPeers(ctx context.Context, peers <-chan lsd.Peer) {
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-peers:
			e.addLocalPeer(p)
		}
	}
}

// addLocalPeer hands one peer heard on the local network to its torrent.
func (e *Engine) addLocalPeer(p lsd.Peer) {
	e.routesMu.Lock()
	sw := e.routes[p.InfoHash]
	e.routesMu.Unlock()
	if sw != nil {
		sw.AddPeers([]netip.AddrPort{p.Addr}, swarm.SourceLSD)
	}
}

// lsdInterfaces returns the interface list for local discovery: nil
// (lsd.DefaultInterfaces) with no bind address, "::" or a host name;
// otherwise the default interfaces filtered by bindInterfaces, so that we
// announce only where we listen, and a loopback bind address (as in
// tests) announces nowhere.
func lsdInterfaces(bind string) func() ([]lsd.Interface, error) {
	addr, err := netip.ParseAddr(bind)
	if err != nil || addr == netip.IPv6Unspecified() {
		return nil // "", "::" (both families) or a host name, which the listener resolved
	}
	return func() ([]lsd.Interface, error) {
		all, err := lsd.DefaultInterfaces()
		return bindInterfaces(all, addr), err
	}
}

// bindInterfaces returns the interfaces of all that hold addr, with only
// their addresses of its family; for 0.0.0.0, every interface with an
// IPv4 address, with those only.
func bindInterfaces(all []lsd.Interface, addr netip.Addr) []lsd.Interface {
	addr = addr.Unmap().WithZone("")
	var out []lsd.Interface
	for _, in := range all {
		var keep []netip.Prefix
		holds := false
		for _, p := range in.Prefixes {
			if p.Addr().Is4() != addr.Is4() {
				continue
			}
			keep = append(keep, p)
			holds = holds || p.Addr().WithZone("") == addr || addr.IsUnspecified()
		}
		if holds {
			in.Prefixes = keep
			out = append(out, in)
		}
	}
	return out
}

// lsdStatus describes local discovery for a snapshot.
func (n *network) lsdStatus() LSDStatus {
	if n.lsd == nil {
		return LSDStatus{}
	}
	st := n.lsd.Stats()
	return LSDStatus{Enabled: st.Enabled, Interfaces: st.Interfaces, Torrents: st.Torrents,
		Peers: st.Reported, LastError: st.LastError}
}
