package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestSymlinkInsideFolder: a symbolic link planted in the download folder
// never lets a write (or a removal) reach outside it.
func TestSymlinkInsideFolder(t *testing.T) {
	fx := newFixture(t, "evil", []int64{10, 10}, 4, 11) // evil/d0/f0, evil/d1/f1
	t.Run("folder link before Open", func(t *testing.T) {
		dir, outside := t.TempDir(), t.TempDir()
		if err := os.Symlink(outside, filepath.Join(dir, "evil")); err != nil {
			t.Fatal(err)
		}
		if st, err := Open(dir, fx.info); err == nil {
			st.Close()
			t.Fatal("Open went through a folder link")
		} else if !strings.Contains(err.Error(), "symbolic link") {
			t.Fatalf("unclear error: %v", err)
		}
		emptyDir(t, outside)
	})
	t.Run("file link before Open", func(t *testing.T) {
		dir, outside := t.TempDir(), t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "evil", "d0"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(outside, "target"), filepath.Join(dir, "evil", "d0", "f0")); err != nil {
			t.Fatal(err)
		}
		if st, err := Open(dir, fx.info); err == nil {
			st.Close()
			t.Fatal("Open went through a file link")
		}
		emptyDir(t, outside)
	})
	t.Run("folder link after Open", func(t *testing.T) {
		dir, outside := t.TempDir(), t.TempDir()
		st := fx.open(t, dir)
		sub := filepath.Join(dir, "evil", "d1")
		if err := os.RemoveAll(sub); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(outside, sub); err != nil {
			t.Fatal(err)
		}
		for i := range fx.info.NumPieces() {
			err := st.WritePiece(i, fx.piece(i), nil)
			if i >= 2 && err == nil { // pieces 2, 3 and 4 touch d1/f1
				t.Fatalf("WritePiece(%d) went through the link", i)
			}
		}
		emptyDir(t, outside)
		if err := os.WriteFile(filepath.Join(outside, "f1"), []byte("mine"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := st.ReadAt(make([]byte, 4), 12); err == nil {
			t.Fatal("ReadAt read through the link")
		}
		st.Remove()
		if b, err := os.ReadFile(filepath.Join(outside, "f1")); err != nil || string(b) != "mine" {
			t.Fatalf("Remove touched a file outside: %q, %v", b, err)
		}
	})
}

// TestNoSpace: writing to a full file system fails with ErrNoSpace.
func TestNoSpace(t *testing.T) {
	dir := testpeers.SmallFS(t, 64<<10)
	fx := newFixture(t, "full", []int64{100_000, 200_000}, 16384, 12)
	st, err := Open(dir, fx.info) // sparse: fits although it is bigger than the disk
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := range fx.info.NumPieces() {
		err = st.WritePiece(i, fx.piece(i), nil)
		if err != nil {
			break
		}
	}
	if !errors.Is(err, ErrNoSpace) {
		t.Fatalf("writing to a full disk: %v", err)
	}
	if !strings.Contains(err.Error(), "full") {
		t.Fatalf("error does not name the file: %v", err)
	}
}

// TestConcurrentUse writes, reads, hashes, syncs and stamps from many
// goroutines at once, with few file handles so that they are evicted and
// reopened all the time. Run under -race.
func TestConcurrentUse(t *testing.T) {
	var lengths []int64
	for i := range 40 {
		lengths = append(lengths, int64(100+i*37))
	}
	fx := newFixture(t, "many", lengths, 256, 13)
	st := fx.open(t, t.TempDir())
	st.maxOpen = 4
	n := fx.info.NumPieces()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				if err := st.WritePiece(i, fx.piece(i), nil); err != nil {
					errs <- err
					return
				}
				if h, err := st.HashPiece(i); err != nil || h != fx.info.PieceHash(i) {
					errs <- fmt.Errorf("piece %d read back wrong: %v", i, err)
					return
				}
			}
		}()
	}
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if err := st.Sync(); err != nil {
					errs <- err
					return
				}
				st.Stamps()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	have, err := st.Verify(t.Context(), 4, nil, nil)
	if err != nil || !have.Full() {
		t.Fatalf("Verify after concurrent writes: %d of %d, %v", have.Count(), n, err)
	}
	st.mu.Lock()
	open := len(st.openIdx)
	st.mu.Unlock()
	if open > st.maxOpen {
		t.Fatalf("%d handles open, limit %d", open, st.maxOpen)
	}
}

// TestCloseWhileInUse: Close during reads and writes neither races nor
// leaks handles; later calls fail cleanly.
func TestCloseWhileInUse(t *testing.T) {
	fx := newFixture(t, "closing", []int64{5000, 5000}, 512, 14)
	st := fx.open(t, t.TempDir())
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < fx.info.NumPieces(); i += 4 {
				st.WritePiece(i, fx.piece(i), nil)
				st.ReadAt(make([]byte, 100), int64(i)*512)
			}
		}()
	}
	st.Close()
	wg.Wait()
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.openIdx) != 0 {
		t.Fatalf("%d handles left open after Close", len(st.openIdx))
	}
}
