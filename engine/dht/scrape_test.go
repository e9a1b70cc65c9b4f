package dht

import (
	"context"
	"encoding/hex"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// announcers announces ih to each of nodes from count loopback addresses
// of 127.0.net.x (one raw client each, token first), the first seeds of
// them with BEP 33's seed flag, and returns the addresses.
func announcers(t *testing.T, net byte, count, seeds int, ih ID, nodes []netip.AddrPort) []netip.Addr {
	t.Helper()
	var out []netip.Addr
	var wg sync.WaitGroup
	for i := range count {
		ip := netip.AddrFrom4([4]byte{127, net, 0, byte(i + 1)})
		out = append(out, ip)
		c := newClient(t, ip.String())
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, to := range nodes {
				r, _ := c.call(krpc.Msg{Q: krpc.MethodGetPeers, A: krpc.Args{InfoHash: ih}}, to)
				a, _ := c.call(krpc.Msg{Q: krpc.MethodAnnouncePeer, A: krpc.Args{InfoHash: ih, Token: r.R.Token, Port: 6881 + i, Seed: i < seeds}}, to)
				if a.Y != krpc.KindResponse {
					c.t.Errorf("announce from %v to %v: %+v", ip, to, a)
				}
			}
		}()
	}
	wg.Wait()
	return out
}

// within reports whether an estimate is within BEP 33's precision of the
// true count: 5 % (the BEP's test vector is 2.5 % under at 1,256), or 2
// for small counts.
func within(estimate, truth int) bool {
	return math.Abs(float64(estimate-truth)) <= max(2, 0.05*float64(truth))
}

// TestScrapeAnswer checks our node's side of BEP 33: after announces from
// 12 seeds and 20 other peers, a scrape gets BFsd and BFpe whose
// estimates match, `noseed` puts the other peers first, an address that
// announces again replaces its entry (one per IP), and a torrent with no
// peers gets no filters.
func TestScrapeAnswer(t *testing.T) {
	n, addr := startNode(t, "127.0.0.1", 0, Config{QueryRate: 1000, QueryBurst: 1000})
	ih := randomID()
	ips := announcers(t, 11, 32, 12, ih, []netip.AddrPort{addr})
	c := newClient(t, "127.0.0.2")
	c.answer = true
	waitFor(t, "the node to verify the client", 5*time.Second, func() bool {
		c.call(krpc.Msg{Q: krpc.MethodFindNode, A: krpc.Args{Target: randomID()}}, addr)
		c.recv(10 * time.Millisecond)
		return n.answerers.Has(c.addr(), time.Now())
	})
	r, size := c.call(krpc.Msg{Q: krpc.MethodGetPeers, A: krpc.Args{InfoHash: ih, Scrape: true, NoSeed: true}}, addr)
	if r.R.BFsd == nil || r.R.BFpe == nil {
		t.Fatalf("scrape reply without filters: %+v", r.R)
	}
	var wantSeeds, wantPeers krpc.Bloom
	for i, ip := range ips {
		if i < 12 {
			wantSeeds.Insert(ip)
		} else {
			wantPeers.Insert(ip)
		}
	}
	es, ep := r.R.BFsd.Estimate(), r.R.BFpe.Estimate()
	t.Logf("%d-byte scrape reply: seeds %.2f, peers %.2f, %d values, %d nodes", size, es, ep, len(r.R.Values), len(r.R.Nodes))
	if *r.R.BFsd != wantSeeds || *r.R.BFpe != wantPeers || !within(int(math.Round(es)), 12) || !within(int(math.Round(ep)), 20) {
		t.Fatalf("filters do not hold the announced addresses: seeds %.2f, peers %.2f", es, ep)
	}
	if len(r.R.Values) == 0 || size > maxReply {
		t.Fatalf("%d values in a %d-byte reply", len(r.R.Values), size)
	}
	for i, v := range r.R.Values { // noseed: the 20 peers before the 12 seeds
		if isSeed := slices.Index(ips, v.Addr()) < 12; isSeed != (i >= 20) {
			t.Fatalf("value %d (%v) out of noseed order", i, v)
		}
	}
	// The first seed announces again from another port, as a peer: still
	// one entry for its address.
	announcers(t, 11, 1, 0, ih, []netip.AddrPort{addr})
	r, _ = c.call(krpc.Msg{Q: krpc.MethodGetPeers, A: krpc.Args{InfoHash: ih, Scrape: true}}, addr)
	if _, peers := n.peers.Counts(); peers != 32 || math.Round(r.R.BFsd.Estimate()) != 11 || math.Round(r.R.BFpe.Estimate()) != 21 {
		t.Fatalf("after a re-announce: %d peers stored, seeds %.2f, peers %.2f", peers, r.R.BFsd.Estimate(), r.R.BFpe.Estimate())
	}
	if r, _ := c.call(krpc.Msg{Q: krpc.MethodGetPeers, A: krpc.Args{InfoHash: randomID(), Scrape: true}}, addr); r.R.BFsd != nil || r.R.BFpe != nil {
		t.Fatal("filters for a torrent with no peers")
	}
}

