// Package metainfo reads and writes .torrent files (BEP 3, 5, 12, 27) and
// magnet links (BEP 9), validates them strictly, and turns torrent paths into
// file system paths that cannot escape a download folder.
//
// The package is a pure codec: it does no I/O beyond the bytes a caller
// hands it. All functions are safe for concurrent use; values are not
// modified after they are returned.
package metainfo

import (
	"encoding/hex"
	"errors"
)

// Limits applied by Parse. They bound what a hostile file can make us
// allocate; real torrents are far below each of them.
const (
	MaxTorrentSize = 10 << 20  // bytes of a whole .torrent file
	MaxPieceLength = 128 << 20 // bytes per piece
	MaxPieces      = 2097152   // pieces per torrent
	MaxNesting     = 100       // nested lists and dicts
	MaxPathBytes   = 255       // bytes per path component after sanitising
)

// ErrInvalid is wrapped by every error that reports a malformed torrent or
// magnet link, so callers can tell bad input from other failures.
var ErrInvalid = errors.New("invalid torrent")

// Hash is a SHA-1 digest: an info hash or a piece hash.
type Hash [20]byte

// String returns the hash as 40 lower-case hex digits.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether every byte of h is zero.
func (h Hash) IsZero() bool { return h == Hash{} }

// File is one file of a torrent's content, in torrent order.
type File struct {
	// Path holds the path components as the torrent names them (the
	// .utf-8 variants preferred), before any sanitising. For a single-file
	// torrent it is []string{Info.Name}.
	Path []string
	// Length is the file's size in bytes.
	Length int64
	// Offset is where the file starts in the torrent's concatenated data.
	Offset int64
	// Pad marks a BEP 47 padding file (attr "p", or a BitComet
	// "_____padding_file_" name): zeros that only make the next file
	// start on a piece boundary. Its bytes count as zeros in the piece
	// hashes; it is never written to disk and has no path there.
	Pad bool
	// Executable and Hidden are the BEP 47 attributes "x" and "h".
	Executable, Hidden bool
	// Symlink is the target of a BEP 47 symbolic link (attr "l" with a
	// "symlink path"), as components relative to the torrent's root, and
	// nil for every other file. A link takes no bytes of the content
	// (Length is 0) and is never created on disk.
	Symlink []string
}

// OnDisk reports whether the file exists on disk once downloaded: every
// file but pad files and symbolic links.
func (f *File) OnDisk() bool { return !f.Pad && f.Symlink == nil }

// Info is the validated content of a torrent's info dictionary.
type Info struct {
	// Name is the suggested name of the file (single-file) or folder.
	Name string
	// PieceLength is the nominal size of every piece but the last.
	PieceLength int64
	// Pieces holds the concatenated 20-byte SHA-1 hashes of all pieces.
	Pieces []byte
	// Files lists the content in torrent order, with offsets, pad files
	// included (see File.Pad; VisibleFiles leaves them out). A
	// single-file torrent has exactly one entry whose Path is [Name].
	Files []File
	// MultiFile is true when the info dict has a `files` list.
	MultiFile bool
	// Private is the BEP 27 flag: only the torrent's trackers may be used.
	Private bool
	// TotalLength is the sum of all file lengths, pad files included:
	// the size of the byte space the pieces cover (see ContentLength).
	TotalLength int64
}

// NumPieces returns the number of pieces.
func (i *Info) NumPieces() int { return len(i.Pieces) / 20 }

// PieceHash returns the expected SHA-1 of piece n.
func (i *Info) PieceHash(n int) (h Hash) {
	copy(h[:], i.Pieces[n*20:n*20+20])
	return h
}

// PieceSize returns the length of piece n; only the last may be shorter.
func (i *Info) PieceSize(n int) int64 {
	if n == i.NumPieces()-1 {
		if r := i.TotalLength - int64(n)*i.PieceLength; r > 0 {
			return r
		}
	}
	return i.PieceLength
}

// MetaInfo is a parsed .torrent file.
type MetaInfo struct {
	Info Info
	// InfoBytes is the bencoded info dictionary exactly as it appeared in
	// the file; InfoHash is its SHA-1.
	InfoBytes []byte
	InfoHash  Hash
	// Announce is the single tracker URL of BEP 3; AnnounceList the
	// tiers of BEP 12. Both are empty for a trackerless torrent.
	Announce     string
	AnnounceList [][]string
	// Nodes are the BEP 5 DHT contacts of a trackerless torrent.
	Nodes []Node
	// URLList holds BEP 19 web seed URLs (kept, not yet used).
	URLList      []string
	Comment      string
	CreatedBy    string
	CreationDate int64 // seconds since the Unix epoch; 0 when absent
}

// Magnet is a parsed magnet link (BEP 9).
type Magnet struct {
	InfoHash Hash
	// Name is the display name (`dn`), possibly empty.
	Name string
	// Trackers are the `tr` parameters in order.
	Trackers []string
	// Peers are the `x.pe` parameters as host:port strings.
	Peers []string
}
