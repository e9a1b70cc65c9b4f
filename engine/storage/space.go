package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// ErrFreeSpaceUnknown is returned by FreeSpace where the system cannot
// tell how much space is free.
var ErrFreeSpaceUnknown = errors.New("free space unknown on this system")

// SpaceNeeded returns how many more bytes the files of info need under
// dir before every piece is written: for each file, its length less what
// the file system already holds for it (nothing for a missing file; a
// sparse file holds only what was written). Files that skip marks (nil:
// none) are not counted. It creates and opens nothing.
func SpaceNeeded(dir string, info *metainfo.Info, skip []bool) (int64, error) {
	paths, err := info.SafePaths()
	if err != nil {
		return 0, fmt.Errorf("measuring the space needed: %w", err)
	}
	if len(skip) != len(info.Files) {
		skip = nil
	}
	var need int64
	for i, f := range info.Files {
		if (skip != nil && skip[i]) || !f.OnDisk() {
			continue
		}
		var held int64
		// A path that cannot be read counts as missing: opening the
		// storage reports what is wrong with it.
		if fi, err := os.Lstat(filepath.Join(dir, paths[i])); err == nil && fi.Mode().IsRegular() {
			held = min(allocated(fi), f.Length)
		}
		need += f.Length - held
	}
	return need, nil
}

// FreeSpace returns the bytes we may still write on the file system that
// holds dir, or the nearest existing folder above it. It returns
// ErrFreeSpaceUnknown where the system cannot tell.
func FreeSpace(dir string) (int64, error) {
	for {
		if _, err := os.Stat(dir); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	n, err := freeSpace(dir)
	if err != nil && !errors.Is(err, ErrFreeSpaceUnknown) {
		return 0, fmt.Errorf("measuring the free space of %s: %w", dir, err)
	}
	return n, err
}
