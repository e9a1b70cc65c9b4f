package publish

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Existing returns the base names of srcs that dir already holds: what
// CopyInto would replace (a file) or merge into (a folder).
func Existing(dir string, srcs []string) []string {
	var out []string
	for _, s := range srcs {
		name := filepath.Base(s)
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			out = append(out, name)
		}
	}
	return out
}

// CopyInto copies files and folders (srcs) into the folder dir of a
// publication, each under its base name, to be published as its next
// version. A folder is copied with what it holds; onto a folder of the
// same name it is merged. An existing file of the same name (at the top
// or in a merged folder) is replaced only with replace, else the copy
// stops with an error wrapping fs.ErrExist (before anything is written
// when the file is at the top: ask with Existing first); each file is written beside
// its place and renamed into it, so a file is never half replaced.
// Symbolic links and other special files are skipped. A source that is
// dir itself, holds it, or lies inside it is refused.
func CopyInto(dir string, srcs []string, replace bool) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("adding to %s: not a folder", dir)
	}
	srcs = slices.Clone(srcs)
	for i, s := range srcs {
		abs, err := filepath.Abs(s)
		if err != nil {
			return err
		}
		if within(dir, abs) || within(abs, dir) {
			return fmt.Errorf("adding %s to %s: it is inside the publication (or holds it)", s, dir)
		}
		srcs[i] = abs
	}
	if ex := Existing(dir, srcs); len(ex) > 0 && !replace {
		for _, name := range ex {
			if st, err := os.Lstat(filepath.Join(dir, name)); err != nil || !st.IsDir() {
				return fmt.Errorf("adding to %s: %s: %w", dir, name, fs.ErrExist)
			}
		}
	}
	for _, s := range srcs {
		if err := copyTree(s, filepath.Join(dir, filepath.Base(s)), replace); err != nil {
			return fmt.Errorf("adding %s to %s: %w", filepath.Base(s), dir, err)
		}
	}
	return nil
}

// within reports whether path is dir or inside it.
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// copyTree copies src (a file or a folder) to dst.
func copyTree(src, dst string, replace bool) error {
	st, err := os.Lstat(src)
	if err != nil {
		return err
	}
	switch {
	case st.IsDir():
		if err := os.Mkdir(dst, st.Mode().Perm()|0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		if dt, err := os.Lstat(dst); err != nil || !dt.IsDir() {
			return fmt.Errorf("%s exists and is not a folder", dst)
		}
		entries, err := os.ReadDir(src)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := copyTree(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name()), replace); err != nil {
				return err
			}
		}
		return nil
	case st.Mode().IsRegular():
		if dt, err := os.Lstat(dst); err == nil {
			if !replace {
				return fmt.Errorf("%s: %w", dst, fs.ErrExist)
			}
			if !dt.Mode().IsRegular() {
				return fmt.Errorf("%s exists and is not a file", dst)
			}
		}
		return copyFile(src, dst, st.Mode().Perm())
	}
	return nil // a symbolic link, a device...: not published
}

// copyFile copies the file src to a temporary file beside dst, then
// renames it to dst.
func copyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*.part")
	if err != nil {
		return err
	}
	_, err = io.Copy(tmp, in)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), perm)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
