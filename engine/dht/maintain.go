package dht

import (
	"context"
	"net/netip"
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
			g := n.good(now)
			n.mu.Lock()
			lostAt, rejoined := n.lostAt, n.lostAt.After(n.lastBootstrap) && g > 0
			n.mu.Unlock()
			if lostAt.After(lost) {
				lost, backoff = lostAt, n.cfg.MaintenanceInterval
			}
			if rejoined {
				n.joined(SourceTable)
			}
			if n.thin(now) && now.Sub(lastBoot) >= backoff {
				n.bootstrap(ctx)
				lastBoot = time.Now()
				if n.good(time.Now()) <= g {
					backoff = min(2*backoff, 5*time.Minute)
				} else {
					backoff = n.cfg.MaintenanceInterval
				}
			}
			for _, f := range families {
				t := n.tables[f]
				if t == nil {
					continue
				}
				for _, c := range t.ToPing(now, n.cfg.MaintenanceInterval, 4*K) {
					n.send(c.Addr, c.ID, krpc.Msg{Q: krpc.MethodPing}, nil)
				}
				for _, target := range t.Stale(now, n.cfg.RefreshInterval) {
					if ctx.Err() != nil {
						return
					}
					n.lookupIn(ctx, f, target)
				}
			}
			n.peers.Expire(now)
			n.items.Expire(now)
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

// thin reports whether a table has fewer than K good nodes.
func (n *Node) thin(now time.Time) bool {
	for _, t := range n.servedTables() {
		if g, _, _ := t.Counts(now); g < K {
			return true
		}
	}
	return false
}

// lookupIn runs a find_node lookup of target in family f, from its table
// (and the contacts while the table is small).
func (n *Node) lookupIn(ctx context.Context, f family, target ID) {
	t := n.tables[f]
	nodes := t.Closest(target, 2*K, false, time.Now())
	var seeds []netip.AddrPort
	if len(nodes) < K {
		seeds = n.seedAddrs(f)
	}
	if len(nodes) > 0 || len(seeds) > 0 {
		n.lookupFrom(ctx, f, target, krpc.MethodFindNode, nil, nodes, seeds)
	}
}

// bootstrap fills each table by looking up our own ID: from the table
// (the saved one at start), then, if that leaves fewer than K good nodes,
// from the bootstrap contacts and the contacts added since. Then it fills
// the buckets far from us that have room by looking up a target in each.
func (n *Node) bootstrap(ctx context.Context) {
	defer n.boots.Add(1)
	n.join(ctx)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for _, f := range families {
		if n.tables[f] == nil {
			continue
		}
		for _, target := range n.tables[f].Sparse() {
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
				n.lookupIn(ctx, f, target)
			}()
		}
	}
	wg.Wait()
}

// join looks up our own ID from each table, then from the contacts of
// the families that found fewer than K good nodes. A join is recorded in
// Stats when the node had no good node before it, and on the first one.
func (n *Node) join(ctx context.Context) {
	self := n.ID()
	first := n.boots.Load() == 0
	before := n.good(time.Now())
	recorded := false
	began := time.Now()
	record := func(source string) int {
		g := n.good(time.Now())
		n.mu.Lock()
		lost := n.lostAt.After(n.lastBootstrap)
		since := n.lastBootstrap.After(began) // e.g. a PORT message's node answered meanwhile: its source stands
		n.mu.Unlock()
		if g > 0 && !recorded && !since && (first || before == 0 || lost) {
			recorded = true
			n.joined(source)
		}
		return g
	}
	var wg sync.WaitGroup
	fromTable := false
	for _, f := range families {
		t := n.tables[f]
		if t == nil || t.Len() == 0 {
			continue
		}
		fromTable = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.lookupFrom(ctx, f, self, krpc.MethodFindNode, nil, t.All(time.Now()), nil)
		}()
	}
	wg.Wait()
	switch {
	case !fromTable:
	case first && n.loaded:
		record(SourceSavedTable)
	case !first:
		record(SourceTable)
	}
	// (On a first bootstrap without a saved table, the nodes came from
	// AddContacts, AddPeerDHTPort or queries, which record it.)
	if !n.thin(time.Now()) || ctx.Err() != nil {
		return
	}
	addrs := n.resolveAll(ctx, n.cfg.Bootstrap)
	n.addSeeds(addrs)
	source := SourceContacts
	if len(addrs) == 0 {
		source = SourceAdded
	}
	asked := false
	for _, f := range families {
		t := n.tables[f]
		if t == nil {
			continue
		}
		if g, _, _ := t.Counts(time.Now()); g >= K {
			continue
		}
		if seeds := n.seedAddrs(f); len(seeds) > 0 {
			asked = true
			wg.Add(1)
			go func() {
				defer wg.Done()
				n.lookupFrom(ctx, f, self, krpc.MethodFindNode, nil, nil, seeds)
			}()
		}
	}
	wg.Wait()
	if asked {
		record(source)
	}
}

// joined records that the node joined the network through source.
func (n *Node) joined(source string) {
	g := n.good(time.Now())
	n.mu.Lock()
	n.lastBootstrap, n.lastBootstrapSource = time.Now(), source
	n.mu.Unlock()
	n.logf("dht: joined the network through the %s: %d good nodes", source, g)
}
