package dht

import (
	"context"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// scrapeClosest asks each of nodes (a lookup's closest, at most K) for
// BEP 33's filters with a get_peers of its own and adds the replies to
// sc; it returns once every node has answered or timed out, or ctx ends,
// or the node stops. This is LookupOptions.ScrapeClosest: a scrape apart
// from the lookup, because libtorrent's nodes answer a get_peers that asks
// for filters with no peers.
func (n *Node) scrapeClosest(ctx context.Context, ih ID, nodes []*candidate, sc *scrapeSum) {
	out := make(chan result, len(nodes))
	sent := 0
	for _, c := range nodes[:min(K, len(nodes))] {
		q := krpc.Msg{Q: krpc.MethodGetPeers, A: krpc.Args{InfoHash: ih, Scrape: true}}
		if _, err := n.send(c.Addr, c.ID, n.padded(q, c.Addr), func(r result) { out <- r }); err == nil {
			sent++
		}
	}
	for range sent {
		select {
		case r := <-out:
			if r.err == nil && r.msg.Y == krpc.KindResponse {
				sc.add(r.msg.R)
			}
		case <-ctx.Done():
			return
		case <-n.done:
			return
		}
	}
}
