package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// ErrMoveTarget: a file a move would write exists already in the new
// folder (it is never overwritten).
var ErrMoveTarget = errors.New("a file of that name is already there")

// moveSuffix marks a file being copied by CopyFiles until it is whole.
const moveSuffix = ".swarmdrop-moving"

// CopyFiles copies the files of info that exist under from (skipped
// files never created are left out) to the same places under to, each
// through a temporary name, synced to the disk, with its modification
// time kept (so that resume data still vouches for it), and only then
// given its name. progress, when set, is told the bytes copied and the
// total after each chunk. Nothing under from is changed. On failure or
// when ctx ends, what it made under to is removed again and the error
// says why; a file already under to fails the copy with ErrMoveTarget.
// When from does not exist there is nothing to copy: no error.
// Call RemoveFiles(from, info) once the copy is recorded.
func CopyFiles(ctx context.Context, from, to string, info *metainfo.Info, progress func(done, total int64)) error {
	paths, err := info.SafePaths()
	if err != nil {
		return fmt.Errorf("moving files: %w", err)
	}
	src, err := os.OpenRoot(from)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // nothing there to move: the folder is gone
	}
	if err != nil {
		return fmt.Errorf("moving files: %w", err)
	}
	defer src.Close()
	var names []string
	var total int64
	for i, name := range paths {
		if name == "" || !info.Files[i].OnDisk() {
			continue
		}
		fi, err := src.Lstat(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue // skipped, never created
		}
		if err != nil {
			return fmt.Errorf("moving %s: %w", filepath.Join(from, name), bareError(err))
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("moving %s: not a regular file", filepath.Join(from, name))
		}
		names = append(names, name)
		total += fi.Size()
	}
	if err := os.MkdirAll(to, 0o755); err != nil {
		return fmt.Errorf("moving files: %w", err)
	}
	dst, err := os.OpenRoot(to)
	if err != nil {
		return fmt.Errorf("moving files: %w", err)
	}
	defer dst.Close()
	var made []string // files made under to, for the roll-back
	fail := func(err error) error {
		removeUnder(to, made)
		return err
	}
	var done int64
	for _, name := range names {
		if _, err := dst.Lstat(name); err == nil {
			return fail(fmt.Errorf("moving to %s: %w", filepath.Join(to, name), ErrMoveTarget))
		}
		tmp := name + moveSuffix
		dst.Remove(tmp) // left by a move that was cut short: ours
		made = append(made, tmp)
		if err := copyOne(ctx, src, dst, name, tmp, func(n int64) {
			done += n
			if progress != nil {
				progress(done, total)
			}
		}); err != nil {
			return fail(fmt.Errorf("moving %s to %s: %w", filepath.Join(from, name), to, err))
		}
		if err := dst.Rename(tmp, name); err != nil {
			return fail(fmt.Errorf("moving to %s: %w", filepath.Join(to, name), bareError(err)))
		}
		made[len(made)-1] = name
	}
	if progress != nil {
		progress(total, total)
	}
	return nil
}

// copyOne copies file name of src to tmp in dst, synced, with name's
// modification time; n is told each chunk's size.
func copyOne(ctx context.Context, src, dst *os.Root, name, tmp string, n func(int64)) error {
	in, err := src.Open(name)
	if err != nil {
		return bareError(err)
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return bareError(err)
	}
	if d := filepath.Dir(tmp); d != "." {
		if err := dst.MkdirAll(d, 0o755); err != nil {
			return bareError(err)
		}
	}
	out, err := dst.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return bareError(err)
	}
	buf := make([]byte, 1<<20)
	for {
		if err = ctx.Err(); err != nil {
			break
		}
		var r int
		r, err = in.Read(buf)
		if r > 0 {
			if _, werr := out.Write(buf[:r]); werr != nil {
				err = writeError(werr)
				break
			}
			n(int64(r))
		}
		if err == io.EOF {
			err = nil
			break
		}
		if err != nil {
			err = bareError(err)
			break
		}
	}
	if err == nil {
		err = writeError(out.Sync())
	}
	if cerr := out.Close(); err == nil {
		err = writeError(cerr)
	}
	if err == nil {
		err = bareError(dst.Chtimes(tmp, fi.ModTime(), fi.ModTime()))
	}
	return err
}
