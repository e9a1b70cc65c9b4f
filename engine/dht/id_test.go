package dht

import (
	"encoding/hex"
	"net/netip"
	"testing"
)

// TestBEP42Vectors checks secure IDs against the examples of BEP 42.
func TestBEP42Vectors(t *testing.T) {
	cases := []struct {
		ip   string
		rand byte
		id   string // the first 3 bytes and the last one matter
	}{
		{"124.31.75.21", 1, "5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401"},
		{"21.75.31.124", 86, "5a3ce9c14e7a08645677bbd1cfe7d8f956d53256"},
		{"65.23.51.170", 22, "a5d43220bc8f112a3d426c84764f8c2a1150e616"},
		{"84.124.73.14", 65, "1b0321dd1bb1fe518101ceef99462b947a01ff41"},
		{"43.213.53.83", 90, "e56f6cbf5b7c4be0237986d5243b87aa6d51305a"},
	}
	for _, c := range cases {
		ip := netip.MustParseAddr(c.ip)
		var want ID
		hex.Decode(want[:], []byte(c.id))
		if !secureIDValid(want, ip) {
			t.Errorf("%s: the BEP's ID %s is not valid", c.ip, c.id)
		}
		got := secureID(ip, c.rand)
		if got[0] != want[0] || got[1] != want[1] || got[2]&0xf8 != want[2]&0xf8 || got[19] != want[19] {
			t.Errorf("%s: got %x, want prefix %x", c.ip, got, want[:3])
		}
		if !secureIDValid(got, ip) {
			t.Errorf("%s: our ID %x is not valid", c.ip, got)
		}
		other := netip.MustParseAddr("8.8.8.8")
		if secureIDValid(got, other) {
			t.Errorf("%s: ID %x is valid for 8.8.8.8 too", c.ip, got)
		}
	}
	v6 := netip.MustParseAddr("2001:db8::1")
	if id := secureID(v6, 3); !secureIDValid(id, v6) {
		t.Errorf("IPv6 ID %x not valid", id)
	}
	// Local addresses are exempt.
	for _, s := range []string{"127.0.0.1", "10.1.2.3", "192.168.1.1", "fe80::1"} {
		if !secureIDValid(randomID(), netip.MustParseAddr(s)) {
			t.Errorf("%s is not exempt", s)
		}
	}
}

func TestIDHelpers(t *testing.T) {
	var a, b ID
	if commonPrefixLen(a, b) != 160 {
		t.Fatal("equal IDs")
	}
	b[2] = 0x10
	if n := commonPrefixLen(a, b); n != 19 {
		t.Fatalf("got %d, want 19", n)
	}
	self := randomID()
	for prefix := range 160 {
		id := randomIDWithPrefix(self, prefix, false)
		if n := commonPrefixLen(self, id); n != prefix {
			t.Fatalf("prefix %d: got %d", prefix, n)
		}
		if n := commonPrefixLen(self, randomIDWithPrefix(self, prefix, true)); n < prefix {
			t.Fatalf("at least %d: got %d", prefix, n)
		}
	}
	target := ID{0x80}
	if distanceCmp(ID{0x81}, ID{0x01}, target) != -1 || distanceCmp(ID{0x81}, ID{0x81}, target) != 0 {
		t.Fatal("distanceCmp")
	}
}
