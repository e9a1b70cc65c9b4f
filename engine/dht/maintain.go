package dht

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// Bootstrap sources, as reported in Stats.LastBootstrapSource.
const (
	SourceSavedTable = "saved table"
	SourceTable      = "routing table"
	SourceContacts   = "contacts"
	SourceAdded      = "added contacts"
	SourcePeerPort   = "peer PORT message"
	SourceIncoming   = "incoming queries"
)

// maintain bootstraps the node, then keeps its table fresh until ctx
// ends: pings questionable nodes, refreshes stale buckets, re-bootstraps
// an empty table (with back-off), expires stored peers and saves the
// table every SaveInterval.
func (n *Node) maintain(ctx context.Context) {
	n.bootstrap(ctx)
	tick := time.NewTicker(n.cfg.MaintenanceInterval)
	defer tick.Stop()
	lastSave := time.Now()
	lastBoot := time.Now()
	backoff := n.cfg.MaintenanceInterval
	var lost time.Time // the loss of all good nodes last seen here
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.kick:
			n.bootstrap(ctx)
			lastBoot = time.Now()
		case now := <-tick.C:
			// An empty table (e.g. after the network changed) or a thin one
			// is bootstrapped again, less often while that does not help;
			// losing the last good node starts the back-off again. A node
			// of the table that answers again (a maintenance ping) after
			// such a loss is a join too.
			g, _, _ := n.table.Counts(now)
			n.mu.Lock()
			lostAt, rejoined := n.lostAt, n.lostAt.After(n.lastBootstrap) && g > 0
			n.mu.Unlock()
			if lostAt.After(lost) {
				lost, backoff = lostAt, n.cfg.MaintenanceInterval
			}
			if rejoined {
				n.joined(SourceTable)
			}
			if g < K && now.Sub(lastBoot) >= backoff {
				n.bootstrap(ctx)
				lastBoot = time.Now()
				if after, _, _ := n.table.Counts(time.Now()); after <= g {
					backoff = min(2*backoff, 5*time.Minute)
				} else {
					backoff = n.cfg.MaintenanceInterval
				}
			}
			for _, c := range n.table.ToPing(now, n.cfg.MaintenanceInterval, 4*K) {
				n.send(c.Addr, c.ID, krpc.Msg{Q: krpc.MethodPing}, nil)
			}
			for _, target := range n.table.Stale(now, n.cfg.RefreshInterval) {
				if ctx.Err() != nil {
					return
				}
				n.lookup(ctx, target, krpc.MethodFindNode, nil)
			}
			n.peers.Expire(now)
			n.limiter.Sweep(now)
			n.credits.Sweep(now)
			n.answerers.Sweep(now)
			if now.Sub(lastSave) >= n.cfg.SaveInterval {
				lastSave = now
				if err := n.save(); err != nil {
					n.logf("dht: %v", err)
				}
			}
		}
	}
}

// bootstrap fills the table by looking up our own ID: from the table (the
// saved one at start), then, if that leaves fewer than K good nodes, from
// the bootstrap contacts and the contacts added since. Then it fills the
// buckets far from us that have room by looking up a target in each.
func (n *Node) bootstrap(ctx context.Context) {
	defer n.boots.Add(1)
	n.join(ctx)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for _, target := range n.table.Sparse() {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			n.lookup(ctx, target, krpc.MethodFindNode, nil)
		}()
	}
	wg.Wait()
}

// join looks up our own ID from the table, then from the contacts if
// that found fewer than K good nodes. A join is recorded in Stats when the
// node had no good node before it, and on the first one.
func (n *Node) join(ctx context.Context) {
	self := n.table.Self()
	first := n.boots.Load() == 0
	before, _, _ := n.table.Counts(time.Now())
	recorded := false
	record := func(source string) int {
		g, _, _ := n.table.Counts(time.Now())
		n.mu.Lock()
		lost := n.lostAt.After(n.lastBootstrap)
		n.mu.Unlock()
		if g > 0 && !recorded && (first || before == 0 || lost) {
			recorded = true
			n.joined(source)
		}
		return g
	}
	if n.table.Len() > 0 {
		n.lookupFrom(ctx, self, krpc.MethodFindNode, nil, n.table.All(time.Now()), nil)
		g, _, _ := n.table.Counts(time.Now())
		switch {
		case first && n.loaded:
			g = record(SourceSavedTable)
		case !first:
			g = record(SourceTable)
		}
		// (On a first bootstrap without a saved table, the nodes came
		// from AddContacts, AddPeerDHTPort or queries, which record it.)
		if g >= K {
			return
		}
	}
	if ctx.Err() != nil {
		return
	}
	addrs := n.resolveAll(ctx, n.cfg.Bootstrap)
	n.addSeeds(addrs)
	source := SourceContacts
	if len(addrs) == 0 {
		source = SourceAdded
	}
	if addrs = n.seedAddrs(); len(addrs) > 0 {
		n.lookupFrom(ctx, self, krpc.MethodFindNode, nil, nil, addrs)
		record(source)
	}
}

// joined records that the node joined the network through source.
func (n *Node) joined(source string) {
	g, _, _ := n.table.Counts(time.Now())
	n.mu.Lock()
	n.lastBootstrap, n.lastBootstrapSource = time.Now(), source
	n.mu.Unlock()
	n.logf("dht: joined the network through the %s: %d good nodes", source, g)
}

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
// message): it is pinged and added to the table if it answers. It never
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
			if g, _, _ := n.table.Counts(time.Now()); g < K && len(addrs) > 0 {
				n.lookupFrom(ctx, n.table.Self(), krpc.MethodFindNode, nil, nil, addrs)
				if g == 0 {
					n.joined(SourceAdded)
				}
				continue
			}
			for _, a := range addrs {
				n.send(a, ID{}, krpc.Msg{Q: krpc.MethodPing}, nil)
			}
		case a := <-n.portPeers:
			if n.table.Has(a) || seen(a.String()) {
				continue
			}
			// The answer adds the node to the table; nobody waits for it.
			g, _, _ := n.table.Counts(time.Now())
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
		if a := netip.AddrPortFrom(ip.Unmap(), uint16(port)); usableAddr(a) {
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

// seedAddrs returns the remembered contacts.
func (n *Node) seedAddrs() []netip.AddrPort {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]netip.AddrPort(nil), n.seeds...)
}
