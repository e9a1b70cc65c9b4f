package storage

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/swarmdrop/swarmdrop/engine/bitfield"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestSkippedFiles: a skipped file is neither created nor extended; a
// piece shared with it is written without its bytes, the wanted file
// gets exactly its own; a re-check finds the whole pieces only, and the
// resume data brings the partial ones back while their files are
// unchanged and still wanted; wanting the file again creates it and
// stops trusting the partial pieces.
func TestSkippedFiles(t *testing.T) {
	// Files: f0 [0,250) f1 [250,350) f2 [350,700); pieces of 100 bytes:
	// piece 2 holds f0 and f1, piece 3 f1 and f2.
	fx := newFixture(t, "skip", []int64{250, 100, 350}, 100, 21)
	dir := t.TempDir()
	skip := []bool{false, true, false}
	st, err := OpenSkipping(dir, fx.info, skip)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	paths := fx.paths(t)
	if _, err := os.Lstat(filepath.Join(dir, paths[1])); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the skipped file exists after Open: %v", err)
	}
	partial := bitfield.New(fx.info.NumPieces())
	for i := range fx.info.NumPieces() {
		var s []bool
		if i == 2 || i == 3 {
			s = skip
			partial.Set(i)
		}
		if err := st.WritePiece(i, fx.piece(i), s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, paths[1])); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the skipped file exists after writing: %v", err)
	}
	for _, i := range []int{0, 2} {
		got, err := os.ReadFile(filepath.Join(dir, paths[i]))
		if err != nil {
			t.Fatal(err)
		}
		sameBytes(t, paths[i], got, fx.fileContent(i))
	}
	if err := st.Sync(); err != nil {
		t.Fatal(err)
	}
	have, err := st.Verify(t.Context(), 2, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := pieceList(have); !slices.Equal(got, []int{0, 1, 4, 5, 6}) {
		t.Fatalf("re-check without resume data finds %v", got)
	}
	trust := &Resume{Have: have, Partial: partial, Skip: skip, Files: st.Stamps()}
	if got := pieceList(st.TrustedPartial(trust)); !slices.Equal(got, []int{2, 3}) {
		t.Fatalf("trusted partial pieces %v, want [2 3]", got)
	}
	// Another file skipped now does not matter; a changed wanted file
	// does.
	if err := st.SetSkipped([]bool{true, true, false}); err != nil {
		t.Fatal(err)
	}
	if got := pieceList(st.TrustedPartial(trust)); !slices.Equal(got, []int{2, 3}) {
		t.Fatalf("with f0 skipped too: trusted partial pieces %v, want [2 3]", got)
	}
	changed := *trust
	changed.Files = slices.Clone(trust.Files)
	changed.Files[2].ModTime++
	if got := pieceList(st.TrustedPartial(&changed)); !slices.Equal(got, []int{2}) {
		t.Fatalf("with f2 changed: trusted partial pieces %v, want [2]", got)
	}
	// Wanting f1 again creates it at its length; the partial piece
	// lacks its bytes, so it is trusted no more.
	if err := st.SetSkipped(nil); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, paths[1])); err != nil || fi.Size() != 100 {
		t.Fatalf("f1 wanted again: %v, %v", fi, err)
	}
	if got := pieceList(st.TrustedPartial(trust)); len(got) != 0 {
		t.Fatalf("with f1 wanted: trusted partial pieces %v", got)
	}
	// Its pieces then verify once written.
	for _, i := range []int{2, 3} {
		if err := st.WritePiece(i, fx.piece(i), nil); err != nil {
			t.Fatal(err)
		}
	}
	if have, err = st.Verify(t.Context(), 2, nil, nil); err != nil || !have.Full() {
		t.Fatalf("after writing every piece whole: %v, %v", pieceList(have), err)
	}
}

// TestWriteErrorSaysItOnce: a write that fails names the piece and the
// file once each, with the cause once: no "writing piece 3: writing
// piece 3" nor the path twice.
func TestWriteErrorSaysItOnce(t *testing.T) {
	dir := testpeers.SmallFS(t, 64<<10)
	fx := newFixture(t, "full", []int64{100_000, 200_000}, 16384, 12)
	st, err := Open(dir, fx.info)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := range fx.info.NumPieces() {
		if err = st.WritePiece(i, fx.piece(i), nil); err != nil {
			break
		}
	}
	if !errors.Is(err, ErrNoSpace) {
		t.Fatalf("writing to a full disk: %v", err)
	}
	msg := err.Error()
	for _, once := range []string{"writing", "piece", dir, "no space"} {
		if n := strings.Count(msg, once); n != 1 {
			t.Errorf("%q appears %d times in %q", once, n, msg)
		}
	}
	// A path the system puts in its error is not repeated either.
	st2, err := Open(t.TempDir(), fx.info)
	if err != nil {
		t.Fatal(err)
	}
	st2.Close()
	err = st2.WritePiece(0, fx.piece(0), nil)
	if err == nil || strings.Count(err.Error(), "f0") != 1 || strings.Count(err.Error(), "piece 0") != 1 {
		t.Fatalf("writing to a closed torrent: %v", err)
	}
}
