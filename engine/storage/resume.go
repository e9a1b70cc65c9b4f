package storage

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/bitfield"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/internal/atomicfile"
)

// Resume records which pieces of a torrent were verified on disk, and what
// its files looked like then, so that a restart can trust those pieces
// while the files are unchanged.
//
// A piece shared by a skipped file and a wanted one is written without
// the skipped file's bytes, so it cannot be hashed from the disk again:
// it is remembered in Partial, verified-partial, and trusted while the
// files it was written to are unchanged and still wanted (see
// TrustedPartial). A re-check without resume data (or after those files
// changed) cannot verify it, and it is downloaded again: at most the two
// pieces at the ends of each skipped run of files.
type Resume struct {
	InfoHash metainfo.Hash
	// Have holds the pieces verified whole on disk; its length is the
	// piece count.
	Have bitfield.Bitfield
	// Partial holds the verified pieces of which only the bytes of
	// wanted files were written (empty: none).
	Partial bitfield.Bitfield
	// Skip marks the files skipped when this was saved (nil: none).
	Skip []bool
	// Files holds one stamp per file of the torrent, in torrent order.
	Files   []FileStamp
	SavedAt time.Time
}

// resumeFile is the JSON form of a Resume.
type resumeFile struct {
	InfoHash string      `json:"info_hash"` // 40 hex digits
	Pieces   int         `json:"pieces"`
	Have     []byte      `json:"have"`              // base64 of the wire bitfield
	Partial  []byte      `json:"partial,omitempty"` // likewise
	Skip     []bool      `json:"skip,omitempty"`
	Files    []FileStamp `json:"files"`
	SavedAt  time.Time   `json:"saved_at"`
}

// ResumePath returns where the resume data of info hash ih is kept under
// the state folder.
func ResumePath(stateDir string, ih metainfo.Hash) string {
	return filepath.Join(stateDir, "resume", ih.String()+".json")
}

// LoadResume reads resume data saved by SaveResume. A damaged file gives
// an error; the caller then verifies everything.
func LoadResume(path string) (*Resume, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading resume data: %w", err)
	}
	r, err := parseResume(data)
	if err != nil {
		return nil, fmt.Errorf("loading resume data %s: %w", path, err)
	}
	return r, nil
}

// SaveResume writes r to path atomically, creating the folder.
func SaveResume(path string, r *Resume) error {
	if r == nil {
		return errors.New("saving resume data: nothing to save")
	}
	data, err := encodeResume(r)
	if err != nil {
		return fmt.Errorf("saving resume data: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("saving resume data: %w", err)
	}
	if err := atomicfile.Write(path, data, 0o644); err != nil {
		return fmt.Errorf("saving resume data: %w", err)
	}
	return nil
}

// encodeResume returns the JSON form of r.
func encodeResume(r *Resume) ([]byte, error) {
	f := resumeFile{
		InfoHash: r.InfoHash.String(),
		Pieces:   r.Have.Len(),
		Have:     r.Have.Bytes(),
		Files:    r.Files,
		SavedAt:  r.SavedAt,
	}
	if r.Partial.Count() > 0 {
		if r.Partial.Len() != r.Have.Len() {
			return nil, fmt.Errorf("partial pieces of %d, have of %d", r.Partial.Len(), r.Have.Len())
		}
		f.Partial = r.Partial.Bytes()
	}
	if len(r.Skip) > 0 {
		if len(r.Skip) != len(r.Files) {
			return nil, fmt.Errorf("%d skip marks for %d files", len(r.Skip), len(r.Files))
		}
		f.Skip = r.Skip
	}
	return json.Marshal(f)
}

// parseResume decodes and checks the JSON form of a Resume.
func parseResume(data []byte) (*Resume, error) {
	var f resumeFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, err
	}
	var r Resume
	if len(f.InfoHash) != 2*len(r.InfoHash) {
		return nil, fmt.Errorf("info hash %q is not 40 hex digits", f.InfoHash)
	}
	if _, err := hex.Decode(r.InfoHash[:], []byte(f.InfoHash)); err != nil {
		return nil, fmt.Errorf("info hash: %w", err)
	}
	if f.Pieces < 0 || f.Pieces > metainfo.MaxPieces {
		return nil, fmt.Errorf("%d pieces", f.Pieces)
	}
	have, err := bitfield.FromBytes(f.Have, f.Pieces)
	if err != nil {
		return nil, err
	}
	partial := bitfield.New(f.Pieces)
	if len(f.Partial) > 0 {
		if partial, err = bitfield.FromBytes(f.Partial, f.Pieces); err != nil {
			return nil, fmt.Errorf("partial pieces: %w", err)
		}
	}
	if len(f.Skip) > 0 && len(f.Skip) != len(f.Files) {
		return nil, fmt.Errorf("%d skip marks for %d files", len(f.Skip), len(f.Files))
	}
	for i, s := range f.Files {
		if s.Size < -1 {
			return nil, fmt.Errorf("file %d has size %d", i, s.Size)
		}
	}
	r.Have, r.Partial, r.Files, r.SavedAt = have, partial, f.Files, f.SavedAt
	if len(f.Skip) > 0 {
		r.Skip = f.Skip
	}
	return &r, nil
}
