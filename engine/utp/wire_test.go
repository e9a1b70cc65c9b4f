package utp

import (
	"bytes"
	"crypto/sha1"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/peerwire"
)

// The smallest BitTorrent peer that proves a transport: enough of the
// peer wire (engine/peerwire) to download every piece of a torrent from a
// seeder, or to seed one, over any net.Conn. The full peer logic lives in
// engine/swarm; these tests are about the connection underneath.

var testPeerID = [20]byte{'-', 'S', 'W', '0', '1', '0', '0', '-', 'u', 't', 'p', 't', 'e', 's', 't', '0', '1', '2', '3', '4'}

// fetchAll downloads every piece of mi over c (we dial, so we send our
// handshake first), checks each piece's SHA-1 and returns the content.
func fetchAll(c net.Conn, mi *metainfo.MetaInfo, timeout time.Duration) ([]byte, error) {
	c.SetDeadline(time.Now().Add(timeout))
	defer c.SetDeadline(time.Time{})
	info := &mi.Info
	out := peerwire.AppendHandshake(nil, peerwire.NewHandshake(mi.InfoHash, testPeerID))
	out = peerwire.AppendMessage(out, peerwire.Message{ID: peerwire.Interested})
	if _, err := c.Write(out); err != nil {
		return nil, fmt.Errorf("sending the handshake: %w", err)
	}
	hs, err := peerwire.ReadHandshake(c)
	if err != nil {
		return nil, fmt.Errorf("reading the handshake: %w", err)
	}
	if hs.InfoHash != mi.InfoHash {
		return nil, fmt.Errorf("the peer answered for torrent %v", hs.InfoHash)
	}
	data := make([]byte, info.TotalLength)
	type block struct{ index, begin, length uint32 }
	var blocks []block
	for i := range info.NumPieces() {
		size := info.PieceSize(i)
		for b := int64(0); b < size; b += peerwire.BlockSize {
			blocks = append(blocks, block{uint32(i), uint32(b), uint32(min(peerwire.BlockSize, size-b))})
		}
	}
	left := make([]int64, info.NumPieces())
	for i := range left {
		left[i] = info.PieceSize(i)
	}
	r := peerwire.NewReader(c, info.NumPieces())
	next, pending, done, unchoked := 0, 0, 0, false
	for done < info.NumPieces() {
		if unchoked && pending < 64 && next < len(blocks) {
			var req []byte
			for ; pending < 64 && next < len(blocks); next, pending = next+1, pending+1 {
				b := blocks[next]
				req = peerwire.AppendMessage(req, peerwire.Message{ID: peerwire.Request, Index: b.index, Begin: b.begin, Length: b.length})
			}
			if _, err := c.Write(req); err != nil {
				return nil, fmt.Errorf("sending requests: %w", err)
			}
		}
		m, err := r.ReadMessage()
		if err != nil {
			return nil, fmt.Errorf("after %d of %d pieces: %w", done, info.NumPieces(), err)
		}
		switch {
		case m.Keepalive:
		case m.ID == peerwire.Unchoke:
			unchoked = true
		case m.ID == peerwire.Choke:
			return nil, fmt.Errorf("choked after %d pieces", done)
		case m.ID == peerwire.Piece:
			off := int64(m.Index)*info.PieceLength + int64(m.Begin)
			if off+int64(len(m.Block)) > int64(len(data)) {
				return nil, fmt.Errorf("piece %d at %d is out of range", m.Index, m.Begin)
			}
			copy(data[off:], m.Block)
			pending--
			left[m.Index] -= int64(len(m.Block))
			if left[m.Index] == 0 {
				start := int64(m.Index) * info.PieceLength
				if sha1.Sum(data[start:start+info.PieceSize(int(m.Index))]) != info.PieceHash(int(m.Index)) {
					return nil, fmt.Errorf("piece %d fails its hash", m.Index)
				}
				done++
			}
		case m.ID == peerwire.Reject:
			return nil, fmt.Errorf("request %d/%d rejected", m.Index, m.Begin)
		}
	}
	return data, nil
}

// seedAll answers a downloader on c (it dialed, so its handshake comes
// first) with blocks of data until it goes away; it returns the bytes of
// blocks sent.
func seedAll(c net.Conn, mi *metainfo.MetaInfo, data []byte, timeout time.Duration) (int64, error) {
	c.SetDeadline(time.Now().Add(timeout))
	hs, err := peerwire.ReadHandshake(c)
	if err != nil {
		return 0, fmt.Errorf("reading the handshake: %w", err)
	}
	if hs.InfoHash != mi.InfoHash {
		return 0, fmt.Errorf("a handshake for torrent %v", hs.InfoHash)
	}
	n := mi.Info.NumPieces()
	bits := bytes.Repeat([]byte{0xff}, (n+7)/8)
	if n%8 != 0 {
		bits[len(bits)-1] = byte(0xff << (8 - n%8))
	}
	out := peerwire.AppendHandshake(nil, peerwire.NewHandshake(mi.InfoHash, testPeerID))
	if hs.Extended() {
		ext := peerwire.ExtHandshake{M: map[string]int{}, V: "Swarmdrop uTP test"}
		out = peerwire.AppendMessage(out, peerwire.Message{ID: peerwire.Extended, ExtPayload: ext.Encode()})
	}
	if hs.Fast() {
		out = peerwire.AppendMessage(out, peerwire.Message{ID: peerwire.HaveAll})
	} else {
		out = peerwire.AppendMessage(out, peerwire.Message{ID: peerwire.Bitfield, Bitfield: bits})
	}
	out = peerwire.AppendMessage(out, peerwire.Message{ID: peerwire.Unchoke})
	if _, err := c.Write(out); err != nil {
		return 0, fmt.Errorf("sending the handshake: %w", err)
	}
	r := peerwire.NewReader(c, n)
	var sent int64
	for {
		m, err := r.ReadMessage()
		if err == io.EOF {
			return sent, nil
		}
		if err != nil {
			return sent, err
		}
		if !m.Keepalive && m.ID == peerwire.Interested {
			// Some clients only count an unchoke that follows their
			// interest.
			if _, err := c.Write(peerwire.AppendMessage(nil, peerwire.Message{ID: peerwire.Unchoke})); err != nil {
				return sent, err
			}
		}
		if m.Keepalive || m.ID != peerwire.Request {
			continue
		}
		off := int64(m.Index)*mi.Info.PieceLength + int64(m.Begin)
		if off+int64(m.Length) > int64(len(data)) {
			return sent, fmt.Errorf("request out of range: %d/%d/%d", m.Index, m.Begin, m.Length)
		}
		block := peerwire.AppendMessage(nil, peerwire.Message{ID: peerwire.Piece, Index: m.Index, Begin: m.Begin, Block: data[off : off+int64(m.Length)]})
		if _, err := c.Write(block); err != nil {
			return sent, err
		}
		sent += int64(m.Length)
	}
}
