package dht

import (
	"bytes"
	"crypto/rand"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// TestHostileInput sends garbage, oversized and malformed packets: each is
// counted as dropped, bad queries get error 203, and the node keeps
// answering.
func TestHostileInput(t *testing.T) {
	n, addr := startNode(t, "127.0.0.1", 0, Config{})
	c := newClient(t, "127.0.0.2")
	junk := make([]byte, 500)
	rand.Read(junk)
	packets := [][]byte{
		junk,
		bytes.Repeat([]byte("x"), 60000), // oversized
		[]byte("d"),
		[]byte("i42e"),
		[]byte("d1:ad2:id20:abcdefghij0123456789e1:q4:pi"),
		[]byte("d1:x" + string(bytes.Repeat([]byte("l"), 5000)) + "e"),
		[]byte("d1:t99999999999:aa1:y1:qe"),
		[]byte("d1:rd2:id3:abce1:t4:zzzz1:y1:re"),
	}
	for _, p := range packets {
		c.sendRaw(p, addr)
	}
	// A query with a short id: error 203 with its transaction ID.
	c.sendRaw([]byte("d1:ad2:id3:abce1:q4:ping1:t2:zz1:y1:qe"), addr)
	m, _, ok := c.recv(3 * time.Second)
	if !ok || m.Y != krpc.KindError || m.E.Code != krpc.CodeProtocol || string(m.T) != "zz" {
		t.Fatalf("bad query: got %+v (ok %v), want error 203", m, ok)
	}
	waitFor(t, "drops to be counted", 5*time.Second, func() bool {
		return n.Stats().Dropped >= uint64(len(packets)+1)
	})
	// Unknown method: 204.
	if r, _ := c.call(krpc.Msg{Q: "vote"}, addr); r.Y != krpc.KindError || r.E.Code != krpc.CodeMethodUnknown {
		t.Fatalf("unknown method: got %+v", r)
	}
	if r, _ := c.call(krpc.Msg{Q: krpc.MethodPing}, addr); r.Y != krpc.KindResponse || r.R.ID != n.ID() {
		t.Fatalf("ping after garbage: %+v", r)
	}
}

// TestTokens checks announce_peer: a wrong token, or a token used from
// another address, gets error 203 and stores nothing; a good one works,
// with implied_port too (replacing the address's earlier announce).
func TestAnnounceTokens(t *testing.T) {
	_, addr := startNode(t, "127.0.0.1", 0, Config{})
	a, b := newClient(t, "127.0.0.2"), newClient(t, "127.0.0.3")
	ih := randomID()
	r, _ := a.call(krpc.Msg{Q: krpc.MethodGetPeers, A: krpc.Args{InfoHash: ih}}, addr)
	if len(r.R.Token) == 0 || len(r.R.Values) != 0 {
		t.Fatalf("get_peers: %+v", r)
	}
	tok := r.R.Token
	announce := func(c *client, token []byte, port int, implied bool) krpc.Msg {
		m, _ := c.call(krpc.Msg{Q: krpc.MethodAnnouncePeer, A: krpc.Args{InfoHash: ih, Token: token, Port: port, ImpliedPort: implied}}, addr)
		return m
	}
	if m := announce(a, []byte("wrongtok"), 4000, false); m.Y != krpc.KindError || m.E.Code != krpc.CodeProtocol {
		t.Fatalf("wrong token: %+v", m)
	}
	if m := announce(b, tok, 4001, false); m.Y != krpc.KindError || m.E.Code != krpc.CodeProtocol {
		t.Fatalf("token from another address: %+v", m)
	}
	if r, _ := b.call(krpc.Msg{Q: krpc.MethodGetPeers, A: krpc.Args{InfoHash: ih}}, addr); len(r.R.Values) != 0 {
		t.Fatalf("refused announces were stored: %v", r.R.Values)
	}
	if m := announce(a, tok, 4002, false); m.Y != krpc.KindResponse {
		t.Fatalf("good token: %+v", m)
	}
	r, _ = b.call(krpc.Msg{Q: krpc.MethodGetPeers, A: krpc.Args{InfoHash: ih}}, addr)
	if want := []netip.AddrPort{netip.AddrPortFrom(a.addr().Addr(), 4002)}; !slices.Equal(r.R.Values, want) {
		t.Fatalf("stored peers %v, want %v", r.R.Values, want)
	}
	// implied_port; the store keeps one peer per address (BEP 33), so
	// this announce replaces the first.
	if m := announce(a, tok, 9, true); m.Y != krpc.KindResponse {
		t.Fatalf("implied port: %+v", m)
	}
	r, _ = b.call(krpc.Msg{Q: krpc.MethodGetPeers, A: krpc.Args{InfoHash: ih}}, addr)
	if want := []netip.AddrPort{a.addr()}; !slices.Equal(r.R.Values, want) {
		t.Fatalf("stored peers %v, want %v", r.R.Values, want)
	}
}

// TestNoAmplification fills the peer store and checks that a minimal
// get_peers query gets a reply at most maxAmplification times its size,
// with values cut to fit.
func TestNoAmplification(t *testing.T) {
	n, addr := startNode(t, "127.0.0.1", 0, Config{})
	ih := randomID()
	now := time.Now()
	for i := range 200 {
		n.peers.Add(ih, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 9, byte(i >> 8), byte(i)}), 6881), false, now)
	}
	c := newClient(t, "127.0.0.2")
	c.tid = 0
	q := krpc.Msg{Q: krpc.MethodGetPeers, A: krpc.Args{InfoHash: ih}}
	r, size := c.call(q, addr)
	qsize := len(krpc.Msg{T: []byte{0, 1}, Y: krpc.KindQuery, Q: krpc.MethodGetPeers, A: krpc.Args{ID: c.id, InfoHash: ih}}.Encode())
	if len(r.R.Values) == 0 || len(r.R.Values) >= 200 {
		t.Fatalf("%d values for a store of 200", len(r.R.Values))
	}
	if size > maxAmplification*qsize {
		t.Fatalf("a %d-byte query got a %d-byte reply (> %dx)", qsize, size, maxAmplification)
	}
	t.Logf("%d-byte get_peers got a %d-byte reply with %d values and %d nodes", qsize, size, len(r.R.Values), len(r.R.Nodes))
	// find_node and ping replies are small too.
	for _, q := range []krpc.Msg{{Q: krpc.MethodFindNode, A: krpc.Args{Target: ih}}, {Q: krpc.MethodPing}} {
		_, size := c.call(q, addr)
		qs := len(krpc.Msg{T: []byte{0, 1}, Y: krpc.KindQuery, Q: q.Q, A: krpc.Args{ID: c.id, Target: q.A.Target}}.Encode())
		if size > maxAmplification*qs {
			t.Fatalf("%s: %d-byte query, %d-byte reply", q.Q, qs, size)
		}
	}
}

