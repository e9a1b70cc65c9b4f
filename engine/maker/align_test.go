package maker

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

func TestAlignFiles(t *testing.T) {
	f := func(path string, n int64) PlanFile {
		return PlanFile{Path: strings.Split(path, "/"), Length: n, Source: "/src/" + path}
	}
	pad := func(n int64) PlanFile { return PlanFile{Path: []string{".pad", fmt.Sprint(n)}, Length: n, Pad: true} }
	for _, tc := range []struct {
		name     string
		in, want []PlanFile
	}{
		{"one file: no pad", []PlanFile{f("a", 5)}, []PlanFile{f("a", 5)}},
		{"pad after every unaligned file, the last too",
			[]PlanFile{f("b", 20), f("a", 10), f("c", 16)},
			[]PlanFile{f("a", 10), pad(6), f("b", 20), pad(12), f("c", 16)}},
		{"last file padded", []PlanFile{f("a", 16), f("b", 1)}, []PlanFile{f("a", 16), f("b", 1), pad(15)}},
		{"no pad after an empty file", []PlanFile{f("a", 0), f("b", 3)}, []PlanFile{f("a", 0), f("b", 3), pad(13)}},
		{"empty file after a pad", []PlanFile{f("a", 1), f("b", 0), f("c", 1)},
			[]PlanFile{f("a", 1), pad(15), f("b", 0), f("c", 1), pad(15)}},
		// Component by component, as libtorrent sorts: a/... before a-b,
		// a.txt; byte-wise on the joined path it would come after them.
		{"component order", []PlanFile{f("a.txt", 16), f("a-b/y", 16), f("a/deep/x", 16), f("a b", 16), f("B", 16)},
			[]PlanFile{f("B", 16), f("a/deep/x", 16), f("a b", 16), f("a-b/y", 16), f("a.txt", 16)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]PlanFile(nil), tc.in...)
			got := alignFiles(tc.in, 16)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %v\nwant %v", got, tc.want)
			}
			if !reflect.DeepEqual(tc.in, in) {
				t.Fatal("alignFiles changed its input")
			}
		})
	}
}

// alignedContent writes a folder whose files cross, meet and miss piece
// boundaries of pl, with an empty file, an executable one and names
// that sort differently byte-wise and component-wise.
func alignedContent(t *testing.T, dir string, pl int64) string {
	t.Helper()
	folder := filepath.Join(dir, "album")
	writeFile(t, filepath.Join(folder, "b.txt"), 5000, 4)
	writeFile(t, filepath.Join(folder, "a", "deep", "x.bin"), 70_000, 5)
	writeFile(t, filepath.Join(folder, "a-b", "y.bin"), 3, 6)
	writeFile(t, filepath.Join(folder, "A.txt"), 40_000, 7)
	writeFile(t, filepath.Join(folder, "empty"), 0, 8)
	writeFile(t, filepath.Join(folder, "a", "z.bin"), pl, 9)
	writeFile(t, filepath.Join(folder, "run.sh"), 100, 10)
	if err := os.Chmod(filepath.Join(folder, "run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	return folder
}

// TestSameInfoHashAsLibtorrent: by default we make, for the same files
// and piece length, exactly the torrent libtorrent 2.0 makes with pad
// files (create_torrent's canonical_files flag; qBittorrent's hybrid
// torrents have the same layout): same order, pad files, attributes and
// pieces, hence the same info hash.
func TestSameInfoHashAsLibtorrent(t *testing.T) {
	const pl = 32 << 10
	root := t.TempDir()
	folder := alignedContent(t, root, pl)
	single := filepath.Join(root, "single.bin")
	writeFile(t, single, 100_000, 1)
	lone := filepath.Join(root, "lone")
	writeFile(t, filepath.Join(lone, "only.bin"), 50_000, 2)
	for _, path := range []string{folder, single, lone} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			res, err := Make(context.Background(), Options{Paths: []string{path}, PieceLength: pl})
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "lt.torrent")
			want := strings.TrimSpace(testpeers.LT(t, "create", path, out, "--pad", "--piece-length", fmt.Sprint(pl)))
			if res.MetaInfo.InfoHash.String() != want {
				data, _ := os.ReadFile(out)
				lt, _ := metainfo.Parse(data)
				t.Fatalf("info hash %v, libtorrent's %s\nours %+v\nlibtorrent's %+v", res.MetaInfo.InfoHash, want, res.MetaInfo.Info.Files, lt.Info.Files)
			}
			if len(res.Sources) != len(res.MetaInfo.Info.Files) {
				t.Fatalf("%d sources for %d files", len(res.Sources), len(res.MetaInfo.Info.Files))
			}
			for i, f := range res.MetaInfo.Info.Files {
				want := filepath.Join(filepath.Dir(path), res.MetaInfo.Info.Name, filepath.Join(f.Path...))
				if !res.MetaInfo.Info.MultiFile {
					want = path
				}
				if f.Pad {
					want = res.Sources[i-1]
				}
				if res.Sources[i] != want {
					t.Fatalf("file %q (pad %v) has the source %q, want %q", f.Path, f.Pad, res.Sources[i], want)
				}
			}
		})
	}
	// The folder's torrent does hold pad files and the "x" attribute, so
	// the comparison above covered them.
	res, err := Make(context.Background(), Options{Paths: []string{folder}, PieceLength: pl})
	if err != nil {
		t.Fatal(err)
	}
	pads, execs := 0, 0
	for _, f := range res.MetaInfo.Info.Files {
		if f.Pad {
			pads++
			if f.Offset%pl == 0 || (f.Offset+f.Length)%pl != 0 {
				t.Fatalf("pad file at %d, %d bytes: not up to a piece boundary", f.Offset, f.Length)
			}
		} else if f.Length > 0 && f.Offset%pl != 0 {
			t.Fatalf("file %q starts at %d, inside a piece", f.Path, f.Offset)
		}
		if f.Executable {
			execs++
		}
	}
	if pads != 5 || execs != 1 {
		t.Fatalf("%d pad files and %d executables, want 5 and 1", pads, execs)
	}
}

