package storage

import (
	"bytes"
	"crypto/sha1"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/swarmdrop/swarmdrop/engine/bitfield"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// fixture is a torrent built in the test: its info and its content.
type fixture struct {
	info    *metainfo.Info
	content []byte
}

// newFixture builds a multi-file torrent "name" of files with the given
// lengths (random content) cut into pieces of pieceLen bytes. File i is at
// d<i%2>/f<i>.
func newFixture(t *testing.T, name string, lengths []int64, pieceLen int64, seed uint64) *fixture {
	t.Helper()
	info := &metainfo.Info{Name: name, PieceLength: pieceLen, MultiFile: true}
	for i, l := range lengths {
		info.Files = append(info.Files, metainfo.File{
			Path:   []string{fmt.Sprintf("d%d", i%2), fmt.Sprintf("f%d", i)},
			Length: l, Offset: info.TotalLength,
		})
		info.TotalLength += l
	}
	r := rand.New(rand.NewPCG(seed, 1))
	content := make([]byte, info.TotalLength)
	for i := range content {
		content[i] = byte(r.UintN(256))
	}
	for off := int64(0); off < info.TotalLength; off += pieceLen {
		h := sha1.Sum(content[off:min(off+pieceLen, info.TotalLength)])
		info.Pieces = append(info.Pieces, h[:]...)
	}
	return &fixture{info: info, content: content}
}

// piece returns the content of piece i.
func (f *fixture) piece(i int) []byte {
	off := int64(i) * f.info.PieceLength
	return f.content[off : off+f.info.PieceSize(i)]
}

// paths returns the safe relative paths of the files.
func (f *fixture) paths(t *testing.T) []string {
	t.Helper()
	p, err := f.info.SafePaths()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// fileContent returns the expected content of file i.
func (f *fixture) fileContent(i int) []byte {
	fl := f.info.Files[i]
	return f.content[fl.Offset : fl.Offset+fl.Length]
}

// writeSources writes every file of f as plain files under dir and
// returns their absolute paths ("" for pad files, which have none).
func (f *fixture) writeSources(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for i, rel := range f.paths(t) {
		if !f.info.Files[i].OnDisk() {
			out = append(out, "")
			continue
		}
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.fileContent(i), 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// open opens f under dir and closes it when the test ends.
func (f *fixture) open(t *testing.T, dir string) *Torrent {
	t.Helper()
	st, err := Open(dir, f.info)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// writeAll writes every piece whose index passes keep.
func (f *fixture) writeAll(t *testing.T, st *Torrent, keep func(int) bool) {
	t.Helper()
	for i := range f.info.NumPieces() {
		if keep == nil || keep(i) {
			if err := st.WritePiece(i, f.piece(i), nil); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// pieceList returns the indexes set in b.
func pieceList(b bitfield.Bitfield) []int {
	var out []int
	for i := range b.Len() {
		if b.Has(i) {
			out = append(out, i)
		}
	}
	return out
}

// emptyDir fails the test unless dir holds nothing.
func emptyDir(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 0 {
		t.Fatalf("%s is not empty: %v", dir, ents)
	}
}

// sameBytes fails the test unless got equals want.
func sameBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: got %d bytes differing from the %d expected", what, len(got), len(want))
	}
}
