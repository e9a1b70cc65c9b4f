//go:build !linux && !darwin && !windows

package storage

import "os"

// freeSpace cannot tell on this system.
func freeSpace(string) (int64, error) { return 0, ErrFreeSpaceUnknown }

// allocated returns a file's size.
func allocated(fi os.FileInfo) int64 { return fi.Size() }
