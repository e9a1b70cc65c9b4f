package storage

import (
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// TestWriteReadAcrossFiles writes pieces that straddle several files
// (including zero-length ones) in random order and reads them back, both
// through ReadAt and from the files on disk.
func TestWriteReadAcrossFiles(t *testing.T) {
	fx := newFixture(t, "multi", []int64{5, 0, 13, 0, 0, 7, 1, 40, 0}, 4, 1)
	dir := t.TempDir()
	st := fx.open(t, dir)
	for i, rel := range fx.paths(t) {
		fi, err := os.Stat(filepath.Join(dir, rel))
		if err != nil {
			t.Fatalf("file %d not created at open: %v", i, err)
		}
		if fi.Size() != fx.info.Files[i].Length {
			t.Fatalf("file %d is %d bytes, want %d", i, fi.Size(), fx.info.Files[i].Length)
		}
	}
	order := rand.New(rand.NewPCG(2, 2)).Perm(fx.info.NumPieces())
	for _, i := range order {
		if err := st.WritePiece(i, fx.piece(i), nil); err != nil {
			t.Fatal(err)
		}
	}
	all := make([]byte, fx.info.TotalLength)
	if n, err := st.ReadAt(all, 0); err != nil || n != len(all) {
		t.Fatalf("ReadAt all: %d, %v", n, err)
	}
	sameBytes(t, "whole torrent", all, fx.content)
	r := rand.New(rand.NewPCG(3, 3))
	for range 200 {
		off := r.Int64N(fx.info.TotalLength)
		n := r.Int64N(fx.info.TotalLength - off + 1)
		b := make([]byte, n)
		if m, err := st.ReadAt(b, off); err != nil || int64(m) != n {
			t.Fatalf("ReadAt(%d bytes at %d): %d, %v", n, off, m, err)
		}
		sameBytes(t, "range", b, fx.content[off:off+n])
	}
	for i := range fx.info.NumPieces() {
		h, err := st.HashPiece(i)
		if err != nil || h != fx.info.PieceHash(i) {
			t.Fatalf("HashPiece(%d) = %x, %v", i, h, err)
		}
	}
	// Past the end: io.EOF with what there was.
	b := make([]byte, 10)
	if n, err := st.ReadAt(b, fx.info.TotalLength-3); n != 3 || err != io.EOF {
		t.Fatalf("ReadAt across the end: %d, %v", n, err)
	}
	if _, err := st.ReadAt(b, fx.info.TotalLength); err != io.EOF {
		t.Fatalf("ReadAt at the end: %v", err)
	}
	if _, err := st.ReadAt(b, -1); err == nil {
		t.Fatal("ReadAt at -1 succeeded")
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	for i, rel := range fx.paths(t) {
		got, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		sameBytes(t, rel, got, fx.fileContent(i))
	}
	if err := st.WritePiece(0, fx.piece(0), nil); err == nil {
		t.Fatal("WritePiece after Close succeeded")
	}
	if _, err := st.ReadAt(b, 0); err == nil {
		t.Fatal("ReadAt after Close succeeded")
	}
}

// TestWritePieceChecks: wrong indexes and lengths are refused.
func TestWritePieceChecks(t *testing.T) {
	fx := newFixture(t, "c", []int64{10}, 4, 1)
	st := fx.open(t, t.TempDir())
	for _, c := range []struct {
		index int
		data  []byte
	}{{-1, make([]byte, 4)}, {3, make([]byte, 4)}, {0, make([]byte, 3)}, {2, make([]byte, 4)}} {
		if err := st.WritePiece(c.index, c.data, nil); err == nil {
			t.Errorf("WritePiece(%d, %d bytes) succeeded", c.index, len(c.data))
		}
	}
	if err := st.WritePiece(2, fx.piece(2), nil); err != nil {
		t.Fatalf("last short piece: %v", err)
	}
	if _, err := st.HashPiece(3); err == nil {
		t.Fatal("HashPiece(3) of 3 pieces succeeded")
	}
}

// TestLayoutChecks: an Info whose files and pieces do not add up is refused.
func TestLayoutChecks(t *testing.T) {
	good := func() *metainfo.Info { return newFixture(t, "l", []int64{3, 5}, 4, 1).info }
	cases := map[string]func(i *metainfo.Info){
		"offset":       func(i *metainfo.Info) { i.Files[1].Offset = 2 },
		"negative":     func(i *metainfo.Info) { i.Files[0].Length = -3; i.Files[1].Offset = -3; i.TotalLength = 2 },
		"total":        func(i *metainfo.Info) { i.TotalLength = 9 },
		"pieces":       func(i *metainfo.Info) { i.Pieces = i.Pieces[:20] },
		"hash bytes":   func(i *metainfo.Info) { i.Pieces = i.Pieces[:39] },
		"piece length": func(i *metainfo.Info) { i.PieceLength = 0 },
	}
	for name, mod := range cases {
		info := good()
		mod(info)
		if _, err := openPaths(t.TempDir(), info, []string{"a", "b"}, nil); err == nil {
			t.Errorf("%s: openPaths accepted it", name)
		}
		if _, err := OpenFiles([]string{"/a", "/b"}, info); err == nil {
			t.Errorf("%s: OpenFiles accepted it", name)
		}
	}
	if _, err := OpenFiles([]string{"/a"}, good()); err == nil {
		t.Error("OpenFiles accepted 1 path for 2 files")
	}
	if _, err := openPaths(t.TempDir(), good(), []string{"a", "../b"}, nil); err == nil {
		t.Error("openPaths accepted a path leaving the folder")
	}
	if _, err := Open(t.TempDir(), nil); err == nil {
		t.Error("Open accepted a nil info")
	}
	st, err := openPaths(t.TempDir(), good(), []string{"a", "b"}, nil)
	if err != nil {
		t.Fatalf("good layout refused: %v", err)
	}
	st.Close()
}

// TestOpenKeepsExistingData: opening again neither truncates nor rewrites
// files already there, so their stamps stay.
func TestOpenKeepsExistingData(t *testing.T) {
	fx := newFixture(t, "keep", []int64{100, 0, 50}, 16, 4)
	dir := t.TempDir()
	st := fx.open(t, dir)
	fx.writeAll(t, st, nil)
	st.Close()
	before := st.Stamps()
	st2 := fx.open(t, dir)
	if after := st2.Stamps(); !slices.Equal(before, after) {
		t.Fatalf("stamps changed by Open: %v -> %v", before, after)
	}
	b := make([]byte, fx.info.TotalLength)
	if _, err := st2.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	sameBytes(t, "reopened", b, fx.content)
}

// TestOpenFilesSeedsInPlace reads the user's files where they are, lets
// WritePiece repair them, and Remove leaves them alone.
func TestOpenFilesSeedsInPlace(t *testing.T) {
	fx := newFixture(t, "src", []int64{30, 0, 21}, 8, 5)
	srcDir := t.TempDir()
	paths := fx.writeSources(t, srcDir)
	st, err := OpenFiles(paths, fx.info)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b := make([]byte, fx.info.TotalLength)
	if _, err := st.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	sameBytes(t, "in place", b, fx.content)
	// Damage piece 3 (in file 0 and file 2), then repair it.
	if err := os.WriteFile(paths[2], make([]byte, 21), 0o644); err != nil {
		t.Fatal(err)
	}
	if h, _ := st.HashPiece(3); h == fx.info.PieceHash(3) {
		t.Fatal("damage not seen")
	}
	if err := st.WritePiece(3, fx.piece(3), nil); err != nil {
		t.Fatal(err)
	}
	if h, _ := st.HashPiece(3); h != fx.info.PieceHash(3) {
		t.Fatal("piece 3 not repaired")
	}
	if err := st.Remove(); err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("Remove of a seeding-in-place torrent deleted %s: %v", p, err)
		}
	}
}

