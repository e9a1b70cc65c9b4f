package metainfo

import (
	"encoding/base32"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseMagnet(t *testing.T) {
	var h Hash
	for i := range h {
		h[i] = byte(i * 13)
	}
	b32 := base32.StdEncoding.EncodeToString(h[:])
	for _, s := range []string{
		"magnet:?xt=urn:btih:" + h.String() + "&dn=My%20File+x&tr=http%3A%2F%2Ft%2Fa&tr=udp://u:1&x.pe=1.2.3.4:5&x.pe=[::1]:6&foo=bar",
		"MAGNET:?xt=URN:BTIH:" + strings.ToUpper(h.String()) + "&dn=My+File%20x&tr=http://t/a&tr=udp%3A%2F%2Fu%3A1&x.pe=1.2.3.4:5&x.pe=%5B::1%5D:6",
		"magnet:?dn=My%20File%20x&xt=urn:btmh:1220aa&xt=urn:btih:" + b32 + "&tr=http://t/a&tr=udp://u:1&x.pe=1.2.3.4:5&x.pe=[::1]:6",
		"magnet:?xt=urn:btih:" + strings.ToLower(b32) + "&dn=My%20File%20x&tr=http://t/a&tr=&tr=udp://u:1&x.pe=1.2.3.4:5&x.pe=[::1]:6#frag",
	} {
		m, err := ParseMagnet(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		want := &Magnet{InfoHash: h, Name: "My File x", Trackers: []string{"http://t/a", "udp://u:1"}, Peers: []string{"1.2.3.4:5", "[::1]:6"}}
		if !reflect.DeepEqual(m, want) {
			t.Fatalf("%s:\n got %+v\nwant %+v", s, m, want)
		}
		again, err := ParseMagnet(m.String())
		if err != nil || !reflect.DeepEqual(again, m) {
			t.Fatalf("round trip of %s: %+v %v", m, again, err)
		}
	}
}

func TestMagnetString(t *testing.T) {
	m := &Magnet{InfoHash: Hash{1}, Name: "a b&c=d+é", Trackers: []string{"http://t/a?x=1&y=2"}, Peers: []string{"1.2.3.4:5"}}
	want := "magnet:?xt=urn:btih:0100000000000000000000000000000000000000&dn=a%20b%26c%3Dd%2B%C3%A9&tr=http%3A%2F%2Ft%2Fa%3Fx%3D1%26y%3D2&x.pe=1.2.3.4:5"
	if got := m.String(); got != want {
		t.Fatalf("String() = %s\nwant        %s", got, want)
	}
	if got := (&Magnet{InfoHash: Hash{2}}).String(); got != "magnet:?xt=urn:btih:0200000000000000000000000000000000000000" {
		t.Fatalf("bare magnet %s", got)
	}
}

func TestParseMagnetInvalid(t *testing.T) {
	hex40 := strings.Repeat("ab", 20)
	for _, tc := range []struct{ s, want string }{
		{"", "not a magnet link"},
		{"http://x/?xt=urn:btih:" + hex40, "not a magnet link"},
		{"magnet:", "no parameters"},
		{"magnet:xt=urn:btih:" + hex40, "no parameters"},
		{"magnet:?dn=x", "no xt=urn:btih"},
		{"magnet:?xt=urn:sha1:" + hex40, "no xt=urn:btih"},
		{"magnet:?xt=urn:btmh:1220" + hex40, "only a BitTorrent v2 hash"},
		{"magnet:?xt=urn:btih:" + hex40[:39], "has 39 characters"},
		{"magnet:?xt=urn:btih:" + hex40[:39] + "g", "is not hex"},
		{"magnet:?xt=urn:btih:" + strings.Repeat("1", 32), "is not base32"},
		{"magnet:?xt=urn:btih:" + hex40 + "&dn=%zz", "invalid URL escape"},
		{"magnet:?xt=urn:btih:" + hex40 + ";dn=x", "semicolon"},
	} {
		m, err := ParseMagnet(tc.s)
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseMagnet(%q) = %+v, %v; want error saying %q", tc.s, m, err, tc.want)
		}
	}
}

func TestMetaInfoMagnet(t *testing.T) {
	m := &MetaInfo{Info: Info{Name: "n"}, InfoHash: Hash{9}, Announce: "http://x/",
		AnnounceList: [][]string{{"http://a/", "http://b/"}, {"http://a/", "udp://c:1"}}}
	got := m.Magnet()
	want := &Magnet{InfoHash: Hash{9}, Name: "n", Trackers: []string{"http://a/", "http://b/", "udp://c:1"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Magnet() = %+v, want %+v", got, want)
	}
}
