//go:build linux

package storage

import (
	"errors"
	"os"
	"runtime/debug"
	"syscall"
)

// Writing through a shared mapping lets several hash workers fill new
// page-cache pages at once (a buffered write holds the file's lock for
// the whole copy). Each write maps only its own range and unmaps it after,
// so the process never holds more than the ranges being written. The range
// is first reserved on disk with fallocate, so a full disk is an ENOSPC
// error there, not a fault in the copy.

const fallocKeepSize = 0x01 // FALLOC_FL_KEEP_SIZE

var pageSize = int64(os.Getpagesize())

// writeMapped writes b at off of file i (open as f) through a mapping of
// that range. It returns errNoMapping when the file cannot be written that
// way (the caller then uses pwrite).
func (t *Torrent) writeMapped(i int, f *os.File, b []byte, off int64) (err error) {
	t.mu.Lock()
	noMap := t.files[i].noMap
	t.mu.Unlock()
	if noMap || len(b) == 0 {
		return errNoMapping
	}
	if err := syscall.Fallocate(int(f.Fd()), fallocKeepSize, off, int64(len(b))); err != nil {
		if errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.ENOSYS) {
			t.mu.Lock()
			t.files[i].noMap = true
			t.mu.Unlock()
			return errNoMapping
		}
		return err
	}
	start := off &^ (pageSize - 1)
	m, err := syscall.Mmap(int(f.Fd()), start, int(off-start)+len(b), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return errNoMapping
	}
	defer syscall.Munmap(m)
	// The file could be cut short under us (by another program): that
	// faults, and the fault becomes an error instead of a crash.
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if recover() != nil {
			err = errors.New("the file was cut short by another program while being written")
		}
	}()
	copy(m[off-start:], b)
	return nil
}

var errNoMapping = errors.New("no mapping")
