package dht

import (
	"net/netip"
	"testing"
	"time"
)

func TestTokens(t *testing.T) {
	now := time.Now()
	s := newTokenSecrets(5*time.Minute, now)
	a, b := netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3")
	tok := s.Token(a, now)
	if len(tok) != tokenLen || !s.Valid(tok, a, now) {
		t.Fatal("a fresh token is not valid")
	}
	if s.Valid(tok, b, now) {
		t.Fatal("a token works from another address")
	}
	if s.Valid([]byte("forged!!"), a, now) || s.Valid(nil, a, now) {
		t.Fatal("a forged token is valid")
	}
	// Valid through the next rotation, invalid after the second.
	if !s.Valid(tok, a, now.Add(9*time.Minute)) {
		t.Fatal("a token is refused within 10 minutes")
	}
	if s.Valid(tok, a, now.Add(10*time.Minute+time.Second)) {
		t.Fatal("a token is accepted after two rotations")
	}
	// A long idle period invalidates everything at once.
	s2 := newTokenSecrets(5*time.Minute, now)
	tok2 := s2.Token(a, now)
	if s2.Valid(tok2, a, now.Add(time.Hour)) {
		t.Fatal("a token is accepted an hour later")
	}
}

func TestPeerStoreLimits(t *testing.T) {
	now := time.Now()
	s := newPeerStore(3, 4, 30*time.Minute)
	peer := func(i int) netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 1, byte(i)}), uint16(1000+i))
	}
	for i := range 10 {
		s.Add(ID{byte(i)}, peer(i), false, now.Add(time.Duration(i)*time.Second))
	}
	if tor, peers := s.Counts(); tor != 3 || peers != 3 {
		t.Fatalf("%d torrents, %d peers; want 3 and 3", tor, peers)
	}
	// The most recently announced torrents are the ones kept.
	if got := s.Get(ID{9}, 10, peer(0).Addr(), false, now); len(got) != 1 || got[0] != peer(9) {
		t.Fatalf("got %v", got)
	}
	if got := s.Get(ID{0}, 10, peer(0).Addr(), false, now); len(got) != 0 {
		t.Fatalf("an evicted torrent still has %v", got)
	}
	for i := range 10 {
		s.Add(ID{9}, peer(i), false, now.Add(time.Minute+time.Duration(i)*time.Second))
	}
	got := s.Get(ID{9}, 10, peer(0).Addr(), false, now.Add(2*time.Minute))
	if len(got) != 4 {
		t.Fatalf("a torrent keeps %d peers, want 4", len(got))
	}
	if got := s.Get(ID{9}, 2, peer(0).Addr(), false, now.Add(2*time.Minute)); len(got) != 2 {
		t.Fatalf("Get with max 2 gave %d", len(got))
	}
	// IPv6 askers get IPv6 peers only.
	if got := s.Get(ID{9}, 10, netip.MustParseAddr("::1"), false, now.Add(2*time.Minute)); len(got) != 0 {
		t.Fatalf("an IPv6 asker got %v", got)
	}
	// Expiry after 30 minutes.
	s.Expire(now.Add(time.Hour))
	if tor, peers := s.Counts(); tor != 0 || peers != 0 {
		t.Fatalf("after expiry: %d torrents, %d peers", tor, peers)
	}
}

func TestRateLimiter(t *testing.T) {
	now := time.Now()
	l := newRateLimiter(10, 20, 8, 1000)
	a := netip.MustParseAddr("127.0.0.2")
	allowed := 0
	for range 100 {
		if l.Allow(a, now) {
			allowed++
		}
	}
	if allowed != 20 {
		t.Fatalf("allowed %d at once, want the burst of 20", allowed)
	}
	if !l.Allow(netip.MustParseAddr("127.0.0.3"), now) {
		t.Fatal("another address is limited too")
	}
	if !l.Allow(a, now.Add(200*time.Millisecond)) {
		t.Fatal("no refill after 200 ms at 10/s")
	}
	// Many addresses: the limiter stays bounded.
	for i := range 1000 {
		l.Allow(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), now)
		if n := l.Tracked(); n > 8 {
			t.Fatalf("tracking %d addresses, limit 8", n)
		}
	}
	// The global limit applies over all addresses.
	g := newRateLimiter(10, 20, 10000, 50)
	allowed = 0
	for i := range 1000 {
		if g.Allow(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), now) {
			allowed++
		}
	}
	if allowed != 50 {
		t.Fatalf("global limit let %d through, want 50", allowed)
	}
}

// TestPeerStoreOnePerAddress: one entry per IP address and torrent (BEP
// 33; a new announce updates its port and seed status), and at most
// maxPeersPerNet6 addresses of one IPv6 /64.
func TestPeerStoreOnePerAddress(t *testing.T) {
	now := time.Now()
	s := newPeerStore(10, 100, 30*time.Minute)
	ih := ID{1}
	for port := range 50 {
		s.Add(ih, netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), uint16(1000+port)), port%2 == 0, now)
	}
	if got := s.Get(ih, 10, netip.IPv4Unspecified(), false, now); len(got) != 1 || got[0].Port() != 1049 {
		t.Fatalf("50 ports of one address: %v", got)
	}
	if seeds, peers, _ := s.Filters(ih, now); seeds.Estimate() != 0 || peers.Estimate() < 0.9 {
		t.Fatalf("the last announce (not a seed) did not set the status: %v %v", seeds.Estimate(), peers.Estimate())
	}
	net := netip.MustParsePrefix("2001:db8:1:2::/64")
	ip := net.Addr()
	for range 30 {
		ip = ip.Next()
		s.Add(ih, netip.AddrPortFrom(ip, 6881), false, now)
	}
	for i := range 5 {
		s.Add(ih, netip.AddrPortFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 7: byte(i), 15: 1}), 6881), false, now)
	}
	got := s.Get(ih, 100, netip.IPv6Unspecified(), false, now)
	inNet := 0
	for _, p := range got {
		if net.Contains(p.Addr()) {
			inNet++
		}
	}
	if inNet != maxPeersPerNet6 || len(got) != maxPeersPerNet6+5 {
		t.Fatalf("IPv6: %d of one /64 and %d in all (%v)", inNet, len(got), got)
	}
}
