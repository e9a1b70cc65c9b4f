package dht

import (
	"bytes"
	"crypto/ed25519"
	"net/netip"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"
	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// FuzzParseTable checks that any state file is either refused or gives a
// table that saves back the same contacts.
func FuzzParseTable(f *testing.F) {
	nodes := []krpc.NodeInfo{
		{ID: randomID(), Addr: netip.MustParseAddrPort("127.0.0.1:6881")},
		{ID: randomID(), Addr: netip.MustParseAddrPort("10.1.2.3:51413")},
	}
	id := randomID()
	good, _ := bencode.Marshal(tableFile{ID: id[:], Nodes: krpc.AppendCompactNodes(nil, nodes),
		Nodes6: krpc.AppendCompactNodes6(nil, []krpc.NodeInfo{{ID: id, Addr: netip.MustParseAddrPort("[2001:db8::1]:1")}}),
		IP:     []byte{203, 0, 113, 5}, Saved: 1700000000})
	f.Add(good)
	f.Add([]byte("d2:id20:aaaaaaaaaaaaaaaaaaaa5:nodes0:5:savedi0ee"))
	f.Add([]byte("d2:id3:abce"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := parseTable(b)
		if err != nil {
			return
		}
		again, err := parseTable(bencode.MustMarshal(tableFile{
			ID: s.id[:], Nodes: krpc.AppendCompactNodes([]byte{}, s.nodes[ipv4]), Nodes6: krpc.AppendCompactNodes6(nil, s.nodes[ipv6])}))
		if err != nil || again.id != s.id || len(again.nodes[ipv4]) != len(s.nodes[ipv4]) || len(again.nodes[ipv6]) != len(s.nodes[ipv6]) {
			t.Fatalf("re-saving %+v gave %+v, %v", s, again, err)
		}
	})
}

// FuzzHandlePacket feeds arbitrary packets to a dual-stack node's packet
// handler (without Serve; its answers go to an in-memory network), from
// IPv4 and IPv6 sources: nothing panics, whatever the message, and the
// node's maps and item store stay within bounds. (A put needs a token
// valid for its source, which the fuzzer cannot guess: the placeholder
// TOKEN___ in a packet is replaced with it.)
func FuzzHandlePacket(f *testing.F) {
	self := randomID()
	for _, m := range []krpc.Msg{
		{T: []byte("aa"), Y: krpc.KindQuery, Q: krpc.MethodPing, A: krpc.Args{ID: self}},
		{T: []byte("ab"), Y: krpc.KindQuery, Q: krpc.MethodFindNode, A: krpc.Args{ID: self, Target: self}},
		{T: []byte("ac"), Y: krpc.KindQuery, Q: krpc.MethodGetPeers, A: krpc.Args{ID: self, InfoHash: self}},
		{T: []byte("ad"), Y: krpc.KindQuery, Q: krpc.MethodAnnouncePeer, A: krpc.Args{ID: self, InfoHash: self, Token: []byte("12345678"), Port: 1}},
		{T: []byte("ae"), Y: krpc.KindQuery, Q: krpc.MethodAnnouncePeer, A: krpc.Args{ID: self, InfoHash: self, Token: []byte("x"), ImpliedPort: true}},
		{T: []byte{0, 0, 0, 1}, Y: krpc.KindResponse, R: krpc.Reply{ID: self, Nodes: []krpc.NodeInfo{{ID: self, Addr: netip.MustParseAddrPort("10.0.0.1:1")}}}},
		{T: []byte{0, 0, 0, 2}, Y: krpc.KindError, E: krpc.Error{Code: 201, Msg: "x"}},
		{T: []byte("af"), Y: krpc.KindQuery, Q: krpc.MethodFindNode, A: krpc.Args{ID: self, Target: self, Want: []string{"n4", "n6"}, Pad: 40}},
		{T: []byte("ag"), Y: krpc.KindQuery, Q: krpc.MethodGetPeers, A: krpc.Args{ID: self, InfoHash: self, Want: []string{"n6"}}},
		{T: []byte{0, 0, 0, 3}, Y: krpc.KindResponse, R: krpc.Reply{ID: self,
			Nodes6: []krpc.NodeInfo{{ID: self, Addr: netip.MustParseAddrPort("[fd00::1]:1")}},
			Values: []netip.AddrPort{netip.MustParseAddrPort("[fd00::2]:2")}}},
	} {
		f.Add(m.Encode(), uint8(1))
	}
	// A put's token is valid only from its source: the fuzz function puts
	// the right one in place of this placeholder.
	placeholder := []byte("TOKEN___")
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	mut, _ := krpc.SignItem(key, []byte("salt"), 3, []byte("d2:ih20:mnopqrstuvwxyz123456e"))
	for _, m := range []krpc.Msg{
		{T: []byte("ah"), Y: krpc.KindQuery, Q: krpc.MethodGet, A: krpc.Args{ID: self, Target: mut.Target()}},
		{T: []byte("ai"), Y: krpc.KindQuery, Q: krpc.MethodPut, A: krpc.Args{ID: self, Token: placeholder, Item: mut}},
		{T: []byte("aj"), Y: krpc.KindQuery, Q: krpc.MethodPut, A: krpc.Args{ID: self, Token: placeholder, Item: krpc.Item{V: []byte("i1e")}}},
		{T: []byte("ak"), Y: krpc.KindQuery, Q: krpc.MethodPut, A: krpc.Args{ID: self, Token: placeholder, Item: mut, CAS: &mut.Seq}},
		{T: []byte{0, 0, 0, 4}, Y: krpc.KindResponse, R: krpc.Reply{ID: self, Token: []byte("x"), Item: mut}},
	} {
		f.Add(m.Encode(), uint8(2))
	}
	mn := newMemNet()
	n, err := New(Config{Conn: mn.Listen(netip.MustParseAddrPort("[::]:6881"))})
	if err != nil {
		f.Fatal(err)
	}
	s := &server{n: n}
	f.Fuzz(func(t *testing.T, b []byte, from uint8) {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 1, from}), 6881)
		if from&1 == 1 {
			src = netip.AddrPortFrom(netip.AddrFrom16([16]byte{0: 0xfd, 15: from}), 6881)
		}
		b = bytes.ReplaceAll(b, placeholder, n.tokens.Token(src.Addr(), time.Now()))
		s.handle(b, src)
		items, itemBytes, _ := n.items.Counts()
		if tor, _ := n.peers.Counts(); tor > maxTorrents || n.limiter.Tracked() > maxRateIPs ||
			n.credits.Len() > maxCredits || n.answerers.Len() > maxAnswerers || items > maxItems || itemBytes > maxItemBytes {
			t.Fatalf("bounds exceeded: %d torrents, %d items (%d bytes)", tor, items, itemBytes)
		}
	})
}
