package dht

import (
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// received counts the bytes c receives within d: the reply and any
// follow-up (such as the node's ping back).
func (c *client) received(d time.Duration) (total, packets int) {
	buf := make([]byte, 65536)
	deadline := time.Now().Add(d)
	for {
		c.conn.SetReadDeadline(deadline)
		n, _, err := c.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return total, packets
		}
		total += n
		packets++
	}
}

// TestAmplificationPerQueryType sends one query of each kind, as small as
// it can be made, from an address the node has never heard from, and
// counts every byte that comes back within a few query timeouts (the
// reply, and the ping the node sends to verify a new querier): at most
// twice the query's size. The node has a peer store holding 200 peers of
// the torrent asked for, as a reflection attacker would arrange, and
// either a full table (its replies carry 8 nodes) or an empty one (it
// wants to verify every querier, with a ping of its own).
func TestAmplificationPerQueryType(t *testing.T) {
	for _, full := range []bool{true, false} {
		name := "empty table"
		if full {
			name = "full table"
		}
		t.Run(name, func(t *testing.T) { testAmplification(t, full) })
	}
}

func testAmplification(t *testing.T, fullTable bool) {
	n, addr := startNode(t, "127.0.0.1", 0, Config{QueryTimeout: 300 * time.Millisecond})
	now := time.Now()
	for i := range 64 { // a table of public-looking nodes in distinct /24s
		if fullTable {
			n.tables[ipv4].Seen(randomID(), netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, byte(i), 1}), 6881), now)
		}
	}
	ih := randomID()
	for i := range 200 {
		n.peers.Add(ih, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 9, byte(i >> 8), byte(i)}), 6881), false, now)
	}
	big := sign(t, newKey(t), "", 1, bstr(strings.Repeat("x", 996))) // an item of 1000 bytes
	n.items.Put(big, nil, netip.Addr{}, now)
	id := idAt(n.ID(), 150, 1) // falls in the last bucket: the node wants to verify every querier
	token := func(c *client) []byte {
		r, _ := c.call(krpc.Msg{Q: krpc.MethodGetPeers, A: krpc.Args{InfoHash: randomID()}}, addr)
		return r.R.Token
	}
	cases := []struct {
		name string
		prep func(c *client) []byte // returns the raw query
	}{
		{"ping", func(*client) []byte {
			return krpc.Msg{T: []byte("a"), Y: krpc.KindQuery, Q: krpc.MethodPing, A: krpc.Args{ID: id}}.Encode()
		}},
		{"find_node", func(*client) []byte {
			return krpc.Msg{T: []byte("a"), Y: krpc.KindQuery, Q: krpc.MethodFindNode, A: krpc.Args{ID: id, Target: randomID()}}.Encode()
		}},
		{"find_node want n4 n6", func(*client) []byte {
			return krpc.Msg{T: []byte("a"), Y: krpc.KindQuery, Q: krpc.MethodFindNode, A: krpc.Args{ID: id, Target: randomID(), Want: []string{"n4", "n6"}}}.Encode()
		}},
		{"get_peers (stored)", func(*client) []byte {
			return krpc.Msg{T: []byte("a"), Y: krpc.KindQuery, Q: krpc.MethodGetPeers, A: krpc.Args{ID: id, InfoHash: ih}}.Encode()
		}},
		{"get_peers scrape (stored)", func(*client) []byte {
			return krpc.Msg{T: []byte("a"), Y: krpc.KindQuery, Q: krpc.MethodGetPeers, A: krpc.Args{ID: id, InfoHash: ih, Scrape: true}}.Encode()
		}},
		{"get_peers (unknown)", func(*client) []byte {
			return krpc.Msg{T: []byte("a"), Y: krpc.KindQuery, Q: krpc.MethodGetPeers, A: krpc.Args{ID: id, InfoHash: randomID()}}.Encode()
		}},
		{"announce_peer (bad token)", func(*client) []byte {
			return krpc.Msg{T: []byte("a"), Y: krpc.KindQuery, Q: krpc.MethodAnnouncePeer, A: krpc.Args{ID: id, InfoHash: ih, Port: 1, Token: []byte("x")}}.Encode()
		}},
		{"announce_peer (good token)", func(c *client) []byte {
			return krpc.Msg{T: []byte("a"), Y: krpc.KindQuery, Q: krpc.MethodAnnouncePeer, A: krpc.Args{ID: id, InfoHash: ih, Port: 1, Token: token(c)}}.Encode()
		}},
		{"get (stored 1000-byte item)", func(*client) []byte {
			return krpc.Msg{T: []byte("a"), Y: krpc.KindQuery, Q: krpc.MethodGet, A: krpc.Args{ID: id, Target: big.Target()}}.Encode()
		}},
		{"get padded (stored item)", func(*client) []byte {
			q := n.padded(krpc.Msg{Q: krpc.MethodGet, A: krpc.Args{Target: big.Target()}}, addr)
			q.A.ID = id
			return q.Encode()
		}},
		{"put (bad token)", func(*client) []byte {
			return krpc.Msg{T: []byte("a"), Y: krpc.KindQuery, Q: krpc.MethodPut, A: krpc.Args{ID: id, Token: []byte("x"), Item: big}}.Encode()
		}},
		{"put (good token)", func(c *client) []byte {
			return krpc.Msg{T: []byte("a"), Y: krpc.KindQuery, Q: krpc.MethodPut, A: krpc.Args{ID: id, Token: token(c), Item: big}}.Encode()
		}},
		{"malformed", func(*client) []byte { return []byte("d1:t1:a1:y1:qe") }},
		{"malformed with an id", func(*client) []byte { return []byte("d1:ad2:id3:abce1:q4:ping1:t1:a1:y1:qe") }},
		{"unknown method", func(*client) []byte {
			return krpc.Msg{T: []byte("a"), Y: krpc.KindQuery, Q: "x", A: krpc.Args{ID: id}}.Encode()
		}},
	}
	for i, tc := range cases {
		// A new socket each time: an address the node has not verified.
		c := newClient(t, netip.AddrFrom4([4]byte{127, 0, 3, byte(i + 1)}).String())
		q := tc.prep(c)
		c.received(50 * time.Millisecond) // drain what prep caused
		start := time.Now()
		c.sendRaw(q, addr)
		got, packets := c.received(200 * time.Millisecond)
		ratio := float64(got) / float64(len(q))
		t.Logf("%-28s %3d-byte query: %4d bytes back in %d packets (%.2fx) in %v", tc.name, len(q), got, packets, ratio, time.Since(start).Round(time.Millisecond))
		if got > 2*len(q) {
			t.Errorf("%s: a %d-byte query from an unverified address got %d bytes back (%.2fx > 2x)", tc.name, len(q), got, ratio)
		}
	}
}

