package engine

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/publish"
)

// maxStaleFiles bounds the files of dropped versions a follower keeps
// in mind to remove (a publication flooding versions of many files
// cannot grow it).
const maxStaleFiles = 100_000

// staleFile is a file of a version of a followed publication that a
// newer version may no longer have: its folder (the torrent's), its
// path in it (metainfo.Info.SafePaths) and its length in that version.
type staleFile struct {
	dir, path string
	length    int64
}

// versionFiles returns the files of t that exist on disk, as staleFiles.
func versionFiles(t *torrent) []staleFile {
	if t.mi == nil {
		return nil
	}
	paths, err := t.mi.Info.SafePaths()
	if err != nil {
		return nil
	}
	var out []staleFile
	for i, p := range paths {
		if p != "" {
			out = append(out, staleFile{dir: t.dir, path: p, length: t.mi.Info.Files[i].Length})
		}
	}
	return out
}

// supersede is told that the version of torrent old is no longer f's
// current one (Run goroutine). A complete old version keeps seeding, as
// f.prev, until the new one is complete, uploading only the pieces the
// new one leaves intact (restrictPrev: none until its metadata is known);
// an incomplete one (or an older prev) stops now, its files kept in
// f.stale for the cleanup.
func (e *Engine) supersede(f *following, old metainfo.Hash) {
	t := e.torrents[old]
	if t == nil {
		return
	}
	if t.state == StateSeeding && !f.hasPrev {
		f.prev, f.hasPrev = old, true
		e.restrictPrev(f) // until the new version's metadata says what it keeps: nothing
		return
	}
	if len(f.stale) < maxStaleFiles {
		f.stale = append(f.stale, versionFiles(t)...)
	}
	e.removeTorrent(t, false, nil) // its files stay: the new version checks them in place
}

// versionSeeding is told that t has all its pieces (Run goroutine): when
// t is the current version of a followed publication, the version it
// replaced stops seeding now, and the folder is brought to t's files:
// those longer on disk than in t are cut to their length in t at once (a
// file that shrank keeps no stale tail; its pieces were verified on its
// first bytes only), and those of the replaced versions that t does not
// have are removed once the old version has stopped (see removeStale).
func (e *Engine) versionSeeding(t *torrent) {
	if t.mi == nil || len(t.sources) > 0 {
		return
	}
	for _, f := range e.pubs.followed {
		if f.seq == publish.NoVersion || f.ih != t.ih {
			continue
		}
		stale := f.stale
		f.stale = nil
		if err := trimFiles(t.dir, &t.mi.Info); err != nil {
			e.emit(Problem{InfoHash: t.ih.String(), Name: t.name(), Err: fmt.Errorf("trimming the files of the new version: %w", err)})
		}
		tidy := func() {
			if err := removeStale(t.dir, &t.mi.Info, stale); err != nil {
				e.emit(Problem{InfoHash: t.ih.String(), Name: t.name(), Err: fmt.Errorf("removing the files the new version no longer has: %w", err)})
			}
		}
		var prev *torrent
		if f.hasPrev {
			prev = e.torrents[f.prev]
		}
		f.prev, f.hasPrev = metainfo.Hash{}, false
		if prev == nil || prev == t {
			tidy()
			return
		}
		stale = append(stale, versionFiles(prev)...)
		e.removeTorrent(prev, false, tidy)
		e.saveFollows()
		return
	}
}

// trimFiles cuts each file of info under dir that is longer on disk than
// in info to its length, never leaving dir.
func trimFiles(dir string, info *metainfo.Info) error {
	paths, err := info.SafePaths()
	if err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	for i, p := range paths {
		if p == "" {
			continue
		}
		st, err := root.Lstat(p)
		if err != nil || !st.Mode().IsRegular() || st.Size() <= info.Files[i].Length {
			continue
		}
		fh, err := root.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		err = fh.Truncate(info.Files[i].Length)
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// removeStale removes from dir the files of older versions (stale) that
// the version info does not have: only files of those versions, only
// inside dir (never through a symbolic link), and only while a file is
// still a regular file of exactly the length it had in its version. A
// file the user changed since (another length), or put there under a
// name no version had, stays. Folders of those versions left empty go
// too. Stale files of another folder (a version moved elsewhere) are
// left alone.
func removeStale(dir string, info *metainfo.Info, stale []staleFile) error {
	if len(stale) == 0 {
		return nil
	}
	paths, err := info.SafePaths()
	if err != nil {
		return err
	}
	keep := make(map[string]bool, len(paths))
	for _, p := range paths {
		for q := p; q != "" && q != "." && q != string(filepath.Separator); q = filepath.Dir(q) {
			keep[q] = true // the file and each folder on its way
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	var errs []error
	folders := make(map[string]bool)
	for _, s := range stale {
		if s.dir != dir || keep[s.path] {
			continue
		}
		st, err := root.Lstat(s.path)
		if err != nil || !st.Mode().IsRegular() || st.Size() != s.length {
			continue
		}
		if err := root.Remove(s.path); err != nil {
			errs = append(errs, err)
			continue
		}
		for q := filepath.Dir(s.path); q != "." && q != string(filepath.Separator); q = filepath.Dir(q) {
			folders[q] = true
		}
	}
	// The deepest first, so a parent empties when its children go; a
	// folder that still holds anything stays (Remove refuses it).
	order := slices.SortedFunc(maps.Keys(folders), func(a, b string) int { return len(b) - len(a) })
	for _, q := range order {
		if !keep[q] {
			root.Remove(q)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%d files: first %w", len(errs), errs[0])
	}
	return nil
}