// TestMissingAndShortFiles: reading a region of a missing or short file
// is an error, not a panic, and Verify just leaves those pieces out.
func TestMissingAndShortFiles(t *testing.T) {
	fx := newFixture(t, "gaps", []int64{16, 16, 16, 16}, 8, 6)
	paths := fx.writeSources(t, t.TempDir())
	if err := os.Remove(paths[1]); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(paths[3], 12); err != nil {
		t.Fatal(err)
	}
	st, err := OpenFiles(paths, fx.info)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b := make([]byte, 8)
	if _, err := st.ReadAt(b, 16); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("reading a missing file: %v", err)
	}
	if n, err := st.ReadAt(b, 56); !errors.Is(err, io.ErrUnexpectedEOF) || n != 4 {
		t.Fatalf("reading past a short file: %d, %v", n, err)
	}
	have, err := st.Verify(t.Context(), 2, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := pieceList(have), []int{0, 1, 4, 5, 6}; !slices.Equal(got, want) {
		t.Fatalf("Verify = %v, want %v", got, want)
	}
	stamps := st.Stamps()
	if stamps[1].Size != -1 || stamps[3].Size != 12 || stamps[0].Size != 16 {
		t.Fatalf("stamps %v", stamps)
	}
}

// TestRemove deletes the torrent's files and the folders left empty, and
// nothing else in the download folder.
func TestRemove(t *testing.T) {
	fx := newFixture(t, "gone", []int64{10, 0, 10, 5}, 4, 7)
	dir := t.TempDir()
	st := fx.open(t, dir)
	fx.writeAll(t, st, nil)
	other := filepath.Join(dir, "gone", "d1", "mine.txt")
	if err := os.WriteFile(other, []byte("user"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := st.Remove(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close after Remove: %v", err)
	}
	for _, rel := range fx.paths(t) {
		if _, err := os.Lstat(filepath.Join(dir, rel)); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%s still there: %v", rel, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "gone", "d0")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("empty folder d0 kept: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("a file not of the torrent was removed: %v", err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("download folder removed: %v", err)
	}
}

// TestFileCutWhileWriting: a file truncated behind our back (by another
// program) makes the write an error, not a crash, and the torrent goes on
// working for its other files.
func TestFileCutWhileWriting(t *testing.T) {
	fx := newFixture(t, "cut", []int64{64 << 10, 64 << 10}, 16<<10, 5)
	dir := t.TempDir()
	st := fx.open(t, dir)
	p0 := filepath.Join(dir, fx.paths(t)[0])
	if err := st.WritePiece(0, fx.piece(0), nil); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p0, 0); err != nil {
		t.Fatal(err)
	}
	err := st.WritePiece(2, fx.piece(2), nil)
	t.Logf("write into the cut file: %v", err)
	if err == nil {
		// Written past the end through the file system: then the data
		// must at least read back.
		b := make([]byte, 16<<10)
		if _, err := st.ReadAt(b, 2*16<<10); err != nil {
			t.Fatalf("write succeeded but reading it back fails: %v", err)
		}
	}
	if err := st.WritePiece(5, fx.piece(5), nil); err != nil {
		t.Fatalf("the other file is no longer writable: %v", err)
	}
	h, err := st.HashPiece(5)
	if err != nil || h != fx.info.PieceHash(5) {
		t.Fatalf("piece 5 after the cut: %v %v", h, err)
	}
}