// TestVerificationWithinBudget: a querier whose first ping leaves no room
// for the node's verification ping gets it with its second ping (the
// unspent budget carries over); once it has answered, it is verified and
// its find_node gets the 8 closest nodes even where 2x its query would
// not hold them.
func TestVerificationWithinBudget(t *testing.T) {
	n, addr := startNode(t, "127.0.0.1", 0, Config{})
	now := time.Now()
	for i := range 64 {
		n.tables[ipv4].Seen(randomID(), netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, byte(i), 1}), 6881), now)
	}
	c := newClient(t, "127.0.0.2")
	c.id = idAt(n.ID(), 150, 1) // a bucket with room: the node wants to verify it
	ping := krpc.Msg{T: []byte("a"), Y: krpc.KindQuery, Q: krpc.MethodPing, A: krpc.Args{ID: c.id}}.Encode()
	// next returns the next packet from the node, or ok false.
	next := func() (krpc.Msg, bool) {
		buf := make([]byte, 2048)
		c.conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		size, _, err := c.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return krpc.Msg{}, false
		}
		m, err := krpc.Decode(buf[:size])
		if err != nil {
			t.Fatal(err)
		}
		return m, true
	}
	c.sendRaw(ping, addr)
	if m, ok := next(); !ok || m.Y != krpc.KindResponse {
		t.Fatalf("first ping: %+v, %v", m, ok)
	}
	if m, ok := next(); ok {
		t.Fatalf("the node sent %+v after its reply to a ping from a new address", m)
	}
	c.sendRaw(ping, addr)
	var verify krpc.Msg
	for m, ok := next(); ok; m, ok = next() {
		if m.Y == krpc.KindQuery {
			verify = m
		}
	}
	if verify.Q != krpc.MethodPing || len(verify.V) != 0 {
		t.Fatalf("second ping: no bare verification ping (%+v)", verify)
	}
	c.sendRaw(krpc.Msg{T: verify.T, Y: krpc.KindResponse, R: krpc.Reply{ID: c.id}}.Encode(), addr)
	waitFor(t, "the querier in the table", 5*time.Second, func() bool { return n.tables[ipv4].Has(c.addr()) })
	q := krpc.Msg{T: []byte("b"), Y: krpc.KindQuery, Q: krpc.MethodFindNode, A: krpc.Args{ID: c.id, Target: randomID()}}.Encode()
	c.sendRaw(q, addr)
	m, ok := next()
	if !ok || len(m.R.Nodes) != K {
		t.Fatalf("verified find_node: %d nodes (%v)", len(m.R.Nodes), ok)
	}
	if st := n.Stats(); st.Unanswered != 0 {
		t.Fatalf("%d queries unanswered", st.Unanswered)
	}
}

