package krpc

import (
	"bytes"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/anacrolix/torrent/bencode"
)

func id(s string) ID {
	var x ID
	copy(x[:], s)
	return x
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// sampleMsgs are one message of each shape a node sends or receives.
func sampleMsgs() map[string]Msg {
	self := id("abcdefghij0123456789")
	msgs := map[string]Msg{
		"ping": {T: []byte("aa"), Y: KindQuery, Q: MethodPing, A: Args{ID: self}},
		"ping ro": {T: []byte("\x00\x01"), Y: KindQuery, Q: MethodPing, A: Args{ID: self},
			ReadOnly: true, V: []byte("SW\x00\x01")},
		"find_node": {T: []byte("t1"), Y: KindQuery, Q: MethodFindNode,
			A: Args{ID: self, Target: id("mnopqrstuvwxyz123456"), Want: []string{"n4", "n6"}}},
		"get_peers": {T: []byte("t2"), Y: KindQuery, Q: MethodGetPeers,
			A: Args{ID: self, InfoHash: id("mnopqrstuvwxyz123456")}},
		"get_peers padded": {T: []byte("t2"), Y: KindQuery, Q: MethodGetPeers,
			A: Args{ID: self, InfoHash: id("mnopqrstuvwxyz123456"), Want: []string{"n6"}, Pad: 80}},
		"get_peers scrape": {T: []byte("t2"), Y: KindQuery, Q: MethodGetPeers,
			A: Args{ID: self, InfoHash: id("mnopqrstuvwxyz123456"), Scrape: true, NoSeed: true}},
		"announce_peer seed": {T: []byte("t3"), Y: KindQuery, Q: MethodAnnouncePeer,
			A: Args{ID: self, InfoHash: id("mnopqrstuvwxyz123456"), Port: 6881, Token: []byte("aoeusnth"), Seed: true}},
		"reply scrape": {T: []byte("t2"), Y: KindResponse, R: Reply{ID: self, Token: []byte("tok"),
			BFsd: &Bloom{0: 1, 255: 0x80}, BFpe: &Bloom{7: 0x10}}},
		"announce_peer": {T: []byte("t3"), Y: KindQuery, Q: MethodAnnouncePeer,
			A: Args{ID: self, InfoHash: id("mnopqrstuvwxyz123456"), Port: 6881, Token: []byte("aoeusnth")}},
		"announce_peer implied": {T: []byte("t4"), Y: KindQuery, Q: MethodAnnouncePeer,
			A: Args{ID: self, InfoHash: id("mnopqrstuvwxyz123456"), Port: 0, ImpliedPort: true, Token: []byte("x")}},
		"unknown method": {T: []byte("t5"), Y: KindQuery, Q: "vote", A: Args{ID: self}},
		"reply ping":     {T: []byte("aa"), Y: KindResponse, R: Reply{ID: self}, IP: ap("1.2.3.4:5678")},
		"reply find_node": {T: []byte("t1"), Y: KindResponse, R: Reply{ID: self,
			Nodes: []NodeInfo{
				{ID: id("11111111111111111111"), Addr: ap("10.0.0.1:1")},
				{ID: id("22222222222222222222"), Addr: ap("127.0.0.11:65535")},
			},
			Nodes6: []NodeInfo{{ID: id("33333333333333333333"), Addr: ap("[2001:db8::1]:6881")}},
		}},
		"reply get_peers": {T: []byte("t2"), Y: KindResponse, R: Reply{ID: self, Token: []byte("tok"),
			Values: []netip.AddrPort{ap("192.168.1.2:6881"), ap("[2001:db8::2]:51413")}},
			IP: ap("[2001:db8::9]:1")},
		"error": {T: []byte("t3"), Y: KindError, E: Error{Code: CodeProtocol, Msg: "bad token"}},
	}
	for name, m := range itemMsgs() {
		msgs[name] = m
	}
	return msgs
}

func TestRoundTrip(t *testing.T) {
	for name, m := range sampleMsgs() {
		t.Run(name, func(t *testing.T) {
			b := m.Encode()
			got, err := Decode(b)
			if err != nil {
				t.Fatalf("Decode(%q): %v", b, err)
			}
			if !reflect.DeepEqual(got, m) {
				t.Fatalf("round trip of %q:\n got %+v\nwant %+v", b, got, m)
			}
			// Our encoding is canonical bencode: the library's own
			// re-encoding of the generic value gives the same bytes.
			var generic any
			if err := bencode.Unmarshal(b, &generic); err != nil {
				t.Fatalf("bencode cannot read %q: %v", b, err)
			}
			again, err := bencode.Marshal(generic)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, b) {
				t.Fatalf("not canonical:\n ours %q\nlib's %q", b, again)
			}
			if app := m.Append([]byte("prefix")); !bytes.Equal(app, append([]byte("prefix"), b...)) {
				t.Fatalf("Append differs from Encode")
			}
		})
	}
}

