package dht

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"
	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
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

// TestDualStackStateFile: both tables are saved and come back after a
// restart; an IPv4-only node reading the same file keeps the IPv6 nodes
// it cannot use and saves them again; a file as written before BEP 32
// support (no nodes6) still loads.
func TestDualStackStateFile(t *testing.T) {
	state := filepath.Join(t.TempDir(), "dht-table.dat")
	_, a4 := startNode(t, "127.0.9.11", 0, fast)
	_, a6 := startNode(t, "::1", 0, fast)
	conn := listenUDP(t, "::", 0)
	defer conn.Close()
	cfg := fast
	cfg.Conn, cfg.StateFile, cfg.Logf = conn, state, t.Logf
	cfg.Bootstrap = []string{a4.String(), a6.String()}
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Serve(ctx) }()
	waitFor(t, "both tables", 5*time.Second, func() bool { st := n.Stats(); return st.IPv4.Good > 0 && st.IPv6.Good > 0 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	id := n.ID()

	load := func(ip string) Stats {
		c := listenUDP(t, ip, 0)
		defer c.Close()
		m, err := New(Config{Conn: c, StateFile: state, Logf: t.Logf})
		if err != nil {
			t.Fatal(err)
		}
		if m.ID() != id {
			t.Fatalf("reloaded with ID %x, saved %x", m.ID(), id)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := m.Serve(ctx); err != nil { // saves again on return
			t.Fatal(err)
		}
		return m.Stats()
	}
	if st := load("::"); st.IPv4.Questionable != 1 || st.IPv6.Questionable != 1 {
		t.Fatalf("dual-stack restart: IPv4 %+v, IPv6 %+v", st.IPv4, st.IPv6)
	}
	if st := load("127.0.0.1"); st.IPv4.Questionable != 1 || st.IPv6.Served {
		t.Fatalf("IPv4-only restart: IPv4 %+v, IPv6 %+v", st.IPv4, st.IPv6)
	}
	saved, err := loadTable(state)
	if err != nil || len(saved.nodes[ipv4]) != 1 || len(saved.nodes[ipv6]) != 1 || saved.nodes[ipv6][0].Addr != a6 {
		t.Fatalf("after an IPv4-only run the file holds %+v, %v", saved.nodes, err)
	}
	if got := SavedContacts(state, 8); !slices.Contains(got, a4) || !slices.Contains(got, a6) {
		t.Fatalf("SavedContacts: %v", got)
	}

	// The format before BEP 32 support: nodes only.
	old := bencode.MustMarshal(map[string]any{"id": string(id[:]), "nodes": string(krpc.AppendCompactNodes(nil,
		[]krpc.NodeInfo{{ID: randomID(), Addr: netip.MustParseAddrPort("192.0.2.7:6881")}})), "saved": 1700000000})
	if err := os.WriteFile(state, old, 0o600); err != nil {
		t.Fatal(err)
	}
	if st := load("::"); st.IPv4.Questionable != 1 || st.IPv6.Questionable != 0 {
		t.Fatalf("old state file: IPv4 %+v, IPv6 %+v", st.IPv4, st.IPv6)
	}
}

// TestWantKey checks BEP 32's `want` on a dual-stack node, over both
// families: without it, a reply carries the nodes of the querier's own
// family; with it, those it names. get_peers over IPv6 gets 18-byte
// values, over IPv4 6-byte ones.
func TestWantKey(t *testing.T) {
	n, addr := startNode(t, "::", 0, fast)
	now := time.Now()
	for i := range 8 {
		n.tables[ipv4].Seen(randomID(), netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, byte(i), 1}), 6881), now)
		n.tables[ipv6].Seen(randomID(), netip.AddrPortFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 5: byte(i), 15: 1}), 6881), now)
	}
	ih := randomID()
	n.peers.Add(ih, netip.MustParseAddrPort("192.0.2.1:1"), false, now)
	n.peers.Add(ih, netip.MustParseAddrPort("[2001:db8::1]:1"), false, now)
	for _, fam := range []string{"127.0.0.1", "::1"} {
		c := newClient(t, fam)
		c.answer = true
		to := netip.AddrPortFrom(netip.MustParseAddr(fam), addr.Port())
		waitFor(t, "the node to verify the client (then its replies are full)", 5*time.Second, func() bool {
			c.call(krpc.Msg{Q: krpc.MethodPing}, to) // each ping brings credit for the node's own
			c.recv(10 * time.Millisecond)
			return n.answerers.Has(c.addr(), time.Now())
		})
		v6 := fam == "::1"
		for _, tc := range []struct {
			want   []string
			nodes  bool
			nodes6 bool
		}{
			{nil, !v6, v6},
			{[]string{"n4"}, true, false},
			{[]string{"n6"}, false, true},
			{[]string{"n4", "n6"}, true, true},
			{[]string{"n5", "x"}, !v6, v6}, // unknown flags are ignored
		} {
			for _, q := range []krpc.Msg{
				{Q: krpc.MethodFindNode, A: krpc.Args{Target: randomID(), Want: tc.want}},
				{Q: krpc.MethodGetPeers, A: krpc.Args{InfoHash: ih, Want: tc.want}},
			} {
				r, size := c.call(q, to)
				if (len(r.R.Nodes) == K) != tc.nodes || (len(r.R.Nodes6) == K) != tc.nodes6 {
					t.Fatalf("%s over %s, want %v: %d nodes, %d nodes6", q.Q, fam, tc.want, len(r.R.Nodes), len(r.R.Nodes6))
				}
				if q.Q == krpc.MethodGetPeers {
					if len(r.R.Values) != 1 || r.R.Values[0].Addr().Is4() == v6 {
						t.Fatalf("get_peers over %s: values %v", fam, r.R.Values)
					}
				}
				if size > maxReply {
					t.Fatalf("a %d-byte reply", size)
				}
			}
		}
	}
}
