package dht

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// AddContacts hands the node more "host:port" contacts (a torrent's
// `nodes`, the settings' contacts): they are resolved and asked for nodes
// close to us, and kept for re-bootstrapping. It never blocks; contacts
// beyond a queue of 256 are dropped.
func (n *Node) AddContacts(hostports []string) {
	for _, h := range hostports {
		select {
		case n.contacts <- h:
		default:
			n.logf("dht: contact queue full; dropping %s", h)
			return
		}
	}
}

// AddPeerDHTPort hands the node the DHT address of a peer (from its PORT
// message, which by BEP 32 names the DHT port of the address family it
// came over): it is pinged and added to the table if it answers. It never
// blocks.
func (n *Node) AddPeerDHTPort(addr netip.AddrPort) {
	addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	if !usableAddr(addr) {
		return
	}
	select {
	case n.portPeers <- addr:
	default:
	}
}

// contactLoop handles AddContacts and AddPeerDHTPort until ctx ends.
func (n *Node) contactLoop(ctx context.Context) {
	recent := map[string]time.Time{} // contacts handled lately, not asked again for a while
	const again = 5 * time.Minute
	seen := func(key string) bool {
		now := time.Now()
		if t, ok := recent[key]; ok && now.Sub(t) < again {
			return true
		}
		if len(recent) >= 1024 {
			for k, t := range recent {
				if now.Sub(t) >= again {
					delete(recent, k)
				}
			}
			if len(recent) >= 1024 {
				clear(recent)
			}
		}
		recent[key] = now
		return false
	}
	for {
		select {
		case <-ctx.Done():
			return
		case h := <-n.contacts:
			if seen(h) {
				continue
			}
			addrs := n.resolveAll(ctx, []string{h})
			n.addSeeds(addrs)
			before := n.good(time.Now())
			for _, f := range families {
				var mine []netip.AddrPort
				for _, a := range addrs {
					if familyOf(a.Addr()) == f {
						mine = append(mine, a)
					}
				}
				if len(mine) == 0 {
					continue
				}
				if g, _, _ := n.tables[f].Counts(time.Now()); g < K {
					n.lookupFrom(ctx, f, n.ID(), krpc.MethodFindNode, nil, nil, mine)
					continue
				}
				for _, a := range mine {
					n.send(a, ID{}, krpc.Msg{Q: krpc.MethodPing}, nil)
				}
			}
			if before == 0 && n.good(time.Now()) > 0 {
				n.joined(SourceAdded)
			}
		case a := <-n.portPeers:
			t := n.tableOf(a)
			if t == nil || t.Has(a) || seen(a.String()) {
				continue
			}
			// The answer adds the node to the table; nobody waits for it.
			g := n.good(time.Now())
			n.send(a, ID{}, krpc.Msg{Q: krpc.MethodPing}, func(r result) {
				if g == 0 && r.err == nil && r.msg.Y == krpc.KindResponse {
					n.joined(SourcePeerPort)
					n.kickBootstrap()
				}
			})
		}
	}
}

// Ping sends a ping to a "host:port" contact (its first address that
// answers) and returns the round-trip time.
func (n *Node) Ping(ctx context.Context, hostport string) (time.Duration, error) {
	addrs, err := n.resolve(ctx, hostport)
	if err != nil {
		return 0, err
	}
	for _, a := range addrs {
		var rtt time.Duration
		if _, rtt, err = n.query(ctx, a, krpc.Msg{Q: krpc.MethodPing}); err == nil {
			return rtt, nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	return 0, fmt.Errorf("pinging %s: %w", hostport, err)
}

// resolve turns a "host:port" contact into UDP addresses.
func (n *Node) resolve(ctx context.Context, hostport string) ([]netip.AddrPort, error) {
	host, portStr, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, fmt.Errorf("contact %q: %w", hostport, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil || port == 0 {
		return nil, fmt.Errorf("contact %q: bad port", hostport)
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if n.cfg.Resolver != nil {
			ips, err = n.cfg.Resolver(rctx, host)
		} else {
			ips, err = net.DefaultResolver.LookupNetIP(rctx, "ip", host)
		}
		if err != nil {
			return nil, fmt.Errorf("resolving %s: %w", host, err)
		}
	}
	var out []netip.AddrPort
	for _, ip := range ips {
		if a := netip.AddrPortFrom(ip.Unmap(), uint16(port)); usableAddr(a) && n.tableOf(a) != nil {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("contact %q: no usable address", hostport)
	}
	return out, nil
}

// resolveAll resolves contacts, logging those that fail.
func (n *Node) resolveAll(ctx context.Context, hostports []string) []netip.AddrPort {
	var out []netip.AddrPort
	for _, h := range hostports {
		addrs, err := n.resolve(ctx, h)
		if err != nil {
			n.logf("dht: %v", err)
			continue
		}
		out = append(out, addrs...)
	}
	return out
}

// addSeeds remembers resolved contacts for lookups on a small table.
func (n *Node) addSeeds(addrs []netip.AddrPort) {
	n.mu.Lock()
	for _, a := range addrs {
		n.seeds = append(slicesDelete(n.seeds, a), a)
	}
	if len(n.seeds) > maxSeeds {
		n.seeds = n.seeds[len(n.seeds)-maxSeeds:]
	}
	n.mu.Unlock()
	if len(addrs) > 0 {
		n.nodesChanged()
	}
}

func slicesDelete(s []netip.AddrPort, a netip.AddrPort) []netip.AddrPort {
	out := s[:0]
	for _, x := range s {
		if x != a {
			out = append(out, x)
		}
	}
	return out
}

// seedAddrs returns the remembered contacts of family f.
func (n *Node) seedAddrs(f family) []netip.AddrPort {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []netip.AddrPort
	for _, a := range n.seeds {
		if familyOf(a.Addr()) == f {
			out = append(out, a)
		}
	}
	return out
}
