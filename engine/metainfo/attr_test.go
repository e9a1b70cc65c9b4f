package metainfo

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/anacrolix/torrent/bencode"
)

// padInfoMap returns a libtorrent-style aligned info dict in pieces of
// 16384: a.txt (10000), pad (6384), b.bin (20000), pad (12768), empty,
// c (1): 4 pieces, the last one short.
func padInfoMap() map[string]any {
	return map[string]any{
		"name":         "set",
		"piece length": int64(16384),
		"pieces":       strings.Repeat("p", 80),
		"files": []any{
			map[string]any{"length": int64(10000), "path": []any{"a.txt"}},
			map[string]any{"attr": "p", "length": int64(6384), "path": []any{".pad", "6384"}},
			map[string]any{"attr": "x", "length": int64(20000), "path": []any{"b.bin"}},
			map[string]any{"attr": "p", "length": int64(12768), "path": []any{".pad", "12768"}},
			map[string]any{"length": int64(0), "path": []any{"empty"}},
			map[string]any{"attr": "h", "length": int64(1), "path": []any{"c"}},
		},
	}
}

func TestParsePadFilesAndAttrs(t *testing.T) {
	m, err := Parse(torrentOf(t, padInfoMap(), nil))
	if err != nil {
		t.Fatal(err)
	}
	want := []File{
		{Path: []string{"a.txt"}, Length: 10000},
		{Path: []string{".pad", "6384"}, Length: 6384, Offset: 10000, Pad: true},
		{Path: []string{"b.bin"}, Length: 20000, Offset: 16384, Executable: true},
		{Path: []string{".pad", "12768"}, Length: 12768, Offset: 36384, Pad: true},
		{Path: []string{"empty"}, Offset: 49152},
		{Path: []string{"c"}, Length: 1, Offset: 49152, Hidden: true},
	}
	if !reflect.DeepEqual(m.Info.Files, want) {
		t.Fatalf("files\n%+v\nwant\n%+v", m.Info.Files, want)
	}
	if m.Info.TotalLength != 49153 || m.Info.ContentLength() != 30001 {
		t.Fatalf("total %d, content %d", m.Info.TotalLength, m.Info.ContentLength())
	}
	if got := m.Info.VisibleFiles(); !reflect.DeepEqual(got, []int{0, 2, 4, 5}) {
		t.Fatalf("visible files %v", got)
	}
	paths, err := m.Info.SafePaths()
	if err != nil {
		t.Fatal(err)
	}
	j := filepath.Join
	if wantPaths := []string{j("set", "a.txt"), "", j("set", "b.bin"), "", j("set", "empty"), j("set", "c")}; !reflect.DeepEqual(paths, wantPaths) {
		t.Fatalf("paths %q, want %q", paths, wantPaths)
	}
	checkSafePaths(t, &m.Info, paths)
	for _, tc := range []struct {
		off, n int64
		pad    bool
	}{
		{10000, 6384, true}, {10001, 10, true}, {9999, 2, false}, {10000, 6385, false},
		{36384, 12768, true}, {36384, 12769, false}, {0, 0, false}, {-1, 1, false},
		{49152, 1, false}, {49153, 1, false}, {48000, 1 << 62, false},
	} {
		if got := m.Info.IsPad(tc.off, tc.n); got != tc.pad {
			t.Errorf("IsPad(%d, %d) = %v", tc.off, tc.n, got)
		}
	}
	// Encoding the parsed Info gives the same bytes: attr written back.
	raw, err := m.Info.Encode()
	if err != nil || string(raw) != string(m.InfoBytes) {
		t.Fatalf("re-encoded info differs (%v):\n%q\n%q", err, raw, m.InfoBytes)
	}
}

func TestAttrVariants(t *testing.T) {
	file := func(fields map[string]any) []byte {
		m := multiInfoMap()
		f := map[string]any{"length": int64(30000), "path": []any{"sub", "a.txt"}}
		for k, v := range fields {
			if v == nil {
				delete(f, k)
			} else {
				f[k] = v
			}
		}
		m["files"].([]any)[0] = f
		return torrentOf(t, m, nil)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want File
	}{
		{"hx", file(map[string]any{"attr": "hx"}), File{Path: []string{"sub", "a.txt"}, Length: 30000, Executable: true, Hidden: true}},
		{"unknown characters ignored", file(map[string]any{"attr": "?z\x00x"}), File{Path: []string{"sub", "a.txt"}, Length: 30000, Executable: true}},
		{"empty attr", file(map[string]any{"attr": ""}), File{Path: []string{"sub", "a.txt"}, Length: 30000}},
		{"bitcomet pad", file(map[string]any{"path": []any{"_____padding_file_0_if you see this"}}),
			File{Path: []string{"_____padding_file_0_if you see this"}, Length: 30000, Pad: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m.Info.Files[0], tc.want) {
				t.Fatalf("file %+v, want %+v", m.Info.Files[0], tc.want)
			}
		})
	}
}