// TestPaddedQueryGetsFullReply: our own lookup queries carry a pad, so
// that a node that holds an unverified source to twice its query's size
// (our nodes) still answers with K nodes, and with its verification ping.
func TestPaddedQueryGetsFullReply(t *testing.T) {
	n, addr := startNode(t, "127.0.0.1", 0, Config{})
	now := time.Now()
	for i := range 64 {
		n.tables[ipv4].Seen(randomID(), netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, byte(i), 1}), 6881), now)
	}
	for _, method := range []string{krpc.MethodFindNode, krpc.MethodGetPeers} {
		c := newClient(t, "127.0.0.2")
		q := krpc.Msg{Q: method, A: krpc.Args{Target: randomID(), InfoHash: randomID()}}
		q = n.padded(q, addr) // as the node would pad it for itself
		q.A.ID = idAt(n.ID(), 150, 1)
		raw := q.Encode()
		c.sendRaw(raw, addr)
		var reply krpc.Msg
		pinged := false
		total := 0
		buf := make([]byte, 2048)
		for {
			c.conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			size, _, err := c.conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				break
			}
			total += size
			m, _ := krpc.Decode(buf[:size])
			if m.Y == krpc.KindQuery {
				pinged = true
			} else {
				reply = m
			}
		}
		t.Logf("%s: %d-byte query (pad %d): %d nodes, ping %v, %d bytes back", method, len(raw), q.A.Pad, len(reply.R.Nodes), pinged, total)
		if len(reply.R.Nodes) != K || !pinged || total > 2*len(raw) {
			t.Fatalf("%s: %d nodes, ping %v, %d bytes for %d", method, len(reply.R.Nodes), pinged, total, len(raw))
		}
	}
}

