package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// acquire returns an open handle to file i, opening it if needed, and
// counts the caller as its user until release(i). For a write the file is
// created if it went missing and is marked as needing an fsync.
func (t *Torrent) acquire(i int, write bool) (*os.File, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, os.ErrClosed
	}
	fe := &t.files[i]
	if fe.f == nil {
		if len(t.openIdx) >= t.maxOpen {
			t.evictLocked()
		}
		f, err := t.openFileLocked(i, write)
		if err != nil {
			return nil, err
		}
		fe.f = f
		t.openIdx = append(t.openIdx, i)
	}
	fe.users++
	t.tick++
	fe.used = t.tick
	if write {
		fe.dirty = true
	}
	return fe.f, nil
}

// release ends a use begun by acquire.
func (t *Torrent) release(i int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fe := &t.files[i]
	fe.users--
	if t.closed && fe.users == 0 && fe.f != nil {
		if err := t.closeFileLocked(i); err != nil && t.syncErr == nil {
			t.syncErr = err
		}
	}
	// Back under the limit once the rush that exceeded it is over.
	for len(t.openIdx) > t.maxOpen && t.evictLocked() {
	}
}

// openFileLocked opens file i: read-only for OpenFiles torrents, otherwise
// read-write through the root so that it cannot escape the folder.
func (t *Torrent) openFileLocked(i int, write bool) (*os.File, error) {
	name := t.files[i].name
	if t.inPlace {
		return os.Open(name)
	}
	if t.root == nil {
		return nil, os.ErrClosed
	}
	flag := os.O_RDWR
	if write {
		flag |= os.O_CREATE
	}
	f, err := t.root.OpenFile(name, flag, 0o644)
	if write && errors.Is(err, fs.ErrNotExist) {
		if d := filepath.Dir(name); d != "." {
			if err := t.root.MkdirAll(d, 0o755); err != nil {
				return nil, err
			}
		}
		f, err = t.root.OpenFile(name, flag, 0o644)
		if err == nil {
			// Sized as Open makes files, so that writes through a
			// mapping land inside the file.
			if err = f.Truncate(t.files[i].length); err != nil {
				f.Close()
				return nil, err
			}
		}
	}
	return f, err
}

// evictLocked closes the least recently used idle handle, preferring one
// with nothing to fsync. When every handle is busy it closes none; the
// limit is then exceeded until they are released. It reports whether it
// closed one.
func (t *Torrent) evictLocked() bool {
	best := -1
	for _, i := range t.openIdx {
		fe := &t.files[i]
		if fe.users > 0 {
			continue
		}
		if best < 0 {
			best = i
			continue
		}
		b := &t.files[best]
		if (b.dirty && !fe.dirty) || (b.dirty == fe.dirty && fe.used < b.used) {
			best = i
		}
	}
	if best < 0 {
		return false
	}
	if err := t.closeFileLocked(best); err != nil && t.syncErr == nil {
		t.syncErr = err
	}
	return true
}

// closeFileLocked fsyncs file i if written, then closes its handle.
func (t *Torrent) closeFileLocked(i int) error {
	fe := &t.files[i]
	var err error
	if fe.dirty {
		err = fe.f.Sync() // also writes back what went through mappings
	}
	if cerr := fe.f.Close(); err == nil {
		err = cerr
	}
	fe.f, fe.dirty = nil, false
	for k, j := range t.openIdx {
		if j == i {
			t.openIdx[k] = t.openIdx[len(t.openIdx)-1]
			t.openIdx = t.openIdx[:len(t.openIdx)-1]
			break
		}
	}
	if err != nil {
		return fmt.Errorf("closing %s: %w", t.path(i), err)
	}
	return nil
}

// Sync fsyncs every file written since its last fsync, so that pieces
// written so far survive a crash. Once an fsync has failed (here, or when
// an idle handle was closed) every later Sync fails too: the kernel may
// have dropped written data, so nothing written may be trusted.
func (t *Torrent) Sync() error {
	t.mu.Lock()
	if t.syncErr != nil {
		err := t.syncErr
		t.mu.Unlock()
		return err
	}
	type handle struct {
		i int
		f *os.File
	}
	var pinned []handle
	for _, i := range t.openIdx {
		fe := &t.files[i]
		if fe.dirty {
			fe.dirty = false
			fe.users++ // keeps the handle open while it is synced unlocked
			pinned = append(pinned, handle{i, fe.f})
		}
	}
	t.mu.Unlock()
	var first error
	failed := map[int]bool{}
	for _, h := range pinned {
		i := h.i
		if err := h.f.Sync(); err != nil {
			failed[i] = true
			if first == nil {
				first = fmt.Errorf("syncing %s: %w", t.path(i), err)
			}
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, h := range pinned {
		i := h.i
		fe := &t.files[i]
		if failed[i] {
			fe.dirty = true
		}
		if first != nil && t.syncErr == nil {
			t.syncErr = first
		}
		fe.users--
		if t.closed && fe.users == 0 {
			if err := t.closeFileLocked(i); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}