// TestSymlinks: a link (attr "l") takes no bytes of the content and gets
// no path on disk; without a symlink path it is an ordinary empty file.
func TestSymlinks(t *testing.T) {
	info := func(link map[string]any) []byte {
		m := multiInfoMap()
		m["pieces"] = strings.Repeat("p", 20)
		m["files"] = []any{link, map[string]any{"length": int64(10000), "path": []any{"b.txt"}}}
		return torrentOf(t, m, nil)
	}
	m, err := Parse(info(map[string]any{"attr": "l", "length": int64(999), "path": []any{"link"}, "symlink path": []any{"..", "..", "etc", "passwd"}}))
	if err != nil {
		t.Fatal(err)
	}
	f := m.Info.Files[0]
	if f.Length != 0 || !reflect.DeepEqual(f.Symlink, []string{"..", "..", "etc", "passwd"}) || f.OnDisk() {
		t.Fatalf("link %+v", f)
	}
	paths, _ := m.Info.SafePaths()
	if paths[0] != "" || paths[1] != filepath.Join("folder", "b.txt") {
		t.Fatalf("paths %q", paths)
	}
	raw, err := m.Info.Encode()
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseInfo(raw)
	if err != nil || !reflect.DeepEqual(again.Files, m.Info.Files) {
		t.Fatalf("link round trip: %v\n%+v\n%+v", err, again.Files, m.Info.Files)
	}

	// No length at all is fine for a link (BEP 47 lets it be left out).
	if m, err = Parse(info(map[string]any{"attr": "l", "path": []any{"link"}, "symlink path": []any{"b.txt"}})); err != nil || m.Info.Files[0].Symlink == nil {
		t.Fatalf("link without length: %v", err)
	}
	// Without a symlink path the file is no link: an empty file.
	m, err = Parse(info(map[string]any{"attr": "l", "length": int64(5), "path": []any{"link"}}))
	if err != nil {
		t.Fatal(err)
	}
	if f := m.Info.Files[0]; f.Symlink != nil || f.Length != 0 || !f.OnDisk() {
		t.Fatalf("link without target: %+v", f)
	}
	// A pad file is never a link.
	m, err = Parse(info(map[string]any{"attr": "lp", "path": []any{".pad", "0"}, "symlink path": []any{"b.txt"}}))
	if err != nil {
		t.Fatal(err)
	}
	if f := m.Info.Files[0]; f.Symlink != nil || !f.Pad || f.Length != 0 {
		t.Fatalf("pad link: %+v", f)
	}
}