// TestBEP5Examples decodes the example messages printed in BEP 5.
func TestBEP5Examples(t *testing.T) {
	cases := []struct {
		in   string
		want Msg
	}{
		{"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe",
			Msg{T: []byte("aa"), Y: KindQuery, Q: MethodPing, A: Args{ID: id("abcdefghij0123456789")}}},
		{"d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re",
			Msg{T: []byte("aa"), Y: KindResponse, R: Reply{ID: id("mnopqrstuvwxyz123456")}}},
		{"d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee",
			Msg{T: []byte("aa"), Y: KindError, E: Error{Code: 201, Msg: "A Generic Error Ocurred"}}},
		{"d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe",
			Msg{T: []byte("aa"), Y: KindQuery, Q: MethodFindNode,
				A: Args{ID: id("abcdefghij0123456789"), Target: id("mnopqrstuvwxyz123456")}}},
		{"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe",
			Msg{T: []byte("aa"), Y: KindQuery, Q: MethodGetPeers,
				A: Args{ID: id("abcdefghij0123456789"), InfoHash: id("mnopqrstuvwxyz123456")}}},
		{"d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re",
			Msg{T: []byte("aa"), Y: KindResponse, R: Reply{ID: id("abcdefghij0123456789"), Token: []byte("aoeusnth"),
				Values: []netip.AddrPort{
					netip.AddrPortFrom(netip.AddrFrom4([4]byte{'a', 'x', 'j', 'e'}), uint16('.')<<8|'u'),
					netip.AddrPortFrom(netip.AddrFrom4([4]byte{'i', 'd', 'h', 't'}), uint16('n')<<8|'m'),
				}}}},
		{"d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe",
			Msg{T: []byte("aa"), Y: KindQuery, Q: MethodAnnouncePeer, A: Args{ID: id("abcdefghij0123456789"),
				InfoHash: id("mnopqrstuvwxyz123456"), Port: 6881, ImpliedPort: true, Token: []byte("aoeusnth")}}},
	}
	for _, c := range cases {
		got, err := Decode([]byte(c.in))
		if err != nil {
			t.Fatalf("Decode(%q): %v", c.in, err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Fatalf("Decode(%q):\n got %+v\nwant %+v", c.in, got, c.want)
		}
		if enc := got.Encode(); string(enc) != c.in {
			t.Fatalf("re-encoded %q as %q", c.in, enc)
		}
	}
}

// TestHostile feeds malformed messages: each must give an error wrapping
// ErrMalformed, without panicking.
func TestHostile(t *testing.T) {
	const okA = "d2:id20:abcdefghij0123456789e"
	cases := []struct{ name, in string }{
		{"empty", ""},
		{"not bencode", "hello world"},
		{"integer", "i42e"},
		{"list", "l1:ae"},
		{"empty dict", "de"},
		{"truncated", "d1:ad2:id20:abcdefghij0123456789e1:q4:pi"},
		{"trailing bytes", "d1:t2:aa1:y1:q1:q4:ping1:a" + okA + "eXYZ"},
		{"huge string length", "d1:t99999999999:aa1:y1:qe"},
		{"string length overflow", "d1:t99999999999999999999999:aa1:y1:qe"},
		{"negative length", "d1:t-1:a1:y1:qe"},
		{"leading zero length", "d1:t02:aa1:y1:qe"},
		{"deep nesting", "d1:x" + strings.Repeat("l", 10000) + strings.Repeat("e", 10000) + "e"},
		{"no t", "d1:a" + okA + "1:q4:ping1:y1:qe"},
		{"t is an int", "d1:a" + okA + "1:q4:ping1:ti1e1:y1:qe"},
		{"t too long", "d1:a" + okA + "1:q4:ping1:t33:" + strings.Repeat("x", 33) + "1:y1:qe"},
		{"no y", "d1:a" + okA + "1:q4:ping1:t2:aae"},
		{"bad y", "d1:t2:aa1:y1:xe"},
		{"long y", "d1:t2:aa1:y2:qqe"},
		{"query without q", "d1:a" + okA + "1:t2:aa1:y1:qe"},
		{"query without a", "d1:q4:ping1:t2:aa1:y1:qe"},
		{"a is a list", "d1:al2:ide1:q4:ping1:t2:aa1:y1:qe"},
		{"short id", "d1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe"},
		{"id is an int", "d1:ad2:idi5ee1:q4:ping1:t2:aa1:y1:qe"},
		{"find_node without target", "d1:a" + okA + "1:q9:find_node1:t2:aa1:y1:qe"},
		{"find_node short target", "d1:ad2:id20:abcdefghij01234567896:target3:abce1:q9:find_node1:t2:aa1:y1:qe"},
		{"get_peers without info_hash", "d1:a" + okA + "1:q9:get_peers1:t2:aa1:y1:qe"},
		{"announce without token", "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti1ee1:q13:announce_peer1:t2:aa1:y1:qe"},
		{"announce without port", "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234565:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe"},
		{"announce port too big", "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti70000e5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe"},
		{"announce negative port", "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti-1e5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe"},
		{"port overflow", "d1:ad2:id20:abcdefghij01234567894:porti99999999999999999999999ee1:q4:ping1:t2:aa1:y1:qe"},
		{"long token", "d1:ad2:id20:abcdefghij01234567895:token65:" + strings.Repeat("x", 65) + "e1:q4:ping1:t2:aa1:y1:qe"},
		{"response without r", "d1:t2:aa1:y1:re"},
		{"response short id", "d1:rd2:id2:abe1:t2:aa1:y1:re"},
		{"nodes not a multiple of 26", "d1:rd2:id20:abcdefghij01234567895:nodes25:" + strings.Repeat("n", 25) + "e1:t2:aa1:y1:re"},
		{"nodes6 not a multiple of 38", "d1:rd2:id20:abcdefghij01234567896:nodes626:" + strings.Repeat("n", 26) + "e1:t2:aa1:y1:re"},
		{"value of 5 bytes", "d1:rd2:id20:abcdefghij01234567896:valuesl5:abcdeee1:t2:aa1:y1:re"},
		{"values not a list", "d1:rd2:id20:abcdefghij01234567896:values6:abcdefe1:t2:aa1:y1:re"},
		{"error without e", "d1:t2:aa1:y1:ee"},
		{"error empty list", "d1:ele1:t2:aa1:y1:ee"},
		{"error code a string", "d1:el3:2013:msge1:t2:aa1:y1:ee"},
		{"error code huge", "d1:eli99999999999999999999999e3:msge1:t2:aa1:y1:ee"},
		{"error code over int32", "d1:eli9999999999e3:msge1:t2:aa1:y1:ee"},
		{"error message a dict", "d1:eli201ede1:t2:aa1:y1:ee"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode([]byte(c.in))
			if err == nil {
				t.Fatalf("Decode(%.80q) accepted it", c.in)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Decode(%.80q): error %v does not wrap ErrMalformed", c.in, err)
			}
		})
	}
}

