package storage

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestCopyFiles: the files on disk are copied with their modification
// times (the resume stamps still match), a skipped file never created is
// not made, progress ends at the total, and the source is untouched.
func TestCopyFiles(t *testing.T) {
	fx := newFixture(t, "mv", []int64{250_000, 100_000, 350_000}, 1<<15, 7)
	from := t.TempDir()
	st, err := OpenSkipping(from, fx.info, []bool{false, true, false})
	if err != nil {
		t.Fatal(err)
	}
	fx.writeAll(t, st, func(i int) bool { return i < 7 }) // pieces of f0 only: f1 stays uncreated
	st.Close()
	paths := fx.paths(t)
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(from, paths[0]), old, old); err != nil {
		t.Fatal(err)
	}
	to := filepath.Join(t.TempDir(), "new", "place")
	var last, total int64
	if err := CopyFiles(t.Context(), from, to, fx.info, func(d, n int64) { last, total = d, n }); err != nil {
		t.Fatal(err)
	}
	if last != total || total != 250_000+350_000 {
		t.Fatalf("progress ended at %d of %d", last, total)
	}
	for _, i := range []int{0, 2} {
		a, _ := os.ReadFile(filepath.Join(from, paths[i]))
		b, err := os.ReadFile(filepath.Join(to, paths[i]))
		if err != nil {
			t.Fatal(err)
		}
		sameBytes(t, paths[i], b, a)
	}
	if fi, err := os.Stat(filepath.Join(to, paths[0])); err != nil || !fi.ModTime().Equal(old) {
		t.Fatalf("modification time %v, want %v (%v)", fi.ModTime(), old, err)
	}
	if _, err := os.Lstat(filepath.Join(to, paths[1])); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the skipped file was made: %v", err)
	}
	if _, err := os.Stat(filepath.Join(from, paths[0])); err != nil {
		t.Fatalf("the source was touched: %v", err)
	}
	// A folder that is gone has nothing to copy.
	gone := filepath.Join(t.TempDir(), "gone")
	if err := CopyFiles(t.Context(), gone, t.TempDir(), fx.info, nil); err != nil {
		t.Fatalf("copy from a missing folder: %v", err)
	}
}

// TestCopyFilesFails: a file already at the target, a target disk that
// fills up midway, and a cancelled copy each fail the copy and leave no
// file of ours in the target (the file that was there is untouched) and
// the source whole.
func TestCopyFilesFails(t *testing.T) {
	fx := newFixture(t, "mvf", []int64{300_000, 300_000}, 1<<15, 8)
	from := t.TempDir()
	st := fx.open(t, from)
	fx.writeAll(t, st, nil)
	st.Close()
	paths := fx.paths(t)
	check := func(what, to string, want []string) {
		t.Helper()
		var got []string
		filepath.WalkDir(to, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(to, p)
				got = append(got, filepath.ToSlash(rel))
			}
			return nil
		})
		if !slices.Equal(got, want) {
			t.Errorf("%s: the target holds %q, want %q", what, got, want)
		}
		for i := range paths {
			b, err := os.ReadFile(filepath.Join(from, paths[i]))
			if err != nil {
				t.Fatal(err)
			}
			sameBytes(t, paths[i], b, fx.fileContent(i))
		}
	}

	to := t.TempDir()
	testpeers.RandomFile(t, filepath.Join(to, paths[1]), 10, 99)
	err := CopyFiles(t.Context(), from, to, fx.info, nil)
	if !errors.Is(err, ErrMoveTarget) {
		t.Fatalf("copy onto an existing file: %v", err)
	}
	check("existing file", to, []string{filepath.ToSlash(paths[1])})
	if b, _ := os.ReadFile(filepath.Join(to, paths[1])); len(b) != 10 {
		t.Fatal("the file that was there changed")
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	to = t.TempDir()
	if err := CopyFiles(ctx, from, to, fx.info, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled copy: %v", err)
	}
	check("cancelled", to, nil)

	small := testpeers.SmallFS(t, 400_000)
	err = CopyFiles(t.Context(), from, small, fx.info, nil)
	if !errors.Is(err, ErrNoSpace) {
		t.Fatalf("copy to a full disk: %v", err)
	}
	check("full disk", small, nil)
}
