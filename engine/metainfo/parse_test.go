package metainfo

import (
	"bytes"
	"crypto/sha1"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/anacrolix/torrent/bencode"
)

// infoMap returns a valid single-file info dict of 40000 bytes in pieces
// of 16384 (3 pieces).
func infoMap() map[string]any {
	return map[string]any{
		"name":         "file.bin",
		"piece length": int64(16384),
		"pieces":       strings.Repeat("p", 60),
		"length":       int64(40000),
	}
}

// multiInfoMap returns a valid two-file info dict of 3 pieces.
func multiInfoMap() map[string]any {
	m := infoMap()
	delete(m, "length")
	m["name"] = "folder"
	m["files"] = []any{
		map[string]any{"length": int64(30000), "path": []any{"sub", "a.txt"}},
		map[string]any{"length": int64(10000), "path": []any{"b.txt"}},
	}
	return m
}

func torrentOf(t testing.TB, info any, extra map[string]any) []byte {
	t.Helper()
	top := map[string]any{"info": info}
	for k, v := range extra {
		top[k] = v
	}
	b, err := bencode.Marshal(top)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseSingleAndMulti(t *testing.T) {
	data := torrentOf(t, infoMap(), map[string]any{"announce": "http://t/a", "comment": "hi", "created by": "me", "creation date": int64(1700000000)})
	m, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	rawInfo := bencode.MustMarshal(infoMap())
	if !bytes.Equal(m.InfoBytes, rawInfo) || m.InfoHash != sha1.Sum(rawInfo) {
		t.Fatalf("info bytes/hash not those of the file")
	}
	want := Info{Name: "file.bin", PieceLength: 16384, Pieces: []byte(strings.Repeat("p", 60)),
		Files: []File{{Path: []string{"file.bin"}, Length: 40000}}, TotalLength: 40000}
	if !reflect.DeepEqual(m.Info, want) {
		t.Fatalf("info %+v, want %+v", m.Info, want)
	}
	if m.Announce != "http://t/a" || m.Comment != "hi" || m.CreatedBy != "me" || m.CreationDate != 1700000000 {
		t.Fatalf("outer fields %+v", m)
	}
	if m.Info.PieceSize(2) != 40000-2*16384 || m.Info.PieceSize(0) != 16384 {
		t.Fatalf("piece sizes %d %d", m.Info.PieceSize(0), m.Info.PieceSize(2))
	}

	m, err = Parse(torrentOf(t, multiInfoMap(), nil))
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := []File{{Path: []string{"sub", "a.txt"}, Length: 30000}, {Path: []string{"b.txt"}, Length: 10000, Offset: 30000}}
	if !m.Info.MultiFile || !reflect.DeepEqual(m.Info.Files, wantFiles) || m.Info.TotalLength != 40000 {
		t.Fatalf("multi-file info %+v", m.Info)
	}
}

func TestParsePrefersUTF8AndReadsOptionalKeys(t *testing.T) {
	info := multiInfoMap()
	info["name.utf-8"] = "dossier"
	info["private"] = int64(1)
	info["files"] = []any{
		map[string]any{"length": int64(40000), "path": []any{"x"}, "path.utf-8": []any{"é", "ü.txt"}},
	}
	data := torrentOf(t, info, map[string]any{
		"announce":      "http://a/announce",
		"announce-list": []any{[]any{"http://b/1", ""}, []any{}, []any{"udp://c:1"}},
		"nodes": []any{
			[]any{"router.example", int64(6881)},
			[]any{"10.0.0.1", int64(0)},      // bad port
			[]any{"10.0.0.2"},                // no port
			[]any{int64(5), int64(6881)},     // host not a string
			"1.2.3.4:5",                      // not a list
			[]any{"::1", int64(65535)},       // fine
			[]any{"h", int64(1), int64(2)},   // too long
			[]any{"bad host", int64(6881)},   // space in host
			[]any{"1.1.1.1", int64(1 << 20)}, // port too big
		},
		"url-list": "http://seed/",
	})
	m, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if m.Info.Name != "dossier" || !reflect.DeepEqual(m.Info.Files[0].Path, []string{"é", "ü.txt"}) || !m.Info.Private {
		t.Fatalf("info %+v", m.Info)
	}
	wantTiers := [][]string{{"http://b/1"}, {"udp://c:1"}}
	if !reflect.DeepEqual(m.AnnounceList, wantTiers) || !reflect.DeepEqual(m.Trackers(), wantTiers) {
		t.Fatalf("announce-list %q trackers %q", m.AnnounceList, m.Trackers())
	}
	wantNodes := []Node{{"router.example", 6881}, {"::1", 65535}}
	if !reflect.DeepEqual(m.Nodes, wantNodes) {
		t.Fatalf("nodes %v, want %v", m.Nodes, wantNodes)
	}
	if !reflect.DeepEqual(m.URLList, []string{"http://seed/"}) {
		t.Fatalf("url-list %q", m.URLList)
	}
	m, err = Parse(torrentOf(t, infoMap(), map[string]any{"url-list": []any{"http://1/", "http://2/"}}))
	if err != nil || !reflect.DeepEqual(m.URLList, []string{"http://1/", "http://2/"}) {
		t.Fatalf("url-list list: %v %q", err, m.URLList)
	}
}

func TestTrackers(t *testing.T) {
	for _, tc := range []struct {
		m    MetaInfo
		want [][]string
	}{
		{MetaInfo{}, nil},
		{MetaInfo{Announce: "a"}, [][]string{{"a"}}},
		{MetaInfo{Announce: "a", AnnounceList: [][]string{{""}, {}}}, [][]string{{"a"}}},
		{MetaInfo{Announce: "a", AnnounceList: [][]string{{"", "b"}, {}, {"c", "d"}}}, [][]string{{"b"}, {"c", "d"}}},
	} {
		if got := tc.m.Trackers(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Trackers(%+v) = %q, want %q", tc.m, got, tc.want)
		}
	}
}

// TestParseInvalid gives one broken torrent per rule; each must fail with
// ErrInvalid and a message naming the problem.
func TestParseInvalid(t *testing.T) {
	with := func(base func() map[string]any, f func(m map[string]any)) []byte {
		m := base()
		f(m)
		return torrentOf(t, m, nil)
	}
	setFile := func(k string, v any) func(m map[string]any) {
		return func(m map[string]any) {
			m["files"].([]any)[0].(map[string]any)[k] = v
		}
	}
	cases := []struct {
		name, want string
		data       []byte
	}{
		{"empty input", "unexpected end", nil},
		{"not bencode", "unexpected byte", []byte("hello")},
		{"top is a list", "torrent is a list, want a dictionary", []byte("le")},
		{"trailing bytes", "after the end", append(torrentOf(t, infoMap(), nil), 'x')},
		{"unterminated dict", "unexpected end", []byte("d4:info")},
		{"key not string", "key is not a string", []byte("di1ei2ee")},
		{"key without value", "key without a value", []byte("d3:fooe")},
		{"duplicate key", "appears twice", []byte("d1:ai1e1:ai2ee")},
		{"leading zero int", "canonical", []byte("d1:ai01ee")},
		{"minus zero", "canonical", []byte("d1:ai-0ee")},
		{"empty int", "without digits", []byte("d1:aiee")},
		{"bad int", "non-digit", []byte("d1:ai1x2ee")},
		{"string length leading zero", "leading zero", []byte("d01:ai1ee")},
		{"string too long", "past the end", []byte("d9:ae")},
		{"huge string length", "past the end", []byte("d99999999999999999999999:ae")},
		{"too deep", "nested deeper than 100", []byte(strings.Repeat("l", 101) + strings.Repeat("e", 101))},
		{"far too deep", "nested deeper than 100", []byte(strings.Repeat("l", 1<<20))},
		{"too big", "over the 10485760 byte limit", make([]byte, MaxTorrentSize+1)},
		{"no info", "no info dictionary", []byte("d8:announce1:ae")},
		{"info not dict", "info is a list, want a dictionary", []byte("d4:infolee")},
		{"no name", "info has no name", with(infoMap, func(m map[string]any) { delete(m, "name") })},
		{"empty name", "name is empty", with(infoMap, func(m map[string]any) { m["name"] = "" })},
		{"name wrong type", "name is an integer, want a string", with(infoMap, func(m map[string]any) { m["name"] = int64(3) })},
		{"name.utf-8 wrong type", "name.utf-8 is a list", with(infoMap, func(m map[string]any) { m["name.utf-8"] = []any{} })},
		{"no piece length", "no piece length", with(infoMap, func(m map[string]any) { delete(m, "piece length") })},
		{"piece length string", "piece length is a string", with(infoMap, func(m map[string]any) { m["piece length"] = "16384" })},
		{"piece length zero", "piece length 0 is not positive", with(infoMap, func(m map[string]any) { m["piece length"] = int64(0) })},
		{"piece length negative", "piece length -5 is not positive", with(infoMap, func(m map[string]any) { m["piece length"] = int64(-5) })},
		{"piece length huge", "piece length 268435456 is over", with(infoMap, func(m map[string]any) { m["piece length"] = int64(256 << 20) })},
		{"piece length overflows", "does not fit in 64 bits", []byte("d4:infod4:name1:x12:piece lengthi99999999999999999999999eee")},
		{"no pieces", "no pieces", with(infoMap, func(m map[string]any) { delete(m, "pieces") })},
		{"v2 only", "v2-only", with(infoMap, func(m map[string]any) { delete(m, "pieces"); m["meta version"] = int64(2) })},
		{"pieces not string", "pieces is a list", with(infoMap, func(m map[string]any) { m["pieces"] = []any{} })},
		{"pieces 37", "pieces length 37 is not a multiple of 20", with(infoMap, func(m map[string]any) { m["pieces"] = strings.Repeat("p", 37) })},
		{"too few pieces", "2 piece hashes for 40000 bytes in pieces of 16384; want 3", with(infoMap, func(m map[string]any) { m["pieces"] = strings.Repeat("p", 40) })},
		{"too many pieces", "4 piece hashes", with(infoMap, func(m map[string]any) { m["pieces"] = strings.Repeat("p", 80) })},
		{"zero length", "total length is 0", with(infoMap, func(m map[string]any) { m["length"] = int64(0); m["pieces"] = "" })},
		{"negative length", "info length -1 is negative", with(infoMap, func(m map[string]any) { m["length"] = int64(-1) })},
		{"absurd length", "is over 9007199254740992 bytes", with(infoMap, func(m map[string]any) { m["length"] = int64(1 << 60) })},
		{"length string", "info length is a string", with(infoMap, func(m map[string]any) { m["length"] = "5" })},
		{"length and files", "both length and files", with(multiInfoMap, func(m map[string]any) { m["length"] = int64(1) })},
		{"neither length nor files", "neither length nor files", with(infoMap, func(m map[string]any) { delete(m, "length") })},
		{"files not list", "info files is a dictionary", with(multiInfoMap, func(m map[string]any) { m["files"] = map[string]any{} })},
		{"files empty", "files list is empty", with(multiInfoMap, func(m map[string]any) { m["files"] = []any{} })},
		{"file not dict", "info files[0] is a string", with(multiInfoMap, func(m map[string]any) { m["files"] = []any{"x"} })},
		{"file no length", "info files[0] length is missing", with(multiInfoMap, func(m map[string]any) { delete(m["files"].([]any)[0].(map[string]any), "length") })},
		{"file negative length", "info files[0] length -3 is negative", with(multiInfoMap, setFile("length", int64(-3)))},
		{"file no path", "info files[0] has no path", with(multiInfoMap, func(m map[string]any) { delete(m["files"].([]any)[0].(map[string]any), "path") })},
		{"file path empty", "info files[0] path is empty", with(multiInfoMap, setFile("path", []any{}))},
		{"file path not list", "info files[0] path is a string", with(multiInfoMap, setFile("path", "a/b"))},
		{"file path item not string", "info files[0] path[1] is an integer", with(multiInfoMap, setFile("path", []any{"a", int64(1)}))},
		{"file path.utf-8 empty", "path.utf-8 is empty", with(multiInfoMap, setFile("path.utf-8", []any{}))},
		{"sum over 2^53", "total length is over", with(multiInfoMap, func(m map[string]any) {
			m["files"] = []any{
				map[string]any{"length": int64(1 << 53), "path": []any{"a"}},
				map[string]any{"length": int64(1), "path": []any{"b"}},
			}
		})},
		{"private string", "info private is a string", with(infoMap, func(m map[string]any) { m["private"] = "1" })},
		{"announce list", "announce is a list", torrentOf(t, infoMap(), map[string]any{"announce": []any{"x"}})},
		{"announce-list flat", "announce-list[0] is a string, want a list", torrentOf(t, infoMap(), map[string]any{"announce-list": []any{"http://x"}})},
		{"announce-list item int", "announce-list[0][0] is an integer", torrentOf(t, infoMap(), map[string]any{"announce-list": []any{[]any{int64(1)}}})},
		{"nodes not list", "nodes is a string", torrentOf(t, infoMap(), map[string]any{"nodes": "x"})},
		{"url-list int", "url-list is an integer", torrentOf(t, infoMap(), map[string]any{"url-list": int64(1)})},
		{"url-list item", "url-list[0] is a list", torrentOf(t, infoMap(), map[string]any{"url-list": []any{[]any{}}})},
		{"creation date string", "creation date is a string", torrentOf(t, infoMap(), map[string]any{"creation date": "2020"})},
		{"comment int", "comment is an integer", torrentOf(t, infoMap(), map[string]any{"comment": int64(1)})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse(tc.data)
			if err == nil {
				t.Fatalf("parsed %+v", m)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %q does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

// TestMaxPieces calls parseInfo directly: a file under MaxTorrentSize
// cannot hold more than MaxPieces hashes, so the limit is a second line.
func TestMaxPieces(t *testing.T) {
	m := infoMap()
	m["pieces"] = strings.Repeat("p", 20*(MaxPieces+1))
	_, err := parseInfo(bencode.MustMarshal(m))
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "2097153 pieces is over the limit of 2097152") {
		t.Fatalf("error %v", err)
	}
}

func TestParseInfo(t *testing.T) {
	raw := bencode.MustMarshal(multiInfoMap())
	info, err := ParseInfo(raw)
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "folder" || len(info.Files) != 2 || info.TotalLength != 40000 {
		t.Fatalf("info %+v", info)
	}
	for _, bad := range [][]byte{nil, []byte("le"), raw[:len(raw)-1], append(raw[:len(raw):len(raw)], 'e')} {
		if _, err := ParseInfo(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseInfo(%q) error %v", bad, err)
		}
	}
	m := multiInfoMap()
	m["pieces"] = "short"
	if _, err := ParseInfo(bencode.MustMarshal(m)); err == nil || !strings.Contains(err.Error(), "pieces length 5") {
		t.Fatalf("bad pieces: %v", err)
	}
}

// TestParseKeepsInfoBytes checks that an info dict with unsorted keys and
// unknown keys is hashed as it is, not as re-encoded.
func TestParseKeepsInfoBytes(t *testing.T) {
	info := "d6:lengthi5e4:name1:x12:piece lengthi16384e6:pieces20:" + strings.Repeat("h", 20) + "1:zli1eee"
	unsorted := "d6:pieces20:" + strings.Repeat("h", 20) + "4:name1:x12:piece lengthi16384e6:lengthi5ee"
	for _, raw := range []string{info, unsorted} {
		m, err := Parse([]byte("d4:info" + raw + "e"))
		if err != nil {
			t.Fatal(err)
		}
		if string(m.InfoBytes) != raw || m.InfoHash != sha1.Sum([]byte(raw)) {
			t.Fatalf("info bytes %q, want %q", m.InfoBytes, raw)
		}
	}
}