// TestBadQueryKeepsTransaction checks that a query with bad arguments
// still yields its transaction ID, so that a node can answer error 203.
func TestBadQueryKeepsTransaction(t *testing.T) {
	m, err := Decode([]byte("d1:ad2:id3:abce1:q4:ping1:t2:zz1:y1:qe"))
	if err == nil || string(m.T) != "zz" || m.Y != KindQuery || m.Q != "" {
		t.Fatalf("got %+v, %v", m, err)
	}
}

// TestLenientMetadata checks that malformed optional fields are ignored.
func TestLenientMetadata(t *testing.T) {
	in := "d1:ad2:id20:abcdefghij01234567894:wanti5ee2:ip3:abc1:q4:ping2:ro3:yes1:t2:aa1:v" +
		"d1:xi1ee1:y1:qe"
	m, err := Decode([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if m.IP.IsValid() || m.ReadOnly || m.V != nil || m.A.Want != nil || m.Q != MethodPing {
		t.Fatalf("got %+v", m)
	}
	m, err = Decode([]byte("d1:ad2:id20:abcdefghij0123456789e1:q4:ping2:roi1e1:t2:aa1:v33:" +
		strings.Repeat("v", 33) + "1:y1:qe"))
	if err != nil || !m.ReadOnly || m.V != nil {
		t.Fatalf("got %+v, %v", m, err)
	}
}

func TestErrorIsError(t *testing.T) {
	var err error = Error{Code: CodeProtocol, Msg: "bad token"}
	var e Error
	if !errors.As(err, &e) || e.Code != 203 || !strings.Contains(err.Error(), "203") {
		t.Fatalf("got %v", err)
	}
}

func TestCompact(t *testing.T) {
	peers := []netip.AddrPort{ap("1.2.3.4:80"), ap("255.255.255.255:65535")}
	var b []byte
	for _, p := range peers {
		b = AppendCompactPeer(b, p)
	}
	if len(b) != 12 {
		t.Fatalf("%d bytes", len(b))
	}
	got, err := ParseCompactPeers(b)
	if err != nil || !reflect.DeepEqual(got, peers) {
		t.Fatalf("got %v, %v", got, err)
	}
	if _, err := ParseCompactPeers(b[:7]); err == nil {
		t.Fatal("7 bytes accepted")
	}
	if p := AppendCompactPeer(nil, ap("[::ffff:1.2.3.4]:80")); len(p) != 6 {
		t.Fatalf("a mapped address takes %d bytes", len(p))
	}
	nodes := []NodeInfo{
		{ID: id("11111111111111111111"), Addr: ap("10.0.0.1:1")},
		{ID: id("22222222222222222222"), Addr: ap("[2001:db8::1]:2")},
	}
	four, six := AppendCompactNodes(nil, nodes), AppendCompactNodes6(nil, nodes)
	if len(four) != 26 || len(six) != 38 {
		t.Fatalf("%d and %d bytes", len(four), len(six))
	}
	n4, err4 := ParseCompactNodes(four)
	n6, err6 := ParseCompactNodes6(six)
	if err4 != nil || err6 != nil || !reflect.DeepEqual(n4, nodes[:1]) || !reflect.DeepEqual(n6, nodes[1:]) {
		t.Fatalf("got %v %v (%v, %v)", n4, n6, err4, err6)
	}
}
