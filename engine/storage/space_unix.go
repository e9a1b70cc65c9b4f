//go:build linux || darwin

package storage

import (
	"os"
	"syscall"
)

// freeSpace asks statfs for the blocks available to unprivileged users.
func freeSpace(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(uint64(st.Bavail) * uint64(st.Bsize)), nil
}

// allocated returns the bytes the file system holds for a file: less than
// its size for a sparse file.
func allocated(fi os.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int64(st.Blocks) * 512
	}
	return fi.Size()
}
