package dht

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// TestDualStackNodes: a dual-stack node (one socket on "[::]") between an
// IPv4-only node and an IPv6-only one keeps two tables; a peer announced
// over IPv6 is found over IPv6 only, one announced over IPv4 over IPv4.
func TestDualStackNodes(t *testing.T) {
	dual, daddr := startNode(t, "::", 0, fast)
	c := fast
	c.Bootstrap = []string{netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), daddr.Port()).String()}
	v4, _ := startNode(t, "127.0.9.1", 0, c)
	c.Bootstrap = []string{netip.AddrPortFrom(netip.IPv6Loopback(), daddr.Port()).String()}
	v6, _ := startNode(t, "::1", 0, c)
	waitFor(t, "both tables of the dual-stack node", 5*time.Second, func() bool {
		st := dual.Stats()
		return st.IPv4.Good > 0 && st.IPv6.Good > 0
	})
	st := dual.Stats()
	t.Logf("dual-stack node: %+v", st)
	if !st.IPv4.Served || !st.IPv6.Served || v4.Stats().IPv6.Served || v6.Stats().IPv4.Served {
		t.Fatalf("families: dual %+v %+v, v4 %+v, v6 %+v", st.IPv4, st.IPv6, v4.Stats().IPv6, v6.Stats().IPv4)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ih := randomID()
	if err := v6.GetPeers(ctx, ih, 6006, nil); err != nil {
		t.Fatalf("announcing over IPv6: %v", err)
	}
	if err := v4.GetPeers(ctx, ih, 4004, nil); err != nil {
		t.Fatalf("announcing over IPv4: %v", err)
	}
	var found4, found6 []netip.AddrPort
	if err := v4.GetPeers(ctx, ih, 0, func(p []netip.AddrPort) { found4 = append(found4, p...) }); err != nil {
		t.Fatal(err)
	}
	if err := v6.GetPeers(ctx, ih, 0, func(p []netip.AddrPort) { found6 = append(found6, p...) }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(found4, []netip.AddrPort{netip.MustParseAddrPort("127.0.9.1:4004")}) ||
		!slices.Equal(found6, []netip.AddrPort{netip.MustParseAddrPort("[::1]:6006")}) {
		t.Fatalf("IPv4 node found %v, IPv6 node found %v", found4, found6)
	}
	var all []netip.AddrPort
	res, err := dual.Lookup(ctx, ih, LookupOptions{}, func(p []netip.AddrPort) { all = append(all, p...) })
	if err != nil || len(all) != 2 || !res.IPv4.Looked || !res.IPv6.Looked {
		t.Fatalf("dual-stack lookup: %+v, %v, found %v", res, err, all)
	}
}
