package engine

import (
	"bytes"
	"crypto/sha1"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// tfile is a file of a hand-made torrent: its path under "pub" and bytes
// (pad: that many zeros of a pad file).
type tfile struct {
	path string
	data []byte
	pad  int
}

// mkInfo builds the info of a multi-file torrent "pub" of files.
func mkInfo(pl int64, files ...tfile) *metainfo.Info {
	info := &metainfo.Info{Name: "pub", MultiFile: true, PieceLength: pl}
	var all []byte
	for _, f := range files {
		mf := metainfo.File{Path: strings.Split(f.path, "/"), Length: int64(len(f.data)), Offset: int64(len(all))}
		if f.pad > 0 {
			mf = metainfo.File{Path: []string{".pad", "x"}, Length: int64(f.pad), Offset: int64(len(all)), Pad: true}
			all = append(all, make([]byte, f.pad)...)
		} else {
			all = append(all, f.data...)
		}
		info.Files = append(info.Files, mf)
	}
	info.TotalLength = int64(len(all))
	for off := 0; off < len(all); off += int(pl) {
		h := sha1.Sum(all[off:min(off+int(pl), len(all))])
		info.Pieces = append(info.Pieces, h[:]...)
	}
	return info
}

func fill(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }

// TestSafePieces: the pieces of an old version that a new one, written
// in the same folder, leaves intact.
func TestSafePieces(t *testing.T) {
	a, b, b2, c := fill(12, 'a'), fill(6, 'b'), fill(6, 'B'), fill(5, 'c')
	aNew := append(fill(11, 'a'), 'A') // its last piece changed
	dir := t.TempDir()
	for _, tc := range []struct {
		name     string
		old, cur *metainfo.Info
		curDir   string
		want     string // one letter per piece: s safe, - not
	}{
		{"pad aligned, one file changed", mkInfo(4, tfile{path: "a", data: a}, tfile{path: "b", data: b}, tfile{pad: 2}, tfile{path: "c", data: c}),
			mkInfo(4, tfile{path: "a", data: a}, tfile{path: "b", data: b2}, tfile{pad: 2}, tfile{path: "c", data: c}), dir, "sss--ss"},
		{"changed piece of a kept file", mkInfo(4, tfile{path: "a", data: a}), mkInfo(4, tfile{path: "a", data: aNew}), dir, "ss-"},
		// Without pads, a piece spanning a kept file and a changed one is
		// not safe: its hash differs.
		{"no pads", mkInfo(4, tfile{path: "a", data: fill(6, 'a')}, tfile{path: "b", data: b}),
			mkInfo(4, tfile{path: "a", data: fill(6, 'a')}, tfile{path: "b", data: b2}), dir, "s--"},
		{"dropped file", mkInfo(4, tfile{path: "a", data: a}, tfile{path: "d", data: b}),
			mkInfo(4, tfile{path: "a", data: aNew}), dir, "ss-ss"},
		{"dropped, same name in another case", mkInfo(4, tfile{path: "d", data: b}),
			mkInfo(4, tfile{path: "D", data: b}), dir, "--"},
		{"dropped, a folder now", mkInfo(4, tfile{path: "d", data: b}),
			mkInfo(4, tfile{path: "d/x", data: b}), dir, "--"},
		{"dropped, a file now where its folder was", mkInfo(4, tfile{path: "d/x", data: b}),
			mkInfo(4, tfile{path: "d", data: b}), dir, "--"},
		{"another length", mkInfo(4, tfile{path: "a", data: a}), mkInfo(4, tfile{path: "a", data: append(a, 'a')}), dir, "---"},
		{"another piece length", mkInfo(4, tfile{path: "a", data: a}), mkInfo(2, tfile{path: "a", data: a}), dir, "---"},
		{"moved a piece on", mkInfo(4, tfile{path: "b", data: fill(4, 'b')}, tfile{path: "c", data: c}),
			mkInfo(4, tfile{path: "a", data: fill(4, 'x')}, tfile{path: "b", data: fill(4, 'b')}, tfile{path: "c", data: c}), dir, "sss"},
		{"another folder", mkInfo(4, tfile{path: "a", data: a}), mkInfo(4, tfile{path: "a", data: aNew}), filepath.Join(dir, "other"), "sss"},
	} {
		got := safePieces(dir, tc.old, tc.curDir, tc.cur)
		var s strings.Builder
		for i := range got.Len() {
			if got.Has(i) {
				s.WriteByte('s')
			} else {
				s.WriteByte('-')
			}
		}
		if s.String() != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, s.String(), tc.want)
		}
	}
}