// TestFlood floods the node with queries from one address: the rate limit
// answers only a burst of them, while another address keeps getting
// answers (sending again when the flood made the socket drop its packet,
// as any client does). A flood from many addresses and many info hashes leaves every
// map within its bound.
func TestFlood(t *testing.T) {
	n, addr := startNode(t, "127.0.0.1", 0, Config{QueryRate: 10, QueryBurst: 20})
	attacker, good := newClient(t, "127.0.0.2"), newClient(t, "127.0.0.3")
	const flood = 5000
	start := time.Now()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		b := krpc.Msg{T: []byte("ff"), Y: krpc.KindQuery, Q: krpc.MethodPing, A: krpc.Args{ID: attacker.id}}.Encode()
		for range flood {
			attacker.conn.WriteToUDPAddrPort(b, addr)
		}
	}()
	answered := 0
	for range 20 {
		if m, _ := good.call(krpc.Msg{Q: krpc.MethodPing}, addr); m.Y == krpc.KindResponse {
			answered++
		}
	}
	wg.Wait()
	replies := 0
	for {
		if _, _, ok := attacker.recv(300 * time.Millisecond); !ok {
			break
		}
		replies++
	}
	elapsed := time.Since(start).Seconds()
	limit := 20 + int(10*elapsed) + 1
	if answered != 20 {
		t.Fatalf("the well-behaved address got %d of 20 answers", answered)
	}
	if replies > limit {
		t.Fatalf("the flooding address got %d answers in %.1fs; limit %d", replies, elapsed, limit)
	}
	st := n.Stats()
	if st.RateLimited == 0 || st.RateLimited+uint64(replies) < st.IncomingQueries-20 {
		t.Fatalf("stats after the flood: %+v", st)
	}
	t.Logf("flood of %d pings (%d reached the node): %d answered, %d rate-limited; the other address got 20 of 20",
		flood, st.IncomingQueries-20, replies, st.RateLimited)
}

// TestFloodManyAddresses queries and announces from 300 addresses, each
// for its own info hash and port: the rate limiter, the peer store, the
// pings of unknown nodes and our pending queries all stay within bounds,
// and a well-behaved address still gets its answers.
func TestFloodManyAddresses(t *testing.T) {
	n, addr := startNode(t, "127.0.0.1", 0, Config{}, func(n *Node) {
		n.peers = newPeerStore(16, 4, n.cfg.PeerTTL)
		n.limiter = newRateLimiter(n.cfg.QueryRate, float64(n.cfg.QueryBurst), 64, totalQueryRate)
	})
	shared := randomID()
	for i := range 300 {
		c := newClient(t, netip.AddrFrom4([4]byte{127, 1, byte(i >> 8), byte(i)}).String())
		ih := randomID()
		r, _ := c.call(krpc.Msg{Q: krpc.MethodGetPeers, A: krpc.Args{InfoHash: ih}}, addr)
		c.call(krpc.Msg{Q: krpc.MethodAnnouncePeer, A: krpc.Args{InfoHash: ih, Token: r.R.Token, Port: 1000 + i}}, addr)
		c.call(krpc.Msg{Q: krpc.MethodAnnouncePeer, A: krpc.Args{InfoHash: shared, Token: r.R.Token, Port: 1000 + i}}, addr)
		if tracked := n.limiter.Tracked(); tracked > 64 {
			t.Fatalf("the rate limiter tracks %d addresses, limit 64", tracked)
		}
		n.mu.Lock()
		verifying := len(n.verifying)
		n.mu.Unlock()
		if verifying > maxVerifying || n.rpc.len() > maxPending {
			t.Fatalf("%d unknown nodes being pinged, %d queries pending", verifying, n.rpc.len())
		}
	}
	torrents, peers := n.peers.Counts()
	if torrents > 16 || peers > 16*4 {
		t.Fatalf("peer store: %d torrents, %d peers; limits 16 and 16x4", torrents, peers)
	}
	good := newClient(t, "127.0.0.3")
	r, _ := good.call(krpc.Msg{Q: krpc.MethodGetPeers, A: krpc.Args{InfoHash: shared}}, addr)
	if len(r.R.Values) != 4 {
		t.Fatalf("the shared torrent has %d peers, want the 4 most recent", len(r.R.Values))
	}
	t.Logf("after 300 addresses: %d torrents, %d peers, %d addresses rate-tracked, %d queries pending",
		torrents, peers, n.limiter.Tracked(), n.rpc.len())
}
