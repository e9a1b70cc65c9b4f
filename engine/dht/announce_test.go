package dht

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// TestLookupFindsOwnStore: a downloader whose only DHT contact is our
// seeder announces itself to it; the seeder's own lookup of that torrent
// (the only other node, the downloader, does not hold its own announce)
// finds the downloader, from the seeder's peer store. (libtorrent cannot
// play the downloader here: it stores its own announces, so the lookup
// would find it through libtorrent itself.)
func TestLookupFindsOwnStore(t *testing.T) {
	seeder, saddr := startNode(t, "127.0.7.1", 0, fast)
	c := fast
	c.Bootstrap = []string{saddr.String()}
	downloader, _ := startNode(t, "127.0.7.2", 0, c)
	waitFor(t, "the downloader to join", 5*time.Second, func() bool { return downloader.Stats().Good > 0 })
	ih := randomID()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := downloader.GetPeers(ctx, ih, 7777, nil); err != nil {
		t.Fatalf("the downloader's announce: %v", err)
	}
	want := netip.MustParseAddrPort("127.0.7.2:7777")
	var found []netip.AddrPort
	res, err := seeder.Lookup(ctx, ih, LookupOptions{}, func(p []netip.AddrPort) { found = append(found, p...) })
	t.Logf("lookup: %+v, %v; found %v", res, err, found)
	if err != nil || !slices.Contains(found, want) || res.Peers != len(found) {
		t.Fatalf("the seeder's lookup found %v (%d counted, %v), not the downloader %v held in its own store", found, res.Peers, err, want)
	}
}

// TestAnnounceReachedNobody: when every node that answers the lookup is
// a router (no token), the lookup succeeds but GetPeers fails with
// ErrNotAnnounced, and Lookup says how many answered; with a tracking
// node among them, the announce is counted.
func TestAnnounceReachedNobody(t *testing.T) {
	cfg := fast
	cfg.Router = true
	_, raddr := startNode(t, "127.0.8.1", 0, cfg)
	c := fast
	c.Bootstrap = []string{raddr.String()}
	n, _ := startNode(t, "127.0.8.2", 0, c)
	waitFor(t, "a join", 5*time.Second, func() bool { return n.Stats().Good > 0 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ih := randomID()
	err := n.GetPeers(ctx, ih, 6881, nil)
	if !errors.Is(err, ErrNotAnnounced) {
		t.Fatalf("announcing through routers only: %v, want ErrNotAnnounced", err)
	}
	res, err := n.Lookup(ctx, ih, LookupOptions{Port: 6881}, nil)
	if !errors.Is(err, ErrNotAnnounced) || res.IPv4.Answered == 0 || res.Announced() != 0 {
		t.Fatalf("Lookup: %+v, %v", res, err)
	}
	if err := n.GetPeers(ctx, ih, 0, nil); err != nil {
		t.Fatalf("a lookup without announce: %v", err)
	}
	// A node that tracks: the announce lands.
	c.Bootstrap = []string{raddr.String()}
	tracker, taddr := startNode(t, "127.0.8.3", 0, c)
	waitFor(t, "the tracking node to join", 5*time.Second, func() bool { return tracker.Stats().Good > 0 })
	n.AddPeerDHTPort(taddr)
	waitFor(t, "the tracking node in our table", 5*time.Second, func() bool { return n.tables[ipv4].Has(taddr) })
	res, err = n.Lookup(ctx, ih, LookupOptions{Port: 6881}, nil)
	if err != nil || res.Announced() == 0 || res.IPv4.Announced != res.Announced() {
		t.Fatalf("Lookup with a tracking node: %+v, %v", res, err)
	}
	if got := tracker.peers.All(ih, 10, time.Now()); len(got) != 1 || got[0].Port() != 6881 {
		t.Fatalf("the tracking node holds %v", got)
	}
}
