package storage

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestSpaceNeeded: nothing on disk needs the whole torrent; files that
// Open made sparse still need what is not written; written pieces need
// nothing more. Measuring creates nothing.
func TestSpaceNeeded(t *testing.T) {
	fx := newFixture(t, "space", []int64{300_000, 100_000, 0}, 1<<16, 21)
	dir := t.TempDir()
	need, err := SpaceNeeded(dir, fx.info, nil)
	if err != nil || need != fx.info.TotalLength {
		t.Fatalf("empty folder: need %d, %v; want %d", need, err, fx.info.TotalLength)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("measuring created %d entries", len(ents))
	}
	if need, err := SpaceNeeded(dir, fx.info, []bool{false, true, false}); err != nil || need != 300_000 {
		t.Fatalf("second file skipped: need %d, %v; want 300000", need, err)
	}
	st := fx.open(t, dir)
	need, err = SpaceNeeded(dir, fx.info, nil)
	if err != nil || need < fx.info.TotalLength-8192 {
		t.Fatalf("sparse files: need %d, %v; want about %d", need, err, fx.info.TotalLength)
	}
	fx.writeAll(t, st, func(int) bool { return true })
	if err := st.Sync(); err != nil {
		t.Fatal(err)
	}
	need, err = SpaceNeeded(dir, fx.info, nil)
	if err != nil || need != 0 {
		t.Fatalf("everything written: need %d, %v", need, err)
	}
}

// TestFreeSpaceSmallFS: the free space of a 1 MiB tmpfs, and of a folder
// not made yet inside it, is at most 1 MiB and drops as a file fills it.
func TestFreeSpaceSmallFS(t *testing.T) {
	mnt := testpeers.SmallFS(t, 1<<20)
	free, err := FreeSpace(filepath.Join(mnt, "not", "made", "yet"))
	if err != nil || free <= 0 || free > 1<<20 {
		t.Fatalf("FreeSpace = %d, %v on a 1 MiB file system", free, err)
	}
	testpeers.RandomFile(t, filepath.Join(mnt, "filler"), 512<<10, 3)
	after, err := FreeSpace(mnt)
	if err != nil || after > free-500<<10 {
		t.Fatalf("FreeSpace after writing 512 KiB: %d (was %d), %v", after, free, err)
	}
}
