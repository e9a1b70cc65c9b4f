package peerwire

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

// Reader reads messages from a connection. It is not safe for concurrent
// use. The slices of a returned Message (Block, Bitfield, ExtPayload) point
// into the Reader's buffer and are valid only until the next ReadMessage.
//
// A Reader keeps at most readBufferSize bytes between messages (plus its
// bufio buffer): a message larger than that is read into a buffer of its
// own that is dropped afterwards, so that one large message from a peer
// does not pin its size in memory for the life of the connection.
type Reader struct {
	r         *bufio.Reader
	numPieces int
	buf       []byte
}

// NewReader returns a Reader for r. numPieces is the torrent's piece count,
// used to check bitfields; 0 means not known yet (a magnet link).
func NewReader(r io.Reader, numPieces int) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 64<<10), numPieces: numPieces}
}

// SetNumPieces sets the piece count once it becomes known.
func (r *Reader) SetNumPieces(n int) { r.numPieces = n }

// readBufferSize is the largest message body a Reader reuses its buffer
// for: a block (16 KiB) with its header, or a metadata piece with its
// dictionary.
const readBufferSize = 16<<10 + 512

// maxLength returns the largest allowed length prefix for a message type.
func (r *Reader) maxLength(id ID) uint32 {
	switch id {
	case Piece:
		return 9 + MaxBlockLength
	case Bitfield:
		if r.numPieces > 0 {
			return 1 + uint32((r.numPieces+7)/8)
		}
		return 1 + (2097152+7)/8 // metainfo.MaxPieces
	case Extended:
		return maxExtended
	case Choke, Unchoke, Interested, NotInterested, Have, Request, Cancel,
		Port, Suggest, HaveAll, HaveNone, Reject, AllowedFast:
		return 13
	}
	return maxUnknown
}

// ReadMessage reads the next message. A message that is too long for its
// type or malformed returns an error wrapping ErrProtocol without
// allocating for it.
func (r *Reader) ReadMessage() (Message, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r.r, hdr[:]); err != nil {
		return Message{}, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 {
		return Message{Keepalive: true}, nil
	}
	idb, err := r.r.ReadByte()
	if err != nil {
		return Message{}, noEOF(err)
	}
	id := ID(idb)
	if max := r.maxLength(id); n > max {
		return Message{}, fmt.Errorf("%w: %v message of %d bytes (at most %d)", ErrProtocol, id, n, max)
	}
	var body []byte
	switch {
	case int(n-1) > readBufferSize:
		body = make([]byte, n-1) // one-off: not kept
	case cap(r.buf) < int(n-1):
		r.buf = make([]byte, n-1, readBufferSize)
		fallthrough
	default:
		body = r.buf[:n-1]
	}
	if _, err := io.ReadFull(r.r, body); err != nil {
		return Message{}, noEOF(err)
	}
	return parseBody(id, body, r.numPieces)
}

// noEOF turns an end of stream inside a message into ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// ParseMessage decodes one message body (everything after the length
// prefix, starting with the ID byte). numPieces checks bitfields when > 0.
// The returned slices alias body.
func ParseMessage(body []byte, numPieces int) (Message, error) {
	if len(body) == 0 {
		return Message{Keepalive: true}, nil
	}
	return parseBody(ID(body[0]), body[1:], numPieces)
}

func parseBody(id ID, b []byte, numPieces int) (Message, error) {
	m := Message{ID: id}
	bad := func() (Message, error) {
		return Message{}, fmt.Errorf("%w: %v message with %d payload bytes", ErrProtocol, id, len(b))
	}
	switch id {
	case Choke, Unchoke, Interested, NotInterested, HaveAll, HaveNone:
		if len(b) != 0 {
			return bad()
		}
	case Have, Suggest, AllowedFast:
		if len(b) != 4 {
			return bad()
		}
		m.Index = binary.BigEndian.Uint32(b)
	case Request, Cancel, Reject:
		if len(b) != 12 {
			return bad()
		}
		m.Index = binary.BigEndian.Uint32(b)
		m.Begin = binary.BigEndian.Uint32(b[4:])
		m.Length = binary.BigEndian.Uint32(b[8:])
		if m.Length == 0 || m.Length > MaxBlockLength {
			return Message{}, fmt.Errorf("%w: %v of %d bytes", ErrProtocol, id, m.Length)
		}
	case Bitfield:
		if numPieces > 0 {
			if len(b) != (numPieces+7)/8 {
				return Message{}, fmt.Errorf("%w: bitfield of %d bytes for %d pieces", ErrProtocol, len(b), numPieces)
			}
			if r := numPieces % 8; r != 0 && b[len(b)-1]&(0xff>>r) != 0 {
				return Message{}, fmt.Errorf("%w: bitfield has spare bits set", ErrProtocol)
			}
		}
		m.Bitfield = b
	case Piece:
		if len(b) < 8 || len(b)-8 > MaxBlockLength {
			return bad()
		}
		m.Index = binary.BigEndian.Uint32(b)
		m.Begin = binary.BigEndian.Uint32(b[4:])
		m.Block = b[8:]
	case Port:
		if len(b) != 2 {
			return bad()
		}
		m.Port = binary.BigEndian.Uint16(b)
	case Extended:
		if len(b) < 1 {
			return bad()
		}
		m.ExtID = b[0]
		m.ExtPayload = b[1:]
	default:
		// Unknown types (other extensions) are returned without their
		// payload for the caller to ignore.
	}
	return m, nil
}
