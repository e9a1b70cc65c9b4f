package maker

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

func writeFile(t *testing.T, path string, size int64, seed uint64) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	testpeers.RandomFile(t, path, size, seed)
}

// mktorrentHash makes a torrent of path with mktorrent and returns its
// info hash as parsed by us.
func mktorrentHash(t *testing.T, path string, pieceLog int) metainfo.Hash {
	t.Helper()
	_, data := testpeers.Mktorrent(t, path, pieceLog)
	mi, err := metainfo.Parse(data)
	if err != nil {
		t.Fatalf("parsing mktorrent's output: %v", err)
	}
	return mi.InfoHash
}

func TestSameInfoHashAsMktorrent(t *testing.T) {
	const pl = 32 << 10
	root := t.TempDir()
	single := filepath.Join(root, "single.bin")
	writeFile(t, single, 100_000, 1)
	exact := filepath.Join(root, "exact.bin")
	writeFile(t, exact, 4*pl, 2)
	past := filepath.Join(root, "past.bin")
	writeFile(t, past, 4*pl+1, 3)
	folder := filepath.Join(root, "album")
	writeFile(t, filepath.Join(folder, "b.txt"), 5000, 4)
	writeFile(t, filepath.Join(folder, "a", "deep", "x.bin"), 70_000, 5)
	writeFile(t, filepath.Join(folder, "a-b", "y.bin"), 3, 6)
	writeFile(t, filepath.Join(folder, "A.txt"), 40_000, 7)
	writeFile(t, filepath.Join(folder, "empty"), 0, 8)
	writeFile(t, filepath.Join(folder, "a", "z.bin"), pl, 9)
	if err := os.MkdirAll(filepath.Join(folder, "empty-folder"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{single, exact, past, folder} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			res, err := Make(context.Background(), Options{Paths: []string{path}, PieceLength: pl, Unaligned: true})
			if err != nil {
				t.Fatal(err)
			}
			want := mktorrentHash(t, path, 15)
			if res.MetaInfo.InfoHash != want {
				t.Fatalf("info hash %v, mktorrent's %v", res.MetaInfo.InfoHash, want)
			}
			if len(res.Sources) != len(res.MetaInfo.Info.Files) {
				t.Fatalf("%d sources for %d files", len(res.Sources), len(res.MetaInfo.Info.Files))
			}
		})
	}
}

func TestLibtorrentReadsOurTorrent(t *testing.T) {
	dir := t.TempDir()
	folder := filepath.Join(dir, "share")
	writeFile(t, filepath.Join(folder, "one.bin"), 300_000, 1)
	writeFile(t, filepath.Join(folder, "sub", "two.bin"), 12345, 2)
	nodes, err := metainfo.ParseNodes("router.example.org:6881, 127.0.0.1:7000")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Make(context.Background(), Options{Paths: []string{folder}, Nodes: nodes, CreatedBy: "Swarmdrop test", CreationDate: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	data, err := res.MetaInfo.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("8:announce")) {
		t.Fatal("a trackerless torrent has an announce key")
	}
	path := filepath.Join(dir, "share.torrent")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out := testpeers.LT(t, "info", path)
	for _, want := range []string{
		"infohash " + res.MetaInfo.InfoHash.String(),
		"nodes router.example.org:6881,127.0.0.1:7000",
		"file 300000 share/one.bin",
		"file 12345 share/sub/two.bin",
		"private 0",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Fatalf("libtorrent's view lacks %q:\n%s", want, out)
		}
	}
}

func TestCancel(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.bin")
	writeFile(t, big, 64<<20, 1)
	ctx, cancel := context.WithCancel(context.Background())
	var calls int
	start := time.Now()
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	_, err := Make(ctx, Options{Paths: []string{big}, PieceLength: 16 << 10, Workers: 1, Progress: func(Progress) { calls++ }})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want cancelled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("cancel took %v", d)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("cancelled make left files: %v", entries)
	}
}

func TestScanRules(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "p", "x.bin"), 10, 1)
	writeFile(t, filepath.Join(dir, "p", "y.bin"), 20, 2)
	writeFile(t, filepath.Join(dir, "q", "z.bin"), 30, 3)
	// A link to a file is followed; a link back to a parent is not a loop.
	if err := os.Symlink(filepath.Join(dir, "q", "z.bin"), filepath.Join(dir, "p", "link.bin")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(dir, filepath.Join(dir, "p", "loop")); err != nil {
		t.Fatal(err)
	}
	plan, err := Scan([]string{filepath.Join(dir, "p")}, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range plan.Files {
		got = append(got, strings.Join(f.Path, "/"))
	}
	// The loop link leads into dir, whose p is being walked: p's files
	// appear once more under loop/ only for q, never endlessly.
	want := "link.bin loop/q/z.bin x.bin y.bin"
	if strings.Join(got, " ") != want {
		t.Fatalf("files %q, want %q", got, want)
	}
	// Several paths: named after the common parent.
	plan, err = Scan([]string{filepath.Join(dir, "p", "x.bin"), filepath.Join(dir, "q")}, "")
	if err != nil {
		t.Fatal(err)
	}
	if plan.Name != filepath.Base(dir) || len(plan.Files) != 2 || plan.Total != 40 {
		t.Fatalf("plan %+v", plan)
	}
	if _, err := Scan([]string{filepath.Join(dir, "missing")}, ""); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("missing path: %v", err)
	}
	if os.Geteuid() != 0 {
		locked := filepath.Join(dir, "q", "locked.bin")
		writeFile(t, locked, 5, 9)
		os.Chmod(locked, 0)
		if _, err := Scan([]string{filepath.Join(dir, "q")}, ""); err == nil || !strings.Contains(err.Error(), "locked.bin") {
			t.Fatalf("unreadable file: %v", err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "hollow", "deeper"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Scan([]string{filepath.Join(dir, "hollow")}, ""); err == nil {
		t.Fatal("a folder of empty folders made a torrent")
	}
}

func TestPieceLength(t *testing.T) {
	for _, c := range []struct{ total, want int64 }{
		{0, 16 << 10}, {1 << 20, 16 << 10}, {1 << 30, 1 << 20}, {4 << 30, 4 << 20}, {1 << 40, 16 << 20},
	} {
		if got := AutoPieceLength(c.total); got != c.want {
			t.Errorf("AutoPieceLength(%d) = %d, want %d", c.total, got, c.want)
		}
	}
	for _, bad := range []int64{0, 1000, 8 << 10, 48 << 10, 32 << 20} {
		if ValidPieceLength(bad) == nil {
			t.Errorf("piece length %d accepted", bad)
		}
	}
}

// TestFileCutWhileHashing: a big (mapped) file truncated under the hasher
// gives an error naming it, never a crash.
func TestFileCutWhileHashing(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.bin")
	writeFile(t, big, 256<<20, 1)
	plan, err := Scan([]string{big}, "")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(15 * time.Millisecond)
		os.Truncate(big, 4096)
	}()
	_, err = MakePlan(context.Background(), plan, Options{PieceLength: 16 << 10, Workers: 1})
	if err == nil {
		t.Fatal("hashing 256 MiB on one core finished within 15 ms: the test proves nothing")
	}
	if !strings.Contains(err.Error(), "big.bin changed while hashing") {
		t.Fatalf("error %q does not name the changed file", err)
	}
}
