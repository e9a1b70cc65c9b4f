// Package storage keeps a torrent's content on the file system: it maps
// pieces onto the torrent's files, writes verified pieces, reads blocks for
// uploading, checks what is already on disk, and records which pieces were
// verified (resume data) so a restart need not hash everything again.
//
// Files of a download live under one folder and are reached only through an
// os.Root, so no path and no symbolic link planted in that folder can make
// a write land outside it.
package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// ErrNoSpace is wrapped by write errors caused by a full disk or an
// exhausted quota.
var ErrNoSpace = errors.New("no space left on the disk")

// maxOpenFiles bounds the file handles one Torrent keeps open; idle ones
// are closed when more are needed.
const maxOpenFiles = 128

// FileStamp is what a file looked like at some moment: its size in bytes
// (-1 when it did not exist) and its modification time in Unix nanoseconds.
type FileStamp struct {
	Size    int64 `json:"size"`
	ModTime int64 `json:"mtime"`
}

// fileEntry is one file of the torrent and its cached handle.
type fileEntry struct {
	// name is the path relative to Torrent.dir, or the absolute source
	// path of a torrent opened with OpenFiles.
	name           string
	offset, length int64
	// virtual marks a BEP 47 pad file or a symbolic link: nothing on
	// disk, never opened; its bytes read as zeros and may only be
	// written as zeros (see metainfo.File.OnDisk).
	virtual bool
	// wmu serialises writes to the file: the kernel takes the file's lock
	// for each buffered write anyway, and threads that contend for it
	// spin, burning the CPU the hashers and the network need.
	wmu sync.Mutex

	// Guarded by Torrent.mu.
	// dataEnd is where the bytes that existed before Open end: Open
	// extends new and short files with zeros (sparse), and a piece lying
	// partly in such a region cannot be on disk, so Verify skips it
	// without reading. A write to the file moves it to the end.
	dataEnd int64
	noMap   bool // written with pwrite only (the file system cannot fallocate)
	f       *os.File
	dirty   bool   // written since the last fsync
	users   int    // ReadAt/WritePiece calls using f right now
	used    uint64 // Torrent.tick at the last use, for eviction
}

// Torrent is the content of one torrent on disk. It is safe for concurrent
// use: WritePiece, ReadAt, HashPiece, Verify, Sync and Stamps may be called
// from many goroutines.
type Torrent struct {
	info    *metainfo.Info
	dir     string // download folder; "" for OpenFiles
	inPlace bool   // opened with OpenFiles: the files are the user's
	files   []fileEntry
	maxOpen int
	bufs    sync.Pool // *[]byte of PieceLength bytes

	zeroOnce  sync.Once
	zeroPiece metainfo.Hash // SHA-1 of PieceLength zeros, set by zeroOnce

	mu      sync.Mutex // guards root, closed, syncErr, openIdx, tick, skip and the guarded fields of files
	root    *os.Root   // the download folder; nil for OpenFiles or once closed
	skip    []bool     // the files not wanted (nil: none): not created by Open or SetSkipped
	closed  bool
	syncErr error // the first failed fsync; see Sync
	openIdx []int // indexes of files with an open handle
	tick    uint64
}

// Open opens (creating what is missing) the files of info under dir, at the
// paths info.SafePaths gives. New files are sparse: they are extended to
// their length without writing zeros. Zero-length files are created too;
// pad files and symbolic links (BEP 47) never are.
func Open(dir string, info *metainfo.Info) (*Torrent, error) {
	return OpenSkipping(dir, info, nil)
}

// OpenSkipping is Open for a torrent whose files that skip marks (nil:
// none) are not wanted: those are neither created nor extended (one that
// exists is left as it is, and read where it has data). WritePiece
// leaves out their bytes when told to; SetSkipped changes the choice.
func OpenSkipping(dir string, info *metainfo.Info, skip []bool) (*Torrent, error) {
	if info == nil {
		return nil, errors.New("opening storage: no torrent info")
	}
	paths, err := info.SafePaths()
	if err != nil {
		return nil, fmt.Errorf("opening storage in %s: %w", dir, err)
	}
	return openPaths(dir, info, paths, skip)
}