// TestPadHostile: torrents that abuse pad files are refused with one
// readable error, or parsed so that pad files can do no harm.
func TestPadHostile(t *testing.T) {
	with := func(f func(m map[string]any)) []byte {
		m := padInfoMap()
		f(m)
		return torrentOf(t, m, nil)
	}
	files := func(fs ...any) func(m map[string]any) {
		return func(m map[string]any) { m["files"] = fs }
	}
	pad := func(n int64, path ...any) map[string]any {
		return map[string]any{"attr": "p", "length": n, "path": path}
	}
	for _, tc := range []struct {
		name, want string
		data       []byte
	}{
		{"only file a pad file (single-file)", "only file is a pad file", torrentOf(t, map[string]any{
			"name": "x", "piece length": int64(16384), "pieces": strings.Repeat("p", 20), "length": int64(5), "attr": "p"}, nil)},
		{"only file a link (single-file)", "only file is a symbolic link", torrentOf(t, map[string]any{
			"name": "x", "piece length": int64(16384), "pieces": strings.Repeat("p", 20), "length": int64(5), "attr": "l"}, nil)},
		{"only pad files", "no content besides pad files", with(func(m map[string]any) {
			m["pieces"] = strings.Repeat("p", 20)
			files(pad(100, ".pad", "100"), pad(16000, ".pad", "16000"))(m)
		})},
		{"pad files and empty files", "no content besides pad files", with(func(m map[string]any) {
			m["pieces"] = strings.Repeat("p", 20)
			files(map[string]any{"length": int64(0), "path": []any{"e"}}, pad(100, ".pad", "100"))(m)
		})},
		{"pad length negative", "length -1 is negative", with(files(pad(-1, ".pad", "x"), map[string]any{"length": int64(1), "path": []any{"a"}}))},
		{"pad over 2^53", "is over 9007199254740992 bytes", with(files(pad(1<<60, ".pad", "x"), map[string]any{"length": int64(1), "path": []any{"a"}}))},
		{"pads add up over 2^53", "total length is over", with(files(pad(1<<52, ".pad", "x"), pad(1<<52, ".pad", "y"), map[string]any{"length": int64(1), "path": []any{"a"}}))},
		{"pad without path", "has no path", with(files(map[string]any{"attr": "p", "length": int64(1)}, map[string]any{"length": int64(1), "path": []any{"a"}}))},
		{"attr not a string", "attr is an integer", with(files(map[string]any{"attr": int64(1), "length": int64(1), "path": []any{"a"}}))},
		{"single-file attr not a string", "info attr is a list", torrentOf(t, map[string]any{
			"name": "x", "piece length": int64(16384), "pieces": strings.Repeat("p", 20), "length": int64(5), "attr": []any{}}, nil)},
		{"symlink path not strings", "symlink path[0] is an integer", with(files(
			map[string]any{"attr": "l", "path": []any{"l"}, "symlink path": []any{int64(1)}}, map[string]any{"length": int64(1), "path": []any{"a"}}))},
		{"pieces counted without the pad", "1 piece hashes for 16385 bytes", with(func(m map[string]any) {
			m["pieces"] = strings.Repeat("p", 20)
			files(map[string]any{"length": int64(1), "path": []any{"a"}}, pad(16384, ".pad", "16384"))(m)
		})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse(tc.data)
			if err == nil {
				t.Fatalf("parsed %+v", m.Info.Files)
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want ErrInvalid saying %q", err, tc.want)
			}
		})
	}

	// Pad files whose paths escape, clash with a real file or name a
	// device take no path at all, and the real files keep their names.
	m, err := Parse(with(func(m map[string]any) {
		m["pieces"] = strings.Repeat("p", 40)
		files(
			map[string]any{"length": int64(1), "path": []any{"a.txt"}},
			pad(16383, "..", "..", "etc", "passwd"),
			map[string]any{"length": int64(1), "path": []any{"b"}},
			pad(0, "a.txt"),
			pad(0, "/abs"),
			pad(0, "CON"),
			pad(0, "b", "under-a-file"),
		)(m)
	}))
	if err != nil {
		t.Fatal(err)
	}
	paths, err := m.Info.SafePaths()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{filepath.Join("set", "a.txt"), "", filepath.Join("set", "b"), "", "", "", ""}; !reflect.DeepEqual(paths, want) {
		t.Fatalf("paths %q, want %q", paths, want)
	}
	checkSafePaths(t, &m.Info, paths)

	// A huge pad file (1 TiB of zeros between two bytes) is only numbers:
	// nothing is allocated for it.
	const pl = 16 << 20
	huge := int64(1 << 40)
	n := (1 + huge + 1 + pl - 1) / pl
	m, err = Parse(with(func(m map[string]any) {
		m["piece length"] = int64(pl)
		m["pieces"] = strings.Repeat("p", int(20*n))
		files(map[string]any{"length": int64(1), "path": []any{"a"}}, pad(huge, ".pad", "huge"),
			map[string]any{"length": int64(1), "path": []any{"b"}})(m)
	}))
	if err != nil {
		t.Fatal(err)
	}
	if m.Info.ContentLength() != 2 || m.Info.NumPieces() != int(n) || !m.Info.IsPad(pl, huge-pl) {
		t.Fatalf("huge pad: content %d, %d pieces", m.Info.ContentLength(), m.Info.NumPieces())
	}
}

// TestEncodeAttrs builds Infos carrying BEP 47 attributes: the keys are
// written sorted, in the form libtorrent writes them, and parse back.
func TestEncodeAttrs(t *testing.T) {
	pieces := strings.Repeat("h", 40)
	multi := &Info{Name: "d", PieceLength: 16384, Pieces: []byte(pieces), MultiFile: true, Files: []File{
		{Path: []string{"x"}, Length: 100, Executable: true},
		{Path: []string{".pad", "16284"}, Length: 16284, Pad: true},
		{Path: []string{"l"}, Symlink: []string{"x"}, Hidden: true},
		{Path: []string{"z"}, Length: 1},
	}}
	want := "d5:filesl" +
		"d4:attr1:x6:lengthi100e4:pathl1:xee" +
		"d4:attr1:p6:lengthi16284e4:pathl4:.pad5:16284ee" +
		"d4:attr2:hl6:lengthi0e4:pathl1:le12:symlink pathl1:xee" +
		"d6:lengthi1e4:pathl1:zee" +
		"e4:name1:d12:piece lengthi16384e6:pieces40:" + pieces + "e"
	b, err := multi.Encode()
	if err != nil || string(b) != want {
		t.Fatalf("encode %q, %v\nwant   %q", b, err, want)
	}
	m, err := New(multi)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range m.Info.Files {
		g := multi.Files[i]
		if f.Pad != g.Pad || f.Executable != g.Executable || f.Hidden != g.Hidden || !reflect.DeepEqual(f.Symlink, g.Symlink) {
			t.Fatalf("file %d: %+v, built %+v", i, f, g)
		}
	}
	single := &Info{Name: "s", PieceLength: 16384, Pieces: []byte(pieces[:20]), Files: []File{{Path: []string{"s"}, Length: 5, Executable: true}}}
	b, err = single.Encode()
	if err != nil || !strings.HasPrefix(string(b), "d4:attr1:x6:lengthi5e") {
		t.Fatalf("single-file encode %q, %v", b, err)
	}
	if m, err := New(single); err != nil || !m.Info.Files[0].Executable {
		t.Fatalf("single-file attr lost: %v", err)
	}
	var back map[string]any
	if err := bencode.Unmarshal(b, &back); err != nil || back["attr"] != "x" {
		t.Fatalf("decoded %v, %v", back, err)
	}
}
