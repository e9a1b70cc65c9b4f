package utp

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Type is a packet's type, the high nibble of its first byte.
type Type uint8

// The packet types of BEP 29.
const (
	TypeData  Type = 0 // payload
	TypeFin   Type = 1 // the sender's last sequence number: end of its stream
	TypeState Type = 2 // an acknowledgement, with no payload and no sequence number of its own
	TypeReset Type = 3 // the connection is gone
	TypeSyn   Type = 4 // opens a connection
)

func (t Type) String() string {
	switch t {
	case TypeData:
		return "DATA"
	case TypeFin:
		return "FIN"
	case TypeState:
		return "STATE"
	case TypeReset:
		return "RESET"
	case TypeSyn:
		return "SYN"
	}
	return fmt.Sprintf("type %d", uint8(t))
}

// Version is the only protocol version (the low nibble of the first byte).
const Version = 1

// HeaderLen is the size of the fixed header.
const HeaderLen = 20

// Extension types. libtorrent sends a close reason (3); others are
// skipped.
const (
	extNone         = 0
	extSelectiveAck = 1
	extCloseReason  = 3
)

// Errors of Parse; each is wrapped with details.
var (
	ErrShort     = errors.New("uTP packet shorter than its header")
	ErrVersion   = errors.New("not uTP version 1")
	ErrType      = errors.New("unknown uTP packet type")
	ErrExtension = errors.New("malformed uTP extension")
)

// Header is a decoded packet header with the extensions Swarmdrop reads.
type Header struct {
	Type          Type
	ConnID        uint16
	Timestamp     uint32 // the sender's clock in microseconds when it sent the packet
	TimestampDiff uint32 // the sender's clock minus the Timestamp of the last packet it received
	Wnd           uint32 // bytes the sender can still buffer
	Seq, Ack      uint16
	// SACK is the selective-ACK bitmask: bit i (least significant first
	// within each byte) reports that packet Ack+2+i arrived. nil when
	// absent; from Parse it aliases the packet.
	SACK []byte
	// CloseReason is libtorrent's close-reason code (extension 3); 0 when
	// absent.
	CloseReason uint16
}

// Looks reports whether b can be a uTP packet: a full header, version 1
// and a known type. It is the test a UDP demultiplexer applies.
func Looks(b []byte) bool {
	return len(b) >= HeaderLen && b[0]&0x0f == Version && Type(b[0]>>4) <= TypeSyn
}

// Parse decodes the header and extensions of packet b and returns the
// payload that follows them. The payload and Header.SACK alias b.
// Unknown extensions are skipped; a malformed chain is an error.
func Parse(b []byte) (Header, []byte, error) {
	var h Header
	if len(b) < HeaderLen {
		return h, nil, fmt.Errorf("%w: %d bytes", ErrShort, len(b))
	}
	if v := b[0] & 0x0f; v != Version {
		return h, nil, fmt.Errorf("%w: version %d", ErrVersion, v)
	}
	h.Type = Type(b[0] >> 4)
	if h.Type > TypeSyn {
		return h, nil, fmt.Errorf("%w: %d", ErrType, h.Type)
	}
	h.ConnID = binary.BigEndian.Uint16(b[2:])
	h.Timestamp = binary.BigEndian.Uint32(b[4:])
	h.TimestampDiff = binary.BigEndian.Uint32(b[8:])
	h.Wnd = binary.BigEndian.Uint32(b[12:])
	h.Seq = binary.BigEndian.Uint16(b[16:])
	h.Ack = binary.BigEndian.Uint16(b[18:])
	ext := b[1]
	rest := b[HeaderLen:]
	for ext != extNone {
		if len(rest) < 2 {
			return h, nil, fmt.Errorf("%w: extension %d cut short", ErrExtension, ext)
		}
		next, n := rest[0], int(rest[1])
		if len(rest) < 2+n {
			return h, nil, fmt.Errorf("%w: extension %d of %d bytes, %d left", ErrExtension, ext, n, len(rest)-2)
		}
		body := rest[2 : 2+n : 2+n]
		switch ext {
		case extSelectiveAck:
			if h.SACK == nil && n > 0 {
				h.SACK = body
			}
		case extCloseReason:
			if n == 4 {
				h.CloseReason = binary.BigEndian.Uint16(body[2:])
			}
		}
		rest = rest[2+n:]
		ext = next
	}
	return h, rest, nil
}

// Len is the encoded size of h, extensions included.
func (h Header) Len() int {
	n := HeaderLen
	if len(h.SACK) > 0 {
		n += 2 + len(h.SACK)
	}
	if h.CloseReason != 0 {
		n += 6
	}
	return n
}

// Append appends the encoded header of h, with a selective-ACK extension
// when h.SACK is not empty (at most 255 bytes are written) and a close
// reason when it is not 0.
func (h Header) Append(dst []byte) []byte {
	first := byte(extNone)
	sack := h.SACK
	if len(sack) > 255 {
		sack = sack[:255]
	}
	switch {
	case len(sack) > 0:
		first = extSelectiveAck
	case h.CloseReason != 0:
		first = extCloseReason
	}
	dst = append(dst, byte(h.Type)<<4|Version, first)
	dst = binary.BigEndian.AppendUint16(dst, h.ConnID)
	dst = binary.BigEndian.AppendUint32(dst, h.Timestamp)
	dst = binary.BigEndian.AppendUint32(dst, h.TimestampDiff)
	dst = binary.BigEndian.AppendUint32(dst, h.Wnd)
	dst = binary.BigEndian.AppendUint16(dst, h.Seq)
	dst = binary.BigEndian.AppendUint16(dst, h.Ack)
	if len(sack) > 0 {
		next := byte(extNone)
		if h.CloseReason != 0 {
			next = extCloseReason
		}
		dst = append(dst, next, byte(len(sack)))
		dst = append(dst, sack...)
	}
	if h.CloseReason != 0 {
		dst = append(dst, extNone, 4, 0, 0)
		dst = binary.BigEndian.AppendUint16(dst, h.CloseReason)
	}
	return dst
}

// seqLess reports whether sequence number a comes before b, with
// wrap-around: of the two distances between them, the shorter decides.
func seqLess(a, b uint16) bool { return int16(a-b) < 0 }

// seqDiff returns a-b as a signed distance in the circular order.
func seqDiff(a, b uint16) int { return int(int16(a - b)) }
