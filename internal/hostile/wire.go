// Package hostile holds attack clients against a Swarmdrop seeder: peer
// wire floods (ut_metadata requests, block requests while choked or while
// unchoked without reading, idle handshaken connections) and DHT attacks
// (routing table poisoning from one address on many ports, reflection
// probes that weigh each reply against its query). The engine's flood
// tests and `make bench-hostile` share them.
//
// No real client misbehaves on purpose, so these are written here. Every
// attack talks only to the address it is given (loopback in tests and
// benchmarks) and is bounded in count and in time: each takes a context
// and stops at the first of its count limit and the context's end.
package hostile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/peerwire"
)

// Peer describes one hostile peer wire connection to a target.
type Peer struct {
	// Addr is the target's host:port.
	Addr string
	// Local is the source IP address (one of 127.0.0.0/8 on loopback);
	// "" lets the kernel choose.
	Local string
	// InfoHash is the torrent the handshake asks for.
	InfoHash metainfo.Hash
	// ID is the peer ID sent; PeerID makes one.
	ID [20]byte
	// NoFast clears the fast extension bit (BEP 6) of the handshake, so
	// that requests while choked are dropped instead of rejected.
	NoFast bool
}

// PeerID returns a peer ID "-XX0001-" followed by tag, cut or padded with
// dots to 20 bytes. No client table knows -XX.
func PeerID(tag string) [20]byte {
	var id [20]byte
	n := copy(id[:], "-XX0001-"+tag)
	for i := n; i < len(id); i++ {
		id[i] = '.'
	}
	return id
}

// Connect dials the target and exchanges handshakes (extension protocol
// on; fast extension unless NoFast), within 10 s and ctx.
func (p Peer) Connect(ctx context.Context) (net.Conn, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	if p.Local != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(p.Local)}
	}
	c, err := d.DialContext(ctx, "tcp", p.Addr)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	hs := peerwire.NewHandshake(p.InfoHash, p.ID)
	if p.NoFast {
		hs.Reserved[7] &^= 0x04
	}
	if _, err := c.Write(peerwire.AppendHandshake(nil, hs)); err != nil {
		c.Close()
		return nil, err
	}
	if _, err := peerwire.ReadHandshake(c); err != nil {
		c.Close()
		return nil, fmt.Errorf("handshake with %s: %w", p.Addr, err)
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

// ErrNotSeen is returned by Await when the awaited message did not come.
var ErrNotSeen = errors.New("awaited message not received")

// Await reads messages from r until match returns true, for at most
// timeout (it sets and then clears c's read deadline).
func Await(c net.Conn, r *peerwire.Reader, timeout time.Duration, match func(peerwire.Message) bool) (peerwire.Message, error) {
	c.SetReadDeadline(time.Now().Add(timeout))
	defer c.SetReadDeadline(time.Time{})
	for {
		m, err := r.ReadMessage()
		if err != nil {
			return peerwire.Message{}, fmt.Errorf("%w: %v", ErrNotSeen, err)
		}
		if match(m) {
			return m, nil
		}
	}
}

// UTMetadataID reads up to the target's extended handshake and returns
// the message ID it receives ut_metadata with, and the size of its info
// dictionary.
func UTMetadataID(c net.Conn, r *peerwire.Reader, timeout time.Duration) (id uint8, size int, err error) {
	m, err := Await(c, r, timeout, func(m peerwire.Message) bool {
		return !m.Keepalive && m.ID == peerwire.Extended && m.ExtID == 0
	})
	if err != nil {
		return 0, 0, fmt.Errorf("extended handshake: %w", err)
	}
	h, err := peerwire.ParseExtHandshake(m.ExtPayload)
	if err != nil {
		return 0, 0, err
	}
	n := h.M["ut_metadata"]
	if n <= 0 || n > 255 {
		return 0, 0, fmt.Errorf("the target offers no ut_metadata (m = %v)", h.M)
	}
	return uint8(n), h.MetadataSize, nil
}

// AwaitUnchoke sends interested and reads until the target unchokes us.
func AwaitUnchoke(c net.Conn, r *peerwire.Reader, timeout time.Duration) error {
	c.SetWriteDeadline(time.Now().Add(timeout))
	_, err := c.Write(peerwire.AppendMessage(nil, peerwire.Message{ID: peerwire.Interested}))
	c.SetWriteDeadline(time.Time{})
	if err != nil {
		return err
	}
	_, err = Await(c, r, timeout, func(m peerwire.Message) bool { return !m.Keepalive && m.ID == peerwire.Unchoke })
	if err != nil {
		return fmt.Errorf("waiting for an unchoke: %w", err)
	}
	return nil
}

// MetadataRequests returns our extended handshake (ut_metadata as our
// message 3) followed by n ut_metadata requests sent with extID (the
// target's ID for ut_metadata), cycling over pieces metadata pieces.
func MetadataRequests(n, pieces int, extID uint8) []byte {
	ext := peerwire.ExtHandshake{M: map[string]int{"ut_metadata": 3}}
	out := peerwire.AppendMessage(nil, peerwire.Message{ID: peerwire.Extended, ExtID: 0, ExtPayload: ext.Encode()})
	for i := range n {
		req := peerwire.MetadataMsg{Type: peerwire.MetadataRequest, Piece: i % max(pieces, 1)}
		out = peerwire.AppendMessage(out, peerwire.Message{ID: peerwire.Extended, ExtID: extID, ExtPayload: req.Encode()})
	}
	return out
}

// MetadataPieces is the number of 16 KiB metadata pieces of an info
// dictionary of size bytes.
func MetadataPieces(size int) int {
	return (size + peerwire.MetadataPieceSize - 1) / peerwire.MetadataPieceSize
}

// BlockRequests returns n requests for 16 KiB blocks, walking through the
// pieces of a torrent of numPieces pieces of pieceLength bytes (the last
// piece is treated as whole: a request past the end is hostile too).
func BlockRequests(n, numPieces int, pieceLength int64) []byte {
	blocks := max(int(pieceLength/peerwire.BlockSize), 1)
	out := make([]byte, 0, n*17)
	for i := range n {
		piece := (i / blocks) % max(numPieces, 1)
		out = peerwire.AppendMessage(out, peerwire.Message{ID: peerwire.Request, Index: uint32(piece),
			Begin: uint32(i%blocks) * peerwire.BlockSize, Length: peerwire.BlockSize})
	}
	return out
}

// ReadSlowly reads from c at about rate bytes per second until a read
// fails: the connection closed, or nothing came for 30 s (a timeout
// error). It returns the bytes read and the error that ended it.
func ReadSlowly(c net.Conn, rate int) (int64, error) {
	buf := make([]byte, max(rate/10, 1))
	var total int64
	for {
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		n, err := io.ReadFull(c, buf)
		total += int64(n)
		if err != nil {
			return total, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