// TestPaddedGetGetsItem: our get queries carry the pad that lets a node
// holding unverified sources to twice their query's size answer with an
// item of 1000 bytes (with a 64-byte salt), nodes, and its verification
// ping; the same get without the pad gets the nodes but not the item,
// which the node counts as withheld; once verified (it answered the
// node's ping), the querier gets replies of up to 8 times its query: a
// BEP 46 item without a pad, but still not the item of 1000 bytes.
func TestPaddedGetGetsItem(t *testing.T) {
	n, addr := startNode(t, "127.0.21.2", 0, Config{})
	now := time.Now()
	for i := range 64 {
		n.tables[ipv4].Seen(randomID(), netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, byte(i), 1}), 6881), now)
	}
	big := sign(t, newKey(t), strings.Repeat("s", 64), math.MaxInt64, bstr(strings.Repeat("x", 996)))
	n.items.Put(big, nil, netip.Addr{}, now)
	small := sign(t, newKey(t), "my folder", 1, string(krpc.InfoHashValue(randomID())))
	n.items.Put(small, nil, netip.Addr{}, now)
	for i, padded := range []bool{true, false} {
		c := newClient(t, netip.AddrFrom4([4]byte{127, 0, 21, byte(3 + i)}).String()) // (one table entry per IP)
		q := krpc.Msg{Q: krpc.MethodGet, A: krpc.Args{Target: big.Target()}}
		if padded {
			q = n.padded(q, addr)
		} else {
			q.T, q.Y = []byte("tx"), krpc.KindQuery
		}
		q.A.ID = idAt(n.ID(), 150, i+1) // a bucket with room: the node wants to verify it
		raw := q.Encode()
		withheld := n.Stats().ItemsWithheld
		c.sendRaw(raw, addr)
		var reply krpc.Msg
		pinged := false
		total := 0
		buf := make([]byte, 4096)
		for {
			c.conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			size, from, err := c.conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				break
			}
			m, _ := krpc.Decode(buf[:size])
			switch {
			case m.Y == krpc.KindQuery && m.Q == krpc.MethodPing:
				total += size
				pinged = true
				c.sendRaw(krpc.Msg{T: m.T, Y: krpc.KindResponse, R: krpc.Reply{ID: q.A.ID}}.Encode(), from)
			case m.Y == krpc.KindQuery:
				// Once it answered, the querier is in the table: the node's
				// own lookups may ask it too, which is no answer to it.
			default:
				total += size
				reply = m
			}
		}
		t.Logf("padded %v: %d-byte query (pad %d): item of %d bytes, %d nodes, ping %v, %d bytes back",
			padded, len(raw), q.A.Pad, len(reply.R.Item.V), len(reply.R.Nodes), pinged, total)
		if total > 2*len(raw) || !pinged {
			t.Fatalf("%d bytes back for %d, ping %v", total, len(raw), pinged)
		}
		if padded && (!reply.R.Item.Mutable || len(reply.R.Nodes) < K/2) {
			t.Fatalf("padded get: item %d bytes, %d nodes", len(reply.R.Item.V), len(reply.R.Nodes))
		}
		if !padded && (reply.R.Item.V != nil || len(reply.R.Token) == 0 || n.Stats().ItemsWithheld != withheld+1) {
			t.Fatalf("unpadded get: item %d bytes, withheld %d -> %d", len(reply.R.Item.V), withheld, n.Stats().ItemsWithheld)
		}
		if !padded {
			// Verified now (it answered the ping), it gets replies of up to
			// 8 times its query: a BEP 46 item, not one of 1000 bytes.
			r, size := c.call(krpc.Msg{Q: krpc.MethodGet, A: krpc.Args{Target: small.Target()}}, addr)
			t.Logf("verified, unpadded: BEP 46 item of %d bytes, %d nodes in %d bytes", len(r.R.Item.V), len(r.R.Nodes), size)
			if !r.R.Item.Same(krpc.Item{V: small.V, Mutable: true, Key: small.Key, Seq: small.Seq, Sig: small.Sig}) {
				t.Fatalf("verified querier: %+v", r.R.Item)
			}
			r, size = c.call(krpc.Msg{Q: krpc.MethodGet, A: krpc.Args{Target: big.Target()}}, addr)
			t.Logf("verified, unpadded: 1000-byte item withheld (%v), %d nodes in %d bytes", r.R.Item.V == nil, len(r.R.Nodes), size)
			if r.R.Item.V != nil || len(r.R.Nodes) != K || size > maxAmplification*len(raw) {
				t.Fatalf("verified querier, big item: %d bytes of item, %d nodes in %d bytes", len(r.R.Item.V), len(r.R.Nodes), size)
			}
		}
	}
}

// TestBudgetMapsBounded: the per-source byte counts and the set of
// verified addresses stay within their bounds under a flood of sources,
// and an idle source starts again from zero.
func TestBudgetMapsBounded(t *testing.T) {
	now := time.Now()
	c, a := newCredits(), newAnswerers()
	for i := range 3 * maxAnswerers {
		addr := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 6881)
		c.Received(addr, 100, now)
		a.Add(addr, now)
		if c.Len() > maxCredits || a.Len() > maxAnswerers {
			t.Fatalf("after %d sources: %d counted, %d verified", i+1, c.Len(), a.Len())
		}
	}
	src := netip.MustParseAddrPort("192.0.2.1:1")
	if got := c.Received(src, 100, now); got != 200 {
		t.Fatalf("a new source may receive %d bytes, want 200", got)
	}
	c.Spent(src, 150)
	if got := c.Received(src, 10, now); got != 70 {
		t.Fatalf("after 110 bytes in and 150 out: %d, want 70", got)
	}
	if got := c.Received(src, 10, now.Add(creditIdle)); got != 20 {
		t.Fatalf("an idle source may receive %d, want 20", got)
	}
	if a.Has(src, now) {
		t.Fatal("an address that never answered is verified")
	}
	a.Add(src, now)
	if !a.Has(src, now) || a.Has(src, now.Add(answererTTL)) {
		t.Fatal("a verified address does not stay verified for answererTTL only")
	}
}