// pieceHashesByFile returns, per file path, the hashes of the pieces that
// hold its bytes.
func pieceHashesByFile(info *metainfo.Info) map[string][]metainfo.Hash {
	out := map[string][]metainfo.Hash{}
	for _, f := range info.Files {
		if f.Pad || f.Length == 0 {
			continue
		}
		var hs []metainfo.Hash
		for p := f.Offset / info.PieceLength; p <= (f.Offset+f.Length-1)/info.PieceLength; p++ {
			hs = append(hs, info.PieceHash(int(p)))
		}
		out[strings.Join(f.Path, "/")] = hs
	}
	return out
}

// TestAlignedPiecesFollowTheirFile: a file that grows, a new file and a
// removed one change no piece of the other files, which a follower can
// then verify where they are. Without pad files most of them change.
func TestAlignedPiecesFollowTheirFile(t *testing.T) {
	const pl = 16 << 10
	folder := alignedContent(t, t.TempDir(), pl)
	make1 := func(unaligned bool) map[string][]metainfo.Hash {
		res, err := Make(context.Background(), Options{Paths: []string{folder}, PieceLength: pl, Unaligned: unaligned})
		if err != nil {
			t.Fatal(err)
		}
		return pieceHashesByFile(&res.MetaInfo.Info)
	}
	before, beforeFlat := make1(false), make1(true)
	writeFile(t, filepath.Join(folder, "A.txt"), 41_234, 70) // changed
	writeFile(t, filepath.Join(folder, "a", "new.bin"), 9_999, 71)
	if err := os.Remove(filepath.Join(folder, "b.txt")); err != nil {
		t.Fatal(err)
	}
	after, afterFlat := make1(false), make1(true)
	kept, keptFlat := 0, 0
	for path, hs := range before {
		if path == "A.txt" || path == "b.txt" {
			continue
		}
		if !reflect.DeepEqual(after[path], hs) {
			t.Fatalf("%s: its pieces changed although the file did not", path)
		}
		kept++
		if reflect.DeepEqual(afterFlat[path], beforeFlat[path]) {
			keptFlat++
		}
	}
	if kept != 4 {
		t.Fatalf("%d unchanged files compared, want 4", kept)
	}
	if keptFlat == kept {
		t.Fatal("without pad files no piece moved either: the test proves nothing")
	}
}

// TestProgressCountsContent: progress counts the files' bytes, not the
// pad files', so it ends at the size the user was shown.
func TestProgressCountsContent(t *testing.T) {
	const pl = 16 << 10
	folder := alignedContent(t, t.TempDir(), pl)
	plan, err := Scan([]string{folder}, "")
	if err != nil {
		t.Fatal(err)
	}
	var last Progress
	res, err := MakePlan(context.Background(), plan, Options{PieceLength: pl, Progress: func(p Progress) { last = p }})
	if err != nil {
		t.Fatal(err)
	}
	if countPad := res.MetaInfo.Info.TotalLength - res.MetaInfo.Info.ContentLength(); countPad == 0 {
		t.Fatal("no pad bytes: the test proves nothing")
	}
	if last.Total != plan.Total || last.Hashed != plan.Total || plan.Total != res.MetaInfo.Info.ContentLength() {
		t.Fatalf("last progress %+v, plan total %d, content %d", last, plan.Total, res.MetaInfo.Info.ContentLength())
	}
}
