package main

import (
	"crypto/rand"
	"crypto/sha1"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/bitfield"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/storage"
)

// smallPiece is the piece length of the small torrents.
const smallPiece = 16 << 10

// bigSize and bigPiece are the size and piece length of the one large,
// sparse torrent: 64 GiB of zeros in 4,096 pieces.
const (
	bigSize  = 64 << 30
	bigPiece = 16 << 20
)

// content is what both clients seed: the data folder and the folder of
// .torrent files, with the large torrent's info hash.
type content struct {
	data, torrents string
	count          int // torrents in all, the large one included
	big            *metainfo.MetaInfo
}

// makeContent writes n small files of 16-80 KiB of random bytes and one
// sparse 64 GiB file of zeros under dir/data, and a trackerless .torrent
// for each under dir/torrents. The large torrent's piece hashes are those
// of a piece of zeros (hashed once), so nothing reads 64 GiB.
func makeContent(dir string, n int) (*content, error) {
	c := &content{data: filepath.Join(dir, "data"), torrents: filepath.Join(dir, "torrents"), count: n + 1}
	for _, d := range []string{c.data, c.torrents} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	buf := make([]byte, 80<<10)
	for i := range n {
		size := 16<<10 + (i*4099)%(64<<10) // 16-80 KiB, not piece-aligned
		b := buf[:size]
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		name := fmt.Sprintf("small-%04d.bin", i)
		if err := os.WriteFile(filepath.Join(c.data, name), b, 0o644); err != nil {
			return nil, err
		}
		var pieces []byte
		for off := 0; off < size; off += smallPiece {
			h := sha1.Sum(b[off:min(off+smallPiece, size)])
			pieces = append(pieces, h[:]...)
		}
		if _, err := writeTorrent(c.torrents, name, smallPiece, pieces, int64(size)); err != nil {
			return nil, err
		}
	}
	name := "big-64GiB.bin"
	f, err := os.Create(filepath.Join(c.data, name))
	if err != nil {
		return nil, err
	}
	err = f.Truncate(bigSize)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("making the sparse file: %w", err)
	}
	zero := sha1.Sum(make([]byte, bigPiece))
	var pieces []byte
	for range bigSize / bigPiece {
		pieces = append(pieces, zero[:]...)
	}
	c.big, err = writeTorrent(c.torrents, name, bigPiece, pieces, bigSize)
	return c, err
}

// writeTorrent writes dir/NAME.torrent for a single file.
func writeTorrent(dir, name string, pieceLen int64, pieces []byte, size int64) (*metainfo.MetaInfo, error) {
	mi, err := metainfo.New(&metainfo.Info{Name: name, PieceLength: pieceLen, Pieces: pieces, TotalLength: size})
	if err != nil {
		return nil, err
	}
	mi.CreatedBy = "bench-scale"
	raw, err := mi.Encode()
	if err != nil {
		return nil, err
	}
	return mi, os.WriteFile(filepath.Join(dir, name+".torrent"), raw, 0o644)
}

// trustBig writes resume data for the large torrent under stateDir, as a
// client that verified it earlier would have left: every piece verified,
// with the file's size and time as they are now. (Verifying 64 GiB would
// take minutes; with it, the first start trusts the file.)
func (c *content) trustBig(stateDir string) error {
	st, err := storage.Open(c.data, &c.big.Info)
	if err != nil {
		return err
	}
	stamps := st.Stamps()
	if err := st.Close(); err != nil {
		return err
	}
	have := bitfield.New(c.big.Info.NumPieces())
	have.SetAll()
	r := &storage.Resume{InfoHash: c.big.InfoHash, Have: have, Files: stamps, SavedAt: time.Now()}
	return storage.SaveResume(storage.ResumePath(stateDir, c.big.InfoHash), r)
}