// TestScrapeLibtorrent runs 4 libtorrent DHT nodes; 15 seeds and 25 other
// peers, each on its own loopback address, announce one torrent to all of
// them, and our node announces itself as a seed (BEP 33 `seed`). Our
// lookup with a scrape estimates, from libtorrent's filters, 16 seeds and
// 25 peers, within BEP 33's precision.
func TestScrapeLibtorrent(t *testing.T) {
	n, lts := libtorrentScrapeNet(t)
	ih := randomID()
	const seeds, peers = 15, 25
	announcers(t, 13, seeds+peers, seeds, ih, lts)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if res, err := n.Lookup(ctx, ih, LookupOptions{Port: 7777, Seed: true}, nil); err != nil || res.Announced() == 0 {
		t.Fatalf("our announce as a seed: %+v, %v", res, err)
	}
	res := scrapeUntil(t, ctx, n, ih, LookupOptions{Scrape: true}, seeds+1, peers)
	if res.Scrape.Replies == 0 || !within(res.Scrape.Seeds, seeds+1) || !within(res.Scrape.Peers, peers) {
		t.Fatalf("estimate %+v; announced %d seeds (ours included) and %d peers", res.Scrape, seeds+1, peers)
	}
}

// TestScrapeClosestLibtorrent is TestScrapeLibtorrent with
// LookupOptions.ScrapeClosest and an announce in the same lookup, as the
// engine does it: the lookup still finds the announced peers (a scrape in
// the lookup's own queries gets none from libtorrent), announces us as a
// peer, and the estimate, which counts us, is within BEP 33's precision.
func TestScrapeClosestLibtorrent(t *testing.T) {
	n, lts := libtorrentScrapeNet(t)
	ih := randomID()
	const seeds, peers = 12, 30
	announcers(t, 14, seeds+peers, seeds, ih, lts)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res := scrapeUntil(t, ctx, n, ih, LookupOptions{Port: 7778, ScrapeClosest: true}, seeds, peers+1)
	if res.Peers < seeds+peers/2 || res.Announced() == 0 {
		t.Fatalf("the lookup found %d of %d peers, announced to %d nodes", res.Peers, seeds+peers, res.Announced())
	}
	if res.Scrape.Replies == 0 || !within(res.Scrape.Seeds, seeds) || !within(res.Scrape.Peers, peers+1) {
		t.Fatalf("estimate %+v; announced %d seeds and %d peers (ours included)", res.Scrape, seeds, peers+1)
	}
}

// libtorrentScrapeNet starts our node and 4 libtorrent DHT nodes on
// loopback that know it, and waits until they are in its table.
func libtorrentScrapeNet(t *testing.T) (*Node, []netip.AddrPort) {
	t.Helper()
	testpeers.RequireLibtorrent(t)
	n, addr := startNode(t, "127.0.0.1", 0, Config{QueryTimeout: time.Second, MaintenanceInterval: time.Second})
	var lts []netip.AddrPort
	var procs []*testpeers.Proc
	for i := range 4 {
		ip := fmt.Sprintf("127.0.12.%d", i+1)
		port := testpeers.FreePort(t, ip)
		p := testpeers.StartLT(t, "dht", "--ip", ip, "--port", strconv.Itoa(port), "--bootstrap", addr.String(), "--seconds", "90")
		procs = append(procs, p)
		lts = append(lts, netip.AddrPortFrom(netip.MustParseAddr(ip), uint16(port)))
	}
	for _, p := range procs {
		p.Port(t)
	}
	waitFor(t, "the libtorrent nodes in our table", 20*time.Second, func() bool { return n.Stats().Good >= len(lts) })
	return n, lts
}

// scrapeUntil looks ih up with opts until the estimate is exactly seeds
// and peers (libtorrent may not have taken every announce yet) or 20
// seconds have passed, and returns the last result.
func scrapeUntil(t *testing.T, ctx context.Context, n *Node, ih ID, opts LookupOptions, seeds, peers int) LookupResult {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := n.Lookup(ctx, ih, opts, nil)
		t.Logf("scrape: %+v, %d peers found, %v (%s)", res.Scrape, res.Peers, err, hex.EncodeToString(ih[:4]))
		if err != nil {
			t.Fatal(err)
		}
		if res.Scrape.Seeds == seeds && res.Scrape.Peers == peers || time.Now().After(deadline) {
			return res
		}
		time.Sleep(time.Second)
	}
}
