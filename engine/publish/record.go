package publish

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/internal/atomicfile"
)

// maxRecordFile bounds what LoadRecord reads.
const maxRecordFile = 64 << 10

// ErrBadRecord is wrapped by LoadRecord's errors when the file is not a
// publication record.
var ErrBadRecord = errors.New("not a publication record")

// Record is what a publisher keeps of one publication between runs, so
// that publishing the same folder again makes its next version: where the
// key is, the salt, the last sequence number and info hash put, and the
// piece length of the first version (kept by every later one, so that
// unchanged files keep their pieces and a follower keeps their data).
type Record struct {
	// Path is the absolute path of the folder (or file) published.
	Path string `json:"path"`
	// KeyFile is the path of the publication's key file (see LoadKey).
	KeyFile string `json:"key_file"`
	// Salt tells apart the publications of one key (BEP 46 `s`).
	Salt HexBytes `json:"salt"`
	// Seq is the sequence number of the last version put; InfoHash its
	// torrent's info hash (40 hex digits), "" before the first put.
	Seq      int64  `json:"seq"`
	InfoHash string `json:"info_hash"`
	// PieceLength is the piece length of every version.
	PieceLength int64 `json:"piece_length"`
}

// HexBytes is a byte string written in JSON as hex digits.
type HexBytes []byte

// MarshalText writes the bytes in hex.
func (h HexBytes) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(h)), nil }

// UnmarshalText reads hex digits.
func (h *HexBytes) UnmarshalText(b []byte) error {
	v, err := hex.DecodeString(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// RecordFiles returns where the record and the default key of the
// publication of path (an absolute path) live under stateDir: in
// stateDir/publications, named by a hash of the path.
func RecordFiles(stateDir, path string) (record, key string) {
	sum := sha1.Sum([]byte(path))
	base := filepath.Join(stateDir, "publications", hex.EncodeToString(sum[:8]))
	return base + ".json", base + ".key"
}

// LoadRecord reads a record file. A missing file gives an error matching
// fs.ErrNotExist.
func LoadRecord(file string) (*Record, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("reading publication record: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRecordFile+1))
	if err != nil {
		return nil, fmt.Errorf("reading publication record: %w", err)
	}
	r, err := ParseRecord(data)
	if err != nil {
		return nil, fmt.Errorf("reading publication record %s: %w", file, err)
	}
	return r, nil
}

// ParseRecord reads a record file's content and checks its fields. Any
// input is safe.
func ParseRecord(data []byte) (*Record, error) {
	if len(data) > maxRecordFile {
		return nil, fmt.Errorf("%w: over %d bytes", ErrBadRecord, maxRecordFile)
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRecord, err)
	}
	switch {
	case r.Path == "" || r.KeyFile == "":
		return nil, fmt.Errorf("%w: no path or no key file", ErrBadRecord)
	case len(r.Salt) > metainfo.MaxSaltLen:
		return nil, fmt.Errorf("%w: salt of %d bytes", ErrBadRecord, len(r.Salt))
	case r.Seq < 0:
		return nil, fmt.Errorf("%w: negative seq", ErrBadRecord)
	case r.PieceLength < 0:
		return nil, fmt.Errorf("%w: negative piece length", ErrBadRecord)
	}
	if r.InfoHash != "" {
		if b, err := hex.DecodeString(r.InfoHash); err != nil || len(b) != 20 {
			return nil, fmt.Errorf("%w: info hash %q", ErrBadRecord, r.InfoHash)
		}
	}
	return &r, nil
}

// Save writes the record to file atomically (its folder made if
// missing), readable by its owner only.
func (r *Record) Save(file string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("saving publication record: %w", err)
	}
	return atomicfile.Write(file, append(data, '\n'), 0o600)
}

// Link returns the BEP 46 link of the publication of key and salt, with
// name as its display name.
func Link(key ed25519.PrivateKey, salt []byte, name string) *metainfo.MutableMagnet {
	m := &metainfo.MutableMagnet{Salt: salt, Name: name}
	copy(m.PublicKey[:], key.Public().(ed25519.PublicKey))
	return m
}

// Open returns the record of the publication of path (an absolute path)
// kept under stateDir, a new one for a first version, with the file it
// is saved in, and its key. keyFile, when not "", is the key file to use
// from now on (made there if missing: a way to choose where the key
// lives, or to import one); otherwise the record's, or for a new
// publication a new key of its own next to the record. salt, when not
// empty, replaces the record's; a new publication without one is salted
// with the base name of path (cut to MaxSaltLen bytes). Nothing is saved:
// a missing key file gets a new key, written by SaveKey once the
// publication is sure to go ahead (a cancelled one leaves no key behind).
func Open(stateDir, path, keyFile string, salt []byte) (*Record, string, ed25519.PrivateKey, error) {
	if len(salt) > metainfo.MaxSaltLen {
		return nil, "", nil, fmt.Errorf("salt of %d bytes, at most %d", len(salt), metainfo.MaxSaltLen)
	}
	recFile, defKey := RecordFiles(stateDir, path)
	rec, err := LoadRecord(recFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		rec = &Record{Path: path, KeyFile: defKey}
	case err != nil:
		return nil, "", nil, fmt.Errorf("%w (remove it to publish %s anew)", err, path)
	}
	if keyFile != "" {
		if rec.KeyFile, err = filepath.Abs(keyFile); err != nil {
			return nil, "", nil, err
		}
	}
	key, err := LoadKey(rec.KeyFile)
	if errors.Is(err, fs.ErrNotExist) {
		_, key, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil {
		return nil, "", nil, err
	}
	switch {
	case len(salt) > 0:
		rec.Salt = salt
	case len(rec.Salt) == 0:
		name := filepath.Base(path)
		if len(name) > metainfo.MaxSaltLen {
			name = name[:metainfo.MaxSaltLen]
		}
		rec.Salt = []byte(name)
	}
	return rec, recFile, key, nil
}
