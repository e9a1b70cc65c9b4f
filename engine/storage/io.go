package storage

import (
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// span is the part of a torrent-global byte range that lies in one file:
// bytes [lo, hi) of the range are at fileOff in file i.
type span struct {
	i       int
	fileOff int64
	lo, hi  int64
}

// spans splits the global range [off, off+n) into per-file parts, skipping
// zero-length files. The range must lie within the torrent.
func (t *Torrent) spans(off, n int64) []span {
	var out []span
	i := sort.Search(len(t.files), func(k int) bool { return t.files[k].offset+t.files[k].length > off })
	var done int64
	for ; i < len(t.files) && done < n; i++ {
		fe := &t.files[i]
		if fe.length == 0 {
			continue
		}
		fo := off + done - fe.offset
		m := min(fe.length-fo, n-done)
		out = append(out, span{i: i, fileOff: fo, lo: done, hi: done + m})
		done += m
	}
	return out
}

// pieceRange returns the global offset and length of piece index.
func (t *Torrent) pieceRange(index int) (int64, int64) {
	return int64(index) * t.info.PieceLength, t.info.PieceSize(index)
}

// WritePiece writes piece index, which must be complete and verified,
// leaving out the bytes of the files that skip marks (nil, or a list of
// another length than the files: none): a piece shared by a skipped file
// and a wanted one is verified whole in memory, and only the wanted part
// is kept. The caller keeps data and skip; neither is retained. A full
// disk gives an error wrapping ErrNoSpace. The bytes of pad files are not
// written, only checked: when one is not zero, nothing is written and the
// error wraps ErrPadNotZero (the piece hash then covers bytes that a pad
// file cannot hold: the torrent is broken). Errors name the piece and the
// file once: "writing piece 32 to /dl/set/a.bin: no space left on the disk".
func (t *Torrent) WritePiece(index int, data []byte, skip []bool) error {
	if index < 0 || index >= t.info.NumPieces() {
		return fmt.Errorf("writing piece %d: no such piece", index)
	}
	off, size := t.pieceRange(index)
	if int64(len(data)) != size {
		return fmt.Errorf("writing piece %d: %d bytes, want %d", index, len(data), size)
	}
	if len(skip) != len(t.files) {
		skip = nil
	}
	spans := t.spans(off, size)
	for _, s := range spans {
		if t.files[s.i].virtual && !allZero(data[s.lo:s.hi]) {
			return fmt.Errorf("writing piece %d: %w (at byte %d of the piece)", index, ErrPadNotZero, s.lo)
		}
	}
	kept := spans[:0:0]
	for _, s := range spans {
		if skip == nil || !skip[s.i] {
			kept = append(kept, s)
		}
	}
	t.mu.Lock()
	for _, s := range kept {
		t.files[s.i].dataEnd = t.files[s.i].length // written: hash it when verifying
	}
	t.mu.Unlock()
	for _, s := range kept {
		if err := t.writeSpan(s, data[s.lo:s.hi]); err != nil {
			return fmt.Errorf("writing piece %d to %s: %w", index, t.path(s.i), err)
		}
	}
	return nil
}

// writeSpan writes b at s.fileOff in file s.i; pad files are left alone.
// Its errors do not name the file: the caller does.
func (t *Torrent) writeSpan(s span, b []byte) error {
	if t.files[s.i].virtual {
		return nil
	}
	if t.inPlace {
		// Seeding in place hardly ever writes: open for this write only.
		f, err := os.OpenFile(t.path(s.i), os.O_WRONLY, 0)
		if err != nil {
			return writeError(err)
		}
		_, err = f.WriteAt(b, s.fileOff)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return writeError(err)
	}
	f, err := t.acquire(s.i, true)
	if err != nil {
		return writeError(err)
	}
	defer t.release(s.i)
	if err := t.writeMapped(s.i, f, b, s.fileOff); err != errNoMapping {
		return writeError(err)
	}
	fe := &t.files[s.i]
	fe.wmu.Lock()
	_, err = f.WriteAt(b, s.fileOff)
	fe.wmu.Unlock()
	return writeError(err)
}

// writeError returns err without the file name the system put in it
// (the caller names the file), as ErrNoSpace when the disk or quota is
// full.
func writeError(err error) error {
	switch {
	case err == nil:
		return nil
	case isNoSpace(err):
		return ErrNoSpace
	}
	return bareError(err)
}

// bareError strips the operation and path that *fs.PathError and
// *os.LinkError add, for messages that name the file already; errors.Is
// still matches the system error inside (os.ErrPermission...).
func bareError(err error) error {
	switch e := err.(type) {
	case *fs.PathError:
		return e.Err
	case *os.LinkError:
		return e.Err
	}
	return err
}

// ReadAt reads len(p) bytes of the torrent's content starting at the
// global offset off, following io.ReaderAt: fewer bytes come with an
// error, io.EOF at the end of the torrent. A file that is missing or
// shorter than its length gives an error wrapping fs.ErrNotExist or
// io.ErrUnexpectedEOF. The bytes of pad files are zeros.
func (t *Torrent) ReadAt(p []byte, off int64) (int, error) {
	total := t.info.TotalLength
	if off < 0 {
		return 0, fmt.Errorf("reading at %d: negative offset", off)
	}
	if off >= total {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := min(int64(len(p)), total-off)
	var done int
	for _, s := range t.spans(off, n) {
		m, err := t.readSpan(s, p[s.lo:s.hi])
		done += m
		if err != nil {
			return done, err
		}
	}
	if n < int64(len(p)) {
		return done, io.EOF
	}
	return done, nil
}

// readSpan reads b from s.fileOff in file s.i; a pad file reads as zeros.
func (t *Torrent) readSpan(s span, b []byte) (int, error) {
	if t.files[s.i].virtual {
		clear(b)
		return len(b), nil
	}
	f, err := t.acquire(s.i, false)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", t.path(s.i), err)
	}
	m, err := f.ReadAt(b, s.fileOff)
	t.release(s.i)
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF // the file is shorter than the torrent says
	}
	if err != nil {
		return m, fmt.Errorf("reading %s: %w", t.path(s.i), err)
	}
	return m, nil
}

