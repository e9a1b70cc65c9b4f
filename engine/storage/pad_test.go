package storage

import (
	"bytes"
	"crypto/sha1"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// newPadFixture builds a multi-file torrent of files (Path, Length and
// Pad set by the caller) in pieces of pieceLen: random content, zeros in
// pad files, and piece hashes over that.
func newPadFixture(t *testing.T, files []metainfo.File, pieceLen int64, seed uint64) *fixture {
	t.Helper()
	info := &metainfo.Info{Name: "padded", PieceLength: pieceLen, MultiFile: true}
	r := rand.New(rand.NewPCG(seed, 2))
	var content []byte
	for _, f := range files {
		f.Offset = info.TotalLength
		info.Files = append(info.Files, f)
		info.TotalLength += f.Length
		b := make([]byte, f.Length)
		if !f.Pad {
			for i := range b {
				b[i] = byte(r.UintN(256))
			}
		}
		content = append(content, b...)
	}
	fx := &fixture{info: info, content: content}
	fx.rehash()
	return fx
}

// rehash sets the piece hashes from the content.
func (f *fixture) rehash() {
	f.info.Pieces = nil
	for off := int64(0); off < f.info.TotalLength; off += f.info.PieceLength {
		h := sha1.Sum(f.content[off:min(off+f.info.PieceLength, f.info.TotalLength)])
		f.info.Pieces = append(f.info.Pieces, h[:]...)
	}
}

// padFiles is a libtorrent-style aligned layout in pieces of 16: pad
// files after unaligned files, plus pad files with hostile paths (one
// escaping, one equal to a real file's, one under a real file, which is
// also a whole piece of padding).
func padFiles() []metainfo.File {
	pad := func(n int64, path ...string) metainfo.File {
		return metainfo.File{Path: path, Length: n, Pad: true}
	}
	return []metainfo.File{
		{Path: []string{"a.txt"}, Length: 10},
		pad(6, ".pad", "6"),
		{Path: []string{"sub", "b.bin"}, Length: 40},
		pad(8, "..", "..", "escape"),
		{Path: []string{"empty"}},
		pad(0, "a.txt"),
		{Path: []string{"c"}, Length: 16},
		pad(16, "c", "under-a-file"),
		{Path: []string{"d"}, Length: 3},
		pad(13, ".pad", "13"),
	}
}

// walkFiles returns every file and folder under dir, relative to it.
func walkFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// TestPadFilesNeverOnDisk: Open creates the real files only, writes leave
// pad files out, their bytes read as zeros, Verify finds every piece and
// Remove leaves nothing behind.
func TestPadFilesNeverOnDisk(t *testing.T) {
	fx := newPadFixture(t, padFiles(), 16, 1)
	parent := t.TempDir()
	dir := filepath.Join(parent, "downloads")
	st := fx.open(t, dir)
	want := []string{"padded", "padded/a.txt", "padded/c", "padded/d", "padded/empty", "padded/sub", "padded/sub/b.bin"}
	if got := walkFiles(t, dir); !slices.Equal(got, want) {
		t.Fatalf("after Open: %q, want %q", got, want)
	}
	fx.writeAll(t, st, nil)
	if err := st.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := walkFiles(t, parent); !slices.Equal(got, append([]string{"downloads"}, prefixed("downloads/", want)...)) {
		t.Fatalf("after writing: %q", got)
	}
	for i, p := range fx.paths(t) {
		if !fx.info.Files[i].OnDisk() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		sameBytes(t, p, b, fx.fileContent(i))
	}
	// Every read, over pad files or across them, gives the content with
	// zeros for the pad bytes.
	for _, r := range [][2]int64{{10, 6}, {0, fx.info.TotalLength}, {50, 20}, {56, 8}, {90, 16}} {
		b := bytes.Repeat([]byte{0xff}, int(r[1]))
		if n, err := st.ReadAt(b, r[0]); err != nil || n != len(b) {
			t.Fatalf("ReadAt(%d, %d): %d, %v", r[0], r[1], n, err)
		}
		sameBytes(t, "read", b, fx.content[r[0]:r[0]+r[1]])
	}
	have, err := st.Verify(t.Context(), 2, nil, nil)
	if err != nil || have.Count() != fx.info.NumPieces() {
		t.Fatalf("Verify: %v, %v of %d", pieceList(have), err, fx.info.NumPieces())
	}
	for i, s := range st.Stamps() {
		if !fx.info.Files[i].OnDisk() && s != (FileStamp{}) {
			t.Fatalf("pad file %d has the stamp %+v", i, s)
		}
	}
	if err := st.Remove(); err != nil {
		t.Fatal(err)
	}
	emptyDir(t, dir)
}

func prefixed(p string, l []string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = p + s
	}
	return out
}

