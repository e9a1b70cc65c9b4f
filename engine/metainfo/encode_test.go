package metainfo

import (
	"bytes"
	"crypto/sha1"
	"reflect"
	"strings"
	"testing"

	"github.com/anacrolix/torrent/bencode"
)

func TestInfoEncodeSortedKeys(t *testing.T) {
	pieces := strings.Repeat("h", 40)
	single := &Info{Name: "a", PieceLength: 16384, Pieces: []byte(pieces), Files: []File{{Path: []string{"a"}, Length: 20000}}, Private: true}
	want := "d6:lengthi20000e4:name1:a12:piece lengthi16384e6:pieces40:" + pieces + "7:privatei1ee"
	if b, err := single.Encode(); err != nil || string(b) != want {
		t.Fatalf("single-file encode %q, %v\nwant %q", b, err, want)
	}
	multi := &Info{Name: "d", PieceLength: 16384, Pieces: []byte(pieces), MultiFile: true,
		Files: []File{{Path: []string{"x", "y"}, Length: 20000}, {Path: []string{"z"}, Length: 1}}}
	want = "d5:filesld6:lengthi20000e4:pathl1:x1:yeed6:lengthi1e4:pathl1:zeee4:name1:d12:piece lengthi16384e6:pieces40:" + pieces + "e"
	if b, err := multi.Encode(); err != nil || string(b) != want {
		t.Fatalf("multi-file encode %q, %v\nwant %q", b, err, want)
	}
	if _, err := (&Info{Name: "a", MultiFile: true}).Encode(); err == nil {
		t.Fatal("multi-file info without files encoded")
	}
}

func TestNew(t *testing.T) {
	info := &Info{Name: "d", PieceLength: 16384, Pieces: []byte(strings.Repeat("h", 40)), MultiFile: true,
		Files: []File{{Path: []string{"x"}, Length: 20000}, {Path: []string{"z"}, Length: 1}}}
	m, err := New(info)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := info.Encode()
	if !bytes.Equal(m.InfoBytes, raw) || m.InfoHash != sha1.Sum(raw) {
		t.Fatal("New: info bytes or hash wrong")
	}
	if m.Info.TotalLength != 20001 || m.Info.Files[1].Offset != 20000 {
		t.Fatalf("New did not fill offsets: %+v", m.Info)
	}
	info.Pieces = info.Pieces[:20]
	if _, err := New(info); err == nil {
		t.Fatal("New accepted a piece count that does not match the length")
	}
}

// TestRoundTrip parses, encodes and parses again: same info hash and the
// same outer fields.
func TestRoundTrip(t *testing.T) {
	info := multiInfoMap()
	info["x-unknown"] = []any{int64(1), "two"} // kept inside InfoBytes
	data := torrentOf(t, info, map[string]any{
		"announce":      "http://a/",
		"announce-list": []any{[]any{"http://a/", "http://b/"}, []any{"udp://c:80"}},
		"nodes":         []any{[]any{"1.2.3.4", int64(6881)}, []any{"::1", int64(1)}},
		"url-list":      []any{"http://ws/", "http://ws2/"},
		"comment":       "c",
		"created by":    "by",
		"creation date": int64(12345),
	})
	m1, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := m1.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(enc, data) {
		t.Errorf("re-encoding a sorted torrent changed it:\n%q\n%q", enc, data)
	}
	m2, err := Parse(enc)
	if err != nil {
		t.Fatal(err)
	}
	if m2.InfoHash != m1.InfoHash || !reflect.DeepEqual(m1, m2) {
		t.Fatalf("round trip changed the torrent:\n%+v\n%+v", m1, m2)
	}
	// A MetaInfo without InfoBytes encodes its Info.
	m3 := &MetaInfo{Info: m1.Info, Announce: "http://a/"}
	enc, err = m3.Encode()
	if err != nil {
		t.Fatal(err)
	}
	m4, err := Parse(enc)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := m1.Info.Encode()
	if m4.InfoHash != sha1.Sum(again) {
		t.Fatal("encoding Info without InfoBytes gave another hash")
	}
	var top map[string]bencode.Bytes
	if err := bencode.Unmarshal(enc, &top); err != nil || len(top) != 2 {
		t.Fatalf("unset keys were written: %q", enc)
	}
}
