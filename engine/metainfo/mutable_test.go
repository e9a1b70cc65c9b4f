package metainfo

import (
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// bep46Key is the public key of BEP 46's test vectors.
const bep46Key = "8543d3e6115f0f98c944077a4493dcd543e49c739fd998550a1f614ab36ed63e"

func TestParseMutableMagnet(t *testing.T) {
	var key [32]byte
	hex.Decode(key[:], []byte(bep46Key))
	for _, tc := range []struct {
		in   string
		want MutableMagnet
	}{
		{"magnet:?xs=urn:btpk:" + bep46Key, MutableMagnet{PublicKey: key}},
		{"magnet:?xs=urn:btpk:" + bep46Key + "&s=6e", MutableMagnet{PublicKey: key, Salt: []byte("n")}},
		{"MAGNET:?xs=URN:BTPK:" + strings.ToUpper(bep46Key) + "&s=6E6F&dn=My%20Folder&x.pe=1.2.3.4:5&x.pe=[::1]:6&foo=bar",
			MutableMagnet{PublicKey: key, Salt: []byte("no"), Name: "My Folder", Peers: []string{"1.2.3.4:5", "[::1]:6"}}},
		{"magnet:?xs=http://example.org/x&xs=urn:btpk:" + bep46Key + "&s=&xt=urn:btih:" + strings.Repeat("ab", 20) + "#frag",
			MutableMagnet{PublicKey: key}},
		{"magnet:?xs=urn:btpk:" + bep46Key + "&s=" + strings.Repeat("ff", 64), MutableMagnet{PublicKey: key, Salt: []byte(strings.Repeat("\xff", 64))}},
	} {
		m, err := ParseMutableMagnet(tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if !reflect.DeepEqual(*m, tc.want) {
			t.Fatalf("%s:\n got %+v\nwant %+v", tc.in, *m, tc.want)
		}
		again, err := ParseMutableMagnet(m.String())
		if err != nil || !reflect.DeepEqual(again, m) {
			t.Fatalf("round trip of %s: %+v, %v", m, again, err)
		}
	}
	m := &MutableMagnet{PublicKey: key, Salt: []byte("n"), Name: "a b", Peers: []string{"[::1]:6"}}
	if got := m.String(); got != "magnet:?xs=urn:btpk:"+bep46Key+"&s=6e&dn=a%20b&x.pe=[::1]:6" {
		t.Fatalf("String() = %s", got)
	}
}

func TestParseMutableMagnetInvalid(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		noKey    bool
	}{
		{"", "not a magnet link", false},
		{"magnet:xs=urn:btpk:" + bep46Key, "no parameters", false},
		{"magnet:?xt=urn:btih:" + strings.Repeat("ab", 20), "no xs=urn:btpk", true},
		{"magnet:?xs=urn:btpk:" + bep46Key[:62], "has 62 characters", false},
		{"magnet:?xs=urn:btpk:" + bep46Key[:63] + "g", "not hex", false},
		{"magnet:?xs=urn:btpk:" + bep46Key + "&s=6", "not hex", false},
		{"magnet:?xs=urn:btpk:" + bep46Key + "&s=" + strings.Repeat("ab", 65), "more than 64 bytes", false},
		{"magnet:?xs=urn:btpk:" + bep46Key + "&dn=%zz", "invalid URL escape", false},
	} {
		m, err := ParseMutableMagnet(tc.in)
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) || errors.Is(err, ErrNoPublicKey) != tc.noKey {
			t.Errorf("ParseMutableMagnet(%q) = %+v, %v; want an error saying %q (no key: %v)", tc.in, m, err, tc.want, tc.noKey)
		}
	}
	// An ordinary magnet link is no BEP 46 link, and the reverse.
	if _, err := ParseMagnet("magnet:?xs=urn:btpk:" + bep46Key); err == nil {
		t.Fatal("ParseMagnet took a BEP 46 link")
	}
}

func FuzzParseMutableMagnet(f *testing.F) {
	f.Add("magnet:?xs=urn:btpk:" + bep46Key + "&s=6e&dn=x%20y&x.pe=1.2.3.4:5")
	f.Add("magnet:?xs=urn:btpk:" + bep46Key + "&s=&xs=urn:btpk:00")
	f.Add("magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMutableMagnet(s)
		if err != nil {
			return
		}
		if len(m.Salt) > MaxSaltLen {
			t.Fatalf("%q: salt of %d bytes", s, len(m.Salt))
		}
		again, err := ParseMutableMagnet(m.String())
		if err != nil || !reflect.DeepEqual(again, m) {
			t.Fatalf("round trip of %q via %q: %+v, %v", s, m.String(), again, err)
		}
	})
}