// TestPadNotZero: bytes that are not zeros in a pad file's range make the
// piece fail. A peer's bad bytes there do not match the piece hash; and a
// torrent whose hashes cover non-zero pad bytes (one no BEP 47 client can
// complete) gets ErrPadNotZero from WritePiece, which writes nothing.
func TestPadNotZero(t *testing.T) {
	fx := newPadFixture(t, padFiles(), 16, 2)
	st := fx.open(t, t.TempDir())
	// Piece 0 is a.txt (10 bytes) and a pad file (6).
	bad := slices.Clone(fx.piece(0))
	bad[12] = 1
	if sha1.Sum(bad) == fx.info.PieceHash(0) {
		t.Fatal("a piece with a non-zero pad byte matches its hash")
	}

	// A hostile torrent: the same files, hashed with non-zero pad bytes.
	hostile := newPadFixture(t, padFiles(), 16, 2)
	hostile.content[12] = 1
	hostile.rehash()
	dir := t.TempDir()
	hst := hostile.open(t, dir)
	err := hst.WritePiece(0, hostile.piece(0), nil)
	if !errors.Is(err, ErrPadNotZero) {
		t.Fatalf("WritePiece of non-zero pad bytes: %v", err)
	}
	if err := hst.Sync(); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "padded", "a.txt")); err != nil || !bytes.Equal(b, make([]byte, 10)) {
		t.Fatalf("a.txt after the refused write: %q, %v", b, err)
	}
	// Even with its real bytes on disk, the piece never verifies: the pad
	// file reads as zeros.
	if err := os.WriteFile(filepath.Join(dir, "padded", "a.txt"), hostile.fileContent(0), 0o644); err != nil {
		t.Fatal(err)
	}
	hostile.writeAll(t, hst, func(i int) bool { return i != 0 })
	have, err := hst.Verify(t.Context(), 1, nil, nil)
	if err != nil || have.Has(0) || have.Count() != hostile.info.NumPieces()-1 {
		t.Fatalf("Verify of the hostile torrent: %v, %v", pieceList(have), err)
	}
	// The good torrent's piece 0 is written as usual.
	if err := st.WritePiece(0, fx.piece(0), nil); err != nil {
		t.Fatal(err)
	}
}

// TestPadSeedInPlace: seeding in place, pad files need no source.
func TestPadSeedInPlace(t *testing.T) {
	fx := newPadFixture(t, padFiles(), 16, 3)
	src := t.TempDir()
	paths := fx.writeSources(t, src)
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
	have, err := st.Verify(t.Context(), 2, nil, nil)
	if err != nil || have.Count() != fx.info.NumPieces() {
		t.Fatalf("Verify: %v, %v", pieceList(have), err)
	}
}

// TestPadResume: resume data trusts pieces across pad files, also when
// the pad files' stamps are those an older version recorded for pad
// files it had created on disk.
func TestPadResume(t *testing.T) {
	fx := newPadFixture(t, padFiles(), 16, 4)
	dir := t.TempDir()
	st := fx.open(t, dir)
	fx.writeAll(t, st, nil)
	if err := st.Sync(); err != nil {
		t.Fatal(err)
	}
	have, err := st.Verify(t.Context(), 2, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	stamps := st.Stamps()
	st.Close()
	// Piece 0 is a.txt and a pad file: corrupt a.txt, keeping its stamp,
	// so that only trust can report the piece.
	p := filepath.Join(dir, "padded", "a.txt")
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("XXXXXXXXXX"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	old := slices.Clone(stamps)
	old[1] = FileStamp{Size: 6, ModTime: time.Now().UnixNano()} // the pad file
	for name, files := range map[string][]FileStamp{"new stamps": stamps, "older stamps": old} {
		st := fx.open(t, dir)
		got, err := st.Verify(t.Context(), 2, &Resume{Have: have, Files: files}, nil)
		if err != nil || !got.Has(0) || got.Count() != have.Count() {
			t.Fatalf("%s: Verify with trust = %v, %v", name, pieceList(got), err)
		}
	}
	st = fx.open(t, dir)
	if got, _ := st.Verify(t.Context(), 2, nil, nil); got.Has(0) {
		t.Fatal("the corruption is not seen without trust: the test proves nothing")
	}
}

// TestHugePad: a pad file of 1 TiB between two small files costs no disk
// space, no reading and no hashing: Open creates two small files and
// Verify finds every piece at once.
func TestHugePad(t *testing.T) {
	const pl = 16 << 20
	info := &metainfo.Info{Name: "huge", PieceLength: pl, MultiFile: true, Files: []metainfo.File{
		{Path: []string{"a"}, Length: 1},
		{Path: []string{".pad", "huge"}, Length: 1<<40 - 1, Offset: 1, Pad: true},
		{Path: []string{"b"}, Length: 100, Offset: 1 << 40},
	}, TotalLength: 1<<40 + 100}
	first := make([]byte, pl)
	first[0] = 'a'
	last := bytes.Repeat([]byte("b"), 100)
	n := int(info.TotalLength/pl + 1)
	zero := sha1.Sum(make([]byte, pl))
	for i := range n {
		h := zero
		switch i {
		case 0:
			h = sha1.Sum(first)
		case n - 1:
			h = sha1.Sum(last)
		}
		info.Pieces = append(info.Pieces, h[:]...)
	}
	mi, err := metainfo.New(info)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st, err := Open(dir, &mi.Info)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got := walkFiles(t, dir); !slices.Equal(got, []string{"huge", "huge/a", "huge/b"}) {
		t.Fatalf("files %q", got)
	}
	if err := st.WritePiece(0, first, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.WritePiece(n-1, last, nil); err != nil {
		t.Fatal(err)
	}
	have, err := st.Verify(t.Context(), 2, nil, nil)
	if err != nil || have.Count() != n {
		t.Fatalf("Verify: %d of %d pieces, %v", have.Count(), n, err)
	}
	b := bytes.Repeat([]byte{1}, 1000)
	if _, err := st.ReadAt(b, 1<<39); err != nil || !bytes.Equal(b, make([]byte, 1000)) {
		t.Fatalf("read in the pad file: %v", err)
	}
	var used int64
	for _, name := range []string{"a", "b"} {
		fi, err := os.Stat(filepath.Join(dir, "huge", name))
		if err != nil {
			t.Fatal(err)
		}
		used += fi.Size()
	}
	if used != mi.Info.ContentLength() || used != 101 {
		t.Fatalf("%d bytes on disk, content %d", used, mi.Info.ContentLength())
	}
}