// openPaths is OpenSkipping with the relative paths given.
func openPaths(dir string, info *metainfo.Info, paths []string, skip []bool) (*Torrent, error) {
	if err := checkLayout(info, len(paths)); err != nil {
		return nil, fmt.Errorf("opening storage in %s: %w", dir, err)
	}
	if len(skip) != len(info.Files) {
		skip = nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("opening storage: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("opening storage: %w", err)
	}
	t := newTorrent(info, paths)
	t.dir, t.root, t.skip = dir, root, slices.Clone(skip)
	for i := range t.files {
		fe := &t.files[i]
		if fe.virtual {
			continue
		}
		if skip != nil && skip[i] {
			fe.dataEnd = existingSize(root, fe.name, fe.length)
			continue
		}
		old, err := prepareFile(root, fe.name, fe.length)
		if err != nil {
			root.Close()
			return nil, fmt.Errorf("opening storage: %s: %w", filepath.Join(dir, fe.name), bareError(err))
		}
		fe.dataEnd = min(old, fe.length)
	}
	return t, nil
}

// existingSize returns the size of the regular file rel under root, at
// most length; 0 when it is missing or not a regular file.
func existingSize(root *os.Root, rel string, length int64) int64 {
	fi, err := root.Lstat(rel)
	if err != nil || !fi.Mode().IsRegular() {
		return 0
	}
	return min(fi.Size(), length)
}

// SetSkipped changes which files are not wanted (nil: none). Files
// wanted now that were skipped are created and extended, as Open does;
// nothing is deleted. For a torrent opened with OpenFiles it only
// records the choice.
func (t *Torrent) SetSkipped(skip []bool) error {
	if len(skip) != len(t.files) {
		skip = nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return os.ErrClosed
	}
	old := t.skip
	t.skip = slices.Clone(skip)
	if t.inPlace {
		return nil
	}
	for i := range t.files {
		fe := &t.files[i]
		if fe.virtual || old == nil || !old[i] || (skip != nil && skip[i]) {
			continue
		}
		before, err := prepareFile(t.root, fe.name, fe.length)
		if err != nil {
			return fmt.Errorf("creating %s: %w", filepath.Join(t.dir, fe.name), bareError(err))
		}
		fe.dataEnd = min(fe.dataEnd, before)
	}
	return nil
}

// OpenFiles opens existing files for seeding in place: paths[i] holds the
// content of info.Files[i] (ignored for pad files and links, which have
// none). Nothing is created; files are opened read-only, and only for the
// rare WritePiece (repairing a piece) opened for writing.
func OpenFiles(paths []string, info *metainfo.Info) (*Torrent, error) {
	if err := checkLayout(info, len(paths)); err != nil {
		return nil, fmt.Errorf("opening files for seeding: %w", err)
	}
	t := newTorrent(info, paths)
	t.inPlace = true
	return t, nil
}

func newTorrent(info *metainfo.Info, names []string) *Torrent {
	t := &Torrent{info: info, maxOpen: maxOpenFiles, files: make([]fileEntry, len(info.Files))}
	for i, f := range info.Files {
		t.files[i] = fileEntry{name: names[i], offset: f.Offset, length: f.Length, dataEnd: f.Length, virtual: !f.OnDisk()}
		if t.files[i].virtual {
			t.files[i].name = ""
		}
	}
	pl := info.PieceLength
	t.bufs.New = func() any { b := make([]byte, pl); return &b }
	return t
}

// checkLayout makes sure the files tile the torrent and the pieces cover
// it, so that offset arithmetic elsewhere cannot go wrong.
func checkLayout(info *metainfo.Info, npaths int) error {
	switch {
	case info == nil:
		return errors.New("no torrent info")
	case npaths != len(info.Files):
		return fmt.Errorf("%d paths for %d files", npaths, len(info.Files))
	case info.PieceLength <= 0:
		return fmt.Errorf("piece length %d", info.PieceLength)
	case len(info.Pieces)%20 != 0:
		return fmt.Errorf("piece hashes of %d bytes", len(info.Pieces))
	}
	var sum int64
	for i, f := range info.Files {
		if f.Length < 0 || f.Offset != sum || sum+f.Length < sum {
			return fmt.Errorf("file %d has offset %d and length %d", i, f.Offset, f.Length)
		}
		sum += f.Length
	}
	if sum != info.TotalLength {
		return fmt.Errorf("files add up to %d bytes, not %d", sum, info.TotalLength)
	}
	want := sum / info.PieceLength
	if sum%info.PieceLength != 0 {
		want++
	}
	if int64(info.NumPieces()) != want {
		return fmt.Errorf("%d pieces for %d bytes in pieces of %d", info.NumPieces(), sum, info.PieceLength)
	}
	return nil
}

// prepareFile creates the file rel (and its folders) under root if
// missing, refusing symbolic links on the way, and extends it to length.
// It returns the file's size before (0 when it was created).
func prepareFile(root *os.Root, rel string, length int64) (int64, error) {
	if !filepath.IsLocal(rel) {
		return 0, errors.New("path leaves the download folder")
	}
	parts := strings.Split(rel, string(filepath.Separator))
	for k := 1; k <= len(parts); k++ {
		p := filepath.Join(parts[:k]...)
		fi, err := root.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			break
		}
		if err != nil {
			return 0, err
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			return 0, fmt.Errorf("refusing to go through %s: it is a symbolic link", p)
		case k < len(parts) && !fi.IsDir():
			return 0, fmt.Errorf("%s is not a folder", p)
		case k == len(parts) && !fi.Mode().IsRegular():
			return 0, errors.New("not a regular file")
		}
	}
	if d := filepath.Dir(rel); d != "." {
		if err := root.MkdirAll(d, 0o755); err != nil {
			return 0, err
		}
	}
	f, err := root.OpenFile(rel, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return 0, err
	}
	var old int64
	fi, err := f.Stat()
	if err == nil {
		old = fi.Size()
		if old < length {
			err = f.Truncate(length)
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return old, err
}

// path returns the file system path of file i, for messages and for
// OpenFiles torrents.
func (t *Torrent) path(i int) string {
	if t.inPlace {
		return t.files[i].name
	}
	return filepath.Join(t.dir, t.files[i].name)
}

// Stamps returns the current size and modification time of each file, in
// torrent order; a missing file has Size -1, a pad file or link (nothing
// on disk) the zero FileStamp.
func (t *Torrent) Stamps() []FileStamp {
	out := make([]FileStamp, len(t.files))
	var root *os.Root
	if !t.inPlace {
		// A root of its own: Stamps may run while Close closes t.root.
		r, err := os.OpenRoot(t.dir)
		if err == nil {
			root = r
			defer r.Close()
		}
	}
	for i := range t.files {
		if t.files[i].virtual {
			continue
		}
		var fi fs.FileInfo
		err := errors.New("no download folder")
		if t.inPlace {
			fi, err = os.Stat(t.files[i].name)
		} else if root != nil {
			fi, err = root.Stat(t.files[i].name)
		}
		if err != nil || !fi.Mode().IsRegular() {
			out[i] = FileStamp{Size: -1}
			continue
		}
		out[i] = FileStamp{Size: fi.Size(), ModTime: fi.ModTime().UnixNano()}
	}
	return out
}

// Close fsyncs written files and closes them. Calls after the first do
// nothing. A Torrent cannot be used after Close, except for Remove, Stamps
// and Sync (which then has nothing to do).
func (t *Torrent) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	var first error
	for _, i := range append([]int(nil), t.openIdx...) {
		if t.files[i].users == 0 {
			if err := t.closeFileLocked(i); err != nil && first == nil {
				first = err
			}
		}
	}
	if t.root != nil {
		t.root.Close()
		t.root = nil
	}
	return first
}

// Remove closes the torrent and deletes its files under the download
// folder, then the folders on their paths that are left empty. It never
// deletes the download folder itself nor anything outside it. For a
// torrent opened with OpenFiles it only closes: those files are the user's.
func (t *Torrent) Remove() error {
	err := t.Close()
	if t.inPlace {
		return err
	}
	names := make([]string, 0, len(t.files))
	for i := range t.files {
		if !t.files[i].virtual {
			names = append(names, t.files[i].name)
		}
	}
	if rerr := removeUnder(t.dir, names); err == nil {
		err = rerr
	}
	return err
}

// RemoveFiles deletes the files of info under dir (at the paths
// info.SafePaths gives) and the folders on their paths left empty, like
// Remove, without opening or creating anything. Call it only once every
// Torrent open on those files is closed.
func RemoveFiles(dir string, info *metainfo.Info) error {
	paths, err := info.SafePaths()
	if err != nil {
		return fmt.Errorf("removing files: %w", err)
	}
	return removeUnder(dir, paths)
}

// removeUnder deletes the files names (relative to dir) and then the
// folders on their paths that are left empty.
func removeUnder(dir string, names []string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("removing files: %w", err)
	}
	defer root.Close()
	folders := map[string]bool{}
	for _, name := range names {
		if name == "" { // a pad file or a link: never on disk
			continue
		}
		if e := root.Remove(name); e != nil && !errors.Is(e, fs.ErrNotExist) && err == nil {
			err = fmt.Errorf("removing %s: %w", filepath.Join(dir, name), e)
		}
		for d := filepath.Dir(name); d != "." && d != string(filepath.Separator); d = filepath.Dir(d) {
			folders[d] = true
		}
	}
	order := make([]string, 0, len(folders))
	for d := range folders {
		order = append(order, d)
	}
	// Deepest first, so a parent is empty by the time it is tried.
	sort.Slice(order, func(a, b int) bool {
		return strings.Count(order[a], string(filepath.Separator)) > strings.Count(order[b], string(filepath.Separator))
	})
	for _, d := range order {
		root.Remove(d) // fails, as it should, when something else is inside
	}
	return err
}
