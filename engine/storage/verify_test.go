package storage

import (
	"context"
	"crypto/sha1"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestVerifyFindsPresentPieces: exactly the pieces written (and not
// damaged afterwards) are found, whatever the number of workers.
func TestVerifyFindsPresentPieces(t *testing.T) {
	fx := newFixture(t, "v", []int64{33, 0, 64, 7, 100}, 16, 8)
	dir := t.TempDir()
	st := fx.open(t, dir)
	fx.writeAll(t, st, func(i int) bool { return i%3 != 1 })
	// Damage piece 3 on disk: bytes 48..64 are file 2's bytes 15..31.
	p := filepath.Join(dir, fx.paths(t)[2])
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{^fx.content[50]}, 50-33); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var want []int
	for i := range fx.info.NumPieces() {
		if i%3 != 1 && i != 3 {
			want = append(want, i)
		}
	}
	for _, workers := range []int{0, 1, 4} {
		var mu sync.Mutex
		last, calls := 0, 0
		have, err := st.Verify(t.Context(), workers, nil, func(done, total int) {
			mu.Lock()
			defer mu.Unlock()
			if total != fx.info.NumPieces() || done < last {
				t.Errorf("progress(%d, %d) after %d", done, total, last)
			}
			last = done
			calls++
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := pieceList(have); !slices.Equal(got, want) {
			t.Fatalf("%d workers: Verify = %v, want %v", workers, got, want)
		}
		if last != fx.info.NumPieces() || calls < 2 {
			t.Fatalf("progress ended at %d after %d calls", last, calls)
		}
	}
}

// TestVerifyHonoursContext: a cancelled context stops Verify with its error.
func TestVerifyHonoursContext(t *testing.T) {
	fx := newFixture(t, "ctx", []int64{4096}, 16, 9)
	st := fx.open(t, t.TempDir())
	ctx, cancel := context.WithCancel(t.Context())
	_, err := st.Verify(ctx, 2, nil, func(done, total int) {
		if done >= 10 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Verify after cancel: %v", err)
	}
}

// TestResumeTrust proves that pieces recorded as verified are taken on
// trust while their files' stamps match (even if their bytes were changed
// behind our back), and hashed again once a file's mtime or size changes.
func TestResumeTrust(t *testing.T) {
	fx := newFixture(t, "trust", []int64{64, 0, 64, 64}, 16, 10)
	dir := t.TempDir()
	st := fx.open(t, dir)
	fx.writeAll(t, st, func(i int) bool { return i != 9 })
	if err := st.Sync(); err != nil {
		t.Fatal(err)
	}
	have, err := st.Verify(t.Context(), 2, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if have.Count() != fx.info.NumPieces()-1 || have.Has(9) {
		t.Fatalf("before: %v", pieceList(have))
	}
	trust := &Resume{InfoHash: [20]byte{1}, Have: have, Files: st.Stamps(), SavedAt: time.Now()}
	st.Close()
	paths := fx.paths(t)
	// Corrupt piece 1 (file 0) and piece 8 (file 3), keeping the stamps.
	corrupt := func(file int, at int64) {
		p := filepath.Join(dir, paths[file])
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt([]byte("XXXX"), at); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
			t.Fatal(err)
		}
	}
	corrupt(0, 20)
	corrupt(3, 3)
	st = fx.open(t, dir)
	got, err := st.Verify(t.Context(), 2, trust, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pieceList(got), pieceList(have)) {
		t.Fatalf("stamps unchanged: Verify = %v, want the trusted %v", pieceList(got), pieceList(have))
	}
	untrusted, err := st.Verify(t.Context(), 2, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if untrusted.Has(1) || untrusted.Has(8) || untrusted.Count() != have.Count()-2 {
		t.Fatalf("without trust: %v", pieceList(untrusted))
	}

	// File 0's mtime changes: its pieces are hashed; file 3's stay trusted.
	p0 := filepath.Join(dir, paths[0])
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(p0, later, later); err != nil {
		t.Fatal(err)
	}
	got, err = st.Verify(t.Context(), 2, trust, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Has(1) || !got.Has(8) || got.Count() != have.Count()-1 {
		t.Fatalf("after touching file 0: %v", pieceList(got))
	}

	// File 3 grows (its size changes): piece 8 is hashed and found bad.
	f, err := os.OpenFile(filepath.Join(dir, paths[3]), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("more"))
	f.Close()
	got, err = st.Verify(t.Context(), 2, trust, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Has(1) || got.Has(8) || got.Count() != have.Count()-2 {
		t.Fatalf("after growing file 3: %v", pieceList(got))
	}

	// A resume for another piece count or file count is ignored.
	bad := *trust
	bad.Files = bad.Files[:2]
	if got, _ := st.Verify(t.Context(), 1, &bad, nil); got.Has(1) || got.Has(8) {
		t.Fatalf("mismatched resume trusted: %v", pieceList(got))
	}
}

// TestVerifySkipsRegionsOpenExtended: pieces lying in zeros that Open
// itself added (new files, the extended tail of short files) are not read:
// an all-zero torrent is "missing" right after a fresh Open although its
// zeros would hash right, while data that was on disk before Open is found,
// and a reopened full-length file is hashed again.
func TestVerifySkipsRegionsOpenExtended(t *testing.T) {
	fx := newFixture(t, "z", []int64{64, 40}, 16, 3)
	for i := range fx.content {
		fx.content[i] = 0
	}
	fx.info.Pieces = nil
	for off := int64(0); off < fx.info.TotalLength; off += 16 {
		h := sha1.Sum(fx.content[off:min(off+16, fx.info.TotalLength)])
		fx.info.Pieces = append(fx.info.Pieces, h[:]...)
	}
	dir := t.TempDir()
	// File 0 exists with its first 32 bytes (two pieces) before Open.
	p0 := filepath.Join(dir, fx.paths(t)[0])
	if err := os.MkdirAll(filepath.Dir(p0), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p0, make([]byte, 32), 0o644); err != nil {
		t.Fatal(err)
	}
	st := fx.open(t, dir)
	have, err := st.Verify(t.Context(), 2, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := pieceList(have); len(got) != 2 || got[0] != 0 || got[1] != 1 {
		t.Fatalf("fresh open: Verify = %v, want [0 1] (only what was on disk)", got)
	}
	st.Close()
	st = fx.open(t, dir)
	have, err = st.Verify(t.Context(), 2, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if have.Count() != fx.info.NumPieces() {
		t.Fatalf("reopened full-length files: %v, want every piece", pieceList(have))
	}
}
