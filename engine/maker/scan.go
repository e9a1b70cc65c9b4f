// Package maker turns files and folders into torrents: it scans the paths,
// picks a piece length, hashes the pieces on all cores and builds the
// metainfo, trackerless by default (a `nodes` key, BEP 5).
package maker

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// PlanFile is one file a torrent will hold.
type PlanFile struct {
	// Source is the file's path on disk.
	Source string
	// Path is its path inside the torrent, as components.
	Path   []string
	Length int64
	// Executable is true when the file's owner may execute it (BEP 47
	// attr "x", as libtorrent sets it).
	Executable bool
	// Pad marks a BEP 47 pad file that MakePlan inserts: zeros with no
	// Source.
	Pad bool
}

// Plan is what a torrent of some paths holds, found without hashing.
type Plan struct {
	Name string
	// Files in torrent order: byte-wise sorted relative paths, as
	// mktorrent orders them.
	Files []PlanFile
	Total int64
	// MultiFile is false for a torrent of one plain file.
	MultiFile bool
	// PieceLength is the automatic choice for Total.
	PieceLength int64
}

// Scan finds the files under paths. One file makes a single-file torrent,
// one folder a multi-file torrent named after it, several paths a
// multi-file torrent named after their common parent; name, when not
// empty, replaces the chosen name. Empty files are kept, empty folders
// skipped; symbolic links are followed except into a folder already being
// walked. Every file is opened once to check it can be read.
func Scan(paths []string, name string) (*Plan, error) {
	if len(paths) == 0 {
		return nil, errors.New("nothing to make a torrent of")
	}
	abs := make([]string, len(paths))
	for i, p := range paths {
		a, err := filepath.Abs(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		abs[i] = filepath.Clean(a)
	}
	plan := &Plan{}
	var base string // folder the torrent paths are relative to
	if len(abs) == 1 {
		fi, err := os.Stat(abs[0])
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", paths[0], unwrapPath(err))
		}
		plan.Name = filepath.Base(abs[0])
		if !fi.IsDir() {
			if !fi.Mode().IsRegular() {
				return nil, fmt.Errorf("%s is not a regular file", paths[0])
			}
			if err := checkReadable(abs[0]); err != nil {
				return nil, err
			}
			plan.Files = []PlanFile{{Source: abs[0], Path: []string{plan.Name}, Length: fi.Size(), Executable: fi.Mode()&0o100 != 0}}
			plan.Total = fi.Size()
			if name != "" {
				plan.Name = name
				plan.Files[0].Path = []string{name}
			}
			plan.PieceLength = AutoPieceLength(plan.Total)
			return plan, nil
		}
		base = abs[0]
	} else {
		base = CommonParent(abs)
		plan.Name = filepath.Base(base)
	}
	if name != "" {
		plan.Name = name
	}
	if plan.Name == "" || plan.Name == "/" || plan.Name == "." {
		return nil, errors.New("cannot name the torrent after the root folder: give a name")
	}
	plan.MultiFile = true
	seen := map[string]bool{}
	for _, a := range abs {
		if err := walk(a, base, plan, nil, seen); err != nil {
			return nil, err
		}
	}
	if len(plan.Files) == 0 {
		return nil, fmt.Errorf("%s holds no files", strings.Join(paths, ", "))
	}
	sort.Slice(plan.Files, func(i, j int) bool {
		return strings.Join(plan.Files[i].Path, "/") < strings.Join(plan.Files[j].Path, "/")
	})
	for _, f := range plan.Files {
		plan.Total += f.Length
	}
	plan.PieceLength = AutoPieceLength(plan.Total)
	return plan, nil
}

// walk adds the files at path (a file or a folder, links followed) to
// plan, with torrent paths relative to base. ancestors holds the folders
// being walked, compared with os.SameFile (device and inode on Unix,
// volume and file index on Windows) to stop link loops; seen holds the
// torrent paths already added.
func walk(path, base string, plan *Plan, ancestors []fs.FileInfo, seen map[string]bool) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, unwrapPath(err))
	}
	switch {
	case fi.IsDir():
		for _, a := range ancestors {
			if os.SameFile(a, fi) {
				return nil // a link back into a folder being walked
			}
		}
		ancestors = append(ancestors, fi)
		entries, err := os.ReadDir(path)
		if err != nil {
			return fmt.Errorf("reading folder %s: %w", path, unwrapPath(err))
		}
		for _, e := range entries {
			if err := walk(filepath.Join(path, e.Name()), base, plan, ancestors, seen); err != nil {
				return err
			}
		}
		return nil
	case fi.Mode().IsRegular():
		rel, err := filepath.Rel(base, path)
		if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
			return fmt.Errorf("%s is not inside %s", path, base)
		}
		key := filepath.ToSlash(rel)
		if seen[key] {
			return nil // given twice
		}
		if err := checkReadable(path); err != nil {
			return err
		}
		seen[key] = true
		plan.Files = append(plan.Files, PlanFile{Source: path, Path: strings.Split(key, "/"), Length: fi.Size(), Executable: fi.Mode()&0o100 != 0})
		return nil
	}
	return nil // sockets, devices, fifos: not content
}

// checkReadable opens path once so that an unreadable file is named now,
// not halfway through hashing.
func checkReadable(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", path, unwrapPath(err))
	}
	return f.Close()
}

// unwrapPath drops the *PathError wrapper whose path we name ourselves.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// CommonParent returns the deepest folder holding every path (absolute,
// clean paths).
func CommonParent(paths []string) string {
	parent := filepath.Dir(paths[0])
	for _, p := range paths[1:] {
		for !within(p, parent) {
			parent = filepath.Dir(parent)
		}
	}
	return parent
}

func within(p, dir string) bool {
	if dir == string(filepath.Separator) {
		return true
	}
	return strings.HasPrefix(p, dir+string(filepath.Separator))
}

// Piece length bounds.
const (
	MinPieceLength = 16 << 10
	MaxPieceLength = 16 << 20
)

// AutoPieceLength picks a power-of-two piece length giving about 1,000 to
// 2,000 pieces for total bytes, within MinPieceLength..MaxPieceLength.
func AutoPieceLength(total int64) int64 {
	pl := int64(MinPieceLength)
	for pl < MaxPieceLength && total/pl > 2000 {
		pl *= 2
	}
	return pl
}

// ValidPieceLength checks a piece length the user chose.
func ValidPieceLength(pl int64) error {
	if pl < MinPieceLength || pl > MaxPieceLength || pl&(pl-1) != 0 {
		return fmt.Errorf("piece length %d: must be a power of two from 16 KiB to 16 MiB", pl)
	}
	return nil
}
