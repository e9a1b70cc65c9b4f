package lsd

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

func hashOf(b byte) metainfo.Hash {
	var h metainfo.Hash
	for i := range h {
		h[i] = b + byte(i)
	}
	return h
}

// libtorrentAnnounce is a message as libtorrent 2.0 renders it: one info
// hash, a lower-case cookie header and three CRLFs at the end.
const libtorrentAnnounce = "BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\n" +
	"Infohash: 0102030405060708090a0b0c0d0e0f1011121314\r\ncookie: 1f2e3d4c\r\n\r\n\r\n"

func TestParseAnnounce(t *testing.T) {
	h1 := hashOf(1)
	h2 := hashOf(0xa0)
	hex1 := h1.String()
	hex2 := strings.ToUpper(h2.String())
	zero := strings.Repeat("0", 40)
	many := "BT-SEARCH * HTTP/1.1\nport:1\n"
	for i := range MaxInfoHashes + 1 {
		many += "infohash:" + hashOf(byte(i+1)).String() + "\n"
	}
	for _, c := range []struct {
		name string
		in   string
		want Announce
		err  error
	}{
		{"libtorrent", libtorrentAnnounce, Announce{Port: 6881, InfoHashes: []metainfo.Hash{h1}, Cookie: "1f2e3d4c"}, nil},
		{"two hashes, no cookie, IPv6 host", "BT-SEARCH * HTTP/1.1\r\nHost: [ff15::efc0:988f]:6771\r\nPort: 65535\r\nInfohash: " + hex1 + "\r\nInfohash: " + hex2 + "\r\n\r\n\r\n",
			Announce{Port: 65535, InfoHashes: []metainfo.Hash{h1, h2}}, nil},
		{"LF only, odd case, spaces, no end line", "bt-search * HTTP/1.0\nPORT:   42 \ninfoHASH:" + hex1 + "\nCookie: x",
			Announce{Port: 42, InfoHashes: []metainfo.Hash{h1}, Cookie: "x"}, nil},
		{"bad and zero and repeated hashes skipped", "BT-SEARCH * HTTP/1.1\r\nPort: 7\r\nInfohash: xyz\r\nInfohash: " + zero + "\r\nInfohash: " + hex1 + "\r\nInfohash: " + hex1 + "\r\nInfohash: " + strings.Repeat("g", 40) + "\r\n\r\n",
			Announce{Port: 7, InfoHashes: []metainfo.Hash{h1}}, nil},
		{"headers after the end ignored", "BT-SEARCH * HTTP/1.1\r\nPort: 7\r\nInfohash: " + hex1 + "\r\n\r\nPort: 8\r\nrubbish\r\n",
			Announce{Port: 7, InfoHashes: []metainfo.Hash{h1}}, nil},
		{"unknown headers ignored", "BT-SEARCH * HTTP/1.1\r\nX-Thing: 1\r\nPort: 7\r\nInfohash: " + hex1 + "\r\n\r\n",
			Announce{Port: 7, InfoHashes: []metainfo.Hash{h1}}, nil},
		{"long cookie ignored", "BT-SEARCH * HTTP/1.1\r\nPort: 7\r\nInfohash: " + hex1 + "\r\ncookie: " + strings.Repeat("c", 65) + "\r\n\r\n",
			Announce{Port: 7, InfoHashes: []metainfo.Hash{h1}}, nil},

		{"empty", "", Announce{}, ErrNotAnnounce},
		{"SSDP search", "M-SEARCH * HTTP/1.1\r\nHost: 239.255.255.250:1900\r\n\r\n", Announce{}, ErrNotAnnounce},
		{"no target", "BT-SEARCH HTTP/1.1\r\nPort: 7\r\nInfohash: " + hex1 + "\r\n\r\n", Announce{}, ErrNotAnnounce},
		{"not HTTP", "BT-SEARCH * FTP/1.1\r\nPort: 7\r\nInfohash: " + hex1 + "\r\n\r\n", Announce{}, ErrNotAnnounce},
		{"binary", "\x00\xff\x13BitTorrent protocol", Announce{}, ErrNotAnnounce},
		{"header without colon", "BT-SEARCH * HTTP/1.1\r\nPort 7\r\nInfohash: " + hex1 + "\r\n\r\n", Announce{}, ErrMalformed},
		{"no port", "BT-SEARCH * HTTP/1.1\r\nInfohash: " + hex1 + "\r\n\r\n", Announce{}, ErrBadPort},
		{"port 0", "BT-SEARCH * HTTP/1.1\r\nPort: 0\r\nInfohash: " + hex1 + "\r\n\r\n", Announce{}, ErrBadPort},
		{"port 65536", "BT-SEARCH * HTTP/1.1\r\nPort: 65536\r\nInfohash: " + hex1 + "\r\n\r\n", Announce{}, ErrBadPort},
		{"port with sign", "BT-SEARCH * HTTP/1.1\r\nPort: +80\r\nInfohash: " + hex1 + "\r\n\r\n", Announce{}, ErrBadPort},
		{"port too long", "BT-SEARCH * HTTP/1.1\r\nPort: 000080\r\nInfohash: " + hex1 + "\r\n\r\n", Announce{}, ErrBadPort},
		{"port empty", "BT-SEARCH * HTTP/1.1\r\nPort:\r\nInfohash: " + hex1 + "\r\n\r\n", Announce{}, ErrBadPort},
		{"two ports", "BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nPort: 2\r\nInfohash: " + hex1 + "\r\n\r\n", Announce{}, ErrBadPort},
		{"no hash", "BT-SEARCH * HTTP/1.1\r\nPort: 7\r\n\r\n", Announce{}, ErrNoInfoHash},
		{"only a zero hash", "BT-SEARCH * HTTP/1.1\r\nPort: 7\r\nInfohash: " + zero + "\r\n\r\n", Announce{}, ErrNoInfoHash},
		{"too many hashes", many, Announce{}, ErrTooManyInfoHashes},
		{"too large", "BT-SEARCH * HTTP/1.1\r\nPort: 7\r\nInfohash: " + hex1 + "\r\nX: " + strings.Repeat("x", MaxPacketSize) + "\r\n\r\n", Announce{}, ErrTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseAnnounce([]byte(c.in))
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("err = %v, want %v", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Port != c.want.Port || got.Cookie != c.want.Cookie || !slices.Equal(got.InfoHashes, c.want.InfoHashes) {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestParseAnnounceErrorIsReadable(t *testing.T) {
	_, err := ParseAnnounce([]byte("GET /" + strings.Repeat("a", 500) + " HTTP/1.1\r\n\r\n"))
	if err == nil || len(err.Error()) > 120 || strings.Contains(err.Error(), "\n") {
		t.Fatalf("error %q: want one short line", err)
	}
}

func TestAppendAnnounceRoundTrip(t *testing.T) {
	var hashes []metainfo.Hash
	for i := range MaxHashesPerMessage {
		hashes = append(hashes, hashOf(byte(i+1)))
	}
	for _, host := range []string{HostIPv4, HostIPv6} {
		a := Announce{Port: 65535, InfoHashes: hashes, Cookie: "ffffffff"}
		msg := AppendAnnounce(nil, host, a)
		if len(msg) > MaxMessageSize {
			t.Fatalf("%d info hashes make %d bytes, over %d", len(hashes), len(msg), MaxMessageSize)
		}
		if len(AppendAnnounce(nil, host, Announce{Port: 65535, InfoHashes: append(hashes, hashOf(0)), Cookie: "ffffffff"})) <= MaxMessageSize {
			t.Fatalf("MaxHashesPerMessage %d is not the most that fits", MaxHashesPerMessage)
		}
		if !bytes.Contains(msg, []byte("\r\nHost: "+host+"\r\n")) || !bytes.HasSuffix(msg, []byte("\r\n\r\n\r\n")) {
			t.Fatalf("message:\n%s", msg)
		}
		got, err := ParseAnnounce(msg)
		if err != nil {
			t.Fatal(err)
		}
		if got.Port != a.Port || got.Cookie != a.Cookie || !slices.Equal(got.InfoHashes, a.InfoHashes) {
			t.Fatalf("got %+v, want %+v", got, a)
		}
	}
}

// FuzzParseAnnounce checks that no packet makes the parser panic or break
// its bounds, and that what it accepts re-encodes to the same announce.
func FuzzParseAnnounce(f *testing.F) {
	f.Add([]byte(libtorrentAnnounce))
	f.Add(AppendAnnounce(nil, HostIPv6, Announce{Port: 1, InfoHashes: []metainfo.Hash{hashOf(1), hashOf(2)}}))
	f.Add([]byte("BT-SEARCH * HTTP/1.1\nPort: 1\ninfohash:" + hashOf(3).String()))
	f.Add([]byte("BT-SEARCH * HTTP/1.1\r\nPort: 99999\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseAnnounce(b)
		if err != nil {
			return
		}
		if a.Port == 0 || len(a.InfoHashes) == 0 || len(a.InfoHashes) > MaxInfoHashes || len(a.Cookie) > maxCookieLen {
			t.Fatalf("out of bounds: %+v", a)
		}
		for i, h := range a.InfoHashes {
			if h.IsZero() || slices.Contains(a.InfoHashes[:i], h) {
				t.Fatalf("zero or repeated hash in %+v", a)
			}
		}
		msg := AppendAnnounce(nil, HostIPv4, a)
		if len(msg) > MaxPacketSize {
			return
		}
		again, err := ParseAnnounce(msg)
		if err != nil {
			t.Fatalf("re-encoded %q does not parse: %v", msg, err)
		}
		if again.Port != a.Port || again.Cookie != a.Cookie || !slices.Equal(again.InfoHashes, a.InfoHashes) {
			t.Fatalf("round trip: %+v became %+v", a, again)
		}
	})
}