// HashPiece returns the SHA-1 of piece index as it is on disk. A piece
// wholly inside pad files is zeros, hashed once per torrent: a huge pad
// file costs no reading or hashing.
func (t *Torrent) HashPiece(index int) (metainfo.Hash, error) {
	if index < 0 || index >= t.info.NumPieces() {
		return metainfo.Hash{}, fmt.Errorf("hashing piece %d: no such piece", index)
	}
	off, size := t.pieceRange(index)
	if t.info.IsPad(off, size) {
		return t.zeroHash(size), nil
	}
	bp := t.bufs.Get().(*[]byte)
	defer t.bufs.Put(bp)
	b := (*bp)[:size]
	if _, err := t.ReadAt(b, off); err != nil {
		return metainfo.Hash{}, fmt.Errorf("hashing piece %d: %w", index, err)
	}
	return sha1.Sum(b), nil
}

// ErrPadNotZero is wrapped by WritePiece errors for a piece whose bytes in
// a pad file are not all zeros.
var ErrPadNotZero = errors.New("non-zero bytes in a pad file")

// allZero reports whether every byte of b is zero.
func allZero(b []byte) bool {
	for len(b) >= 8 {
		if binary.NativeEndian.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// zeroHash returns the SHA-1 of size zero bytes; that of a whole piece is
// computed once.
func (t *Torrent) zeroHash(size int64) metainfo.Hash {
	if size == t.info.PieceLength {
		t.zeroOnce.Do(func() { t.zeroPiece = hashZeros(size) })
		return t.zeroPiece
	}
	return hashZeros(size)
}

// hashZeros returns the SHA-1 of n zero bytes.
func hashZeros(n int64) metainfo.Hash {
	var zeros [32 << 10]byte
	h := sha1.New()
	for ; n > 0; n -= int64(len(zeros)) {
		h.Write(zeros[:min(n, int64(len(zeros)))])
	}
	return metainfo.Hash(h.Sum(nil))
}
