package peerwire

import (
	"encoding/binary"
	"fmt"
)

// ID is a message type.
type ID uint8

// Message IDs of BEP 3, BEP 5, BEP 6 and BEP 10.
const (
	Choke         ID = 0
	Unchoke       ID = 1
	Interested    ID = 2
	NotInterested ID = 3
	Have          ID = 4
	Bitfield      ID = 5
	Request       ID = 6
	Piece         ID = 7
	Cancel        ID = 8
	Port          ID = 9
	Suggest       ID = 13
	HaveAll       ID = 14
	HaveNone      ID = 15
	Reject        ID = 16
	AllowedFast   ID = 17
	Extended      ID = 20
)

// BlockSize is the size of a requested block (the last of a piece may be
// shorter).
const BlockSize = 16 << 10

// MaxBlockLength is the largest block a peer may request or send.
const MaxBlockLength = 128 << 10

// maxExtended bounds an extended message (BEP 9 metadata pieces are 16 KiB
// plus a small dictionary).
const maxExtended = 1 << 20

// maxUnknown bounds a message of a type this package does not know.
const maxUnknown = 1 << 17

// String names the message type.
func (id ID) String() string {
	switch id {
	case Choke:
		return "choke"
	case Unchoke:
		return "unchoke"
	case Interested:
		return "interested"
	case NotInterested:
		return "not interested"
	case Have:
		return "have"
	case Bitfield:
		return "bitfield"
	case Request:
		return "request"
	case Piece:
		return "piece"
	case Cancel:
		return "cancel"
	case Port:
		return "port"
	case Suggest:
		return "suggest"
	case HaveAll:
		return "have all"
	case HaveNone:
		return "have none"
	case Reject:
		return "reject"
	case AllowedFast:
		return "allowed fast"
	case Extended:
		return "extended"
	}
	return fmt.Sprintf("message %d", uint8(id))
}

// Message is one peer wire message. Which fields are meaningful depends on
// ID: Index for have, suggest and allowed fast; Index, Begin and Length for
// request, cancel and reject; Index, Begin and Block for piece; Bitfield;
// Port; ExtID and ExtPayload for extended. Keepalive marks the empty
// keep-alive message, for which ID is meaningless.
type Message struct {
	Keepalive  bool
	ID         ID
	Index      uint32
	Begin      uint32
	Length     uint32
	Bitfield   []byte
	Block      []byte
	Port       uint16
	ExtID      uint8
	ExtPayload []byte
}

// AppendMessage appends the encoded message m to dst.
func AppendMessage(dst []byte, m Message) []byte {
	if m.Keepalive {
		return binary.BigEndian.AppendUint32(dst, 0)
	}
	switch m.ID {
	case Choke, Unchoke, Interested, NotInterested, HaveAll, HaveNone:
		dst = binary.BigEndian.AppendUint32(dst, 1)
		return append(dst, byte(m.ID))
	case Have, Suggest, AllowedFast:
		dst = binary.BigEndian.AppendUint32(dst, 5)
		dst = append(dst, byte(m.ID))
		return binary.BigEndian.AppendUint32(dst, m.Index)
	case Request, Cancel, Reject:
		dst = binary.BigEndian.AppendUint32(dst, 13)
		dst = append(dst, byte(m.ID))
		dst = binary.BigEndian.AppendUint32(dst, m.Index)
		dst = binary.BigEndian.AppendUint32(dst, m.Begin)
		return binary.BigEndian.AppendUint32(dst, m.Length)
	case Bitfield:
		dst = binary.BigEndian.AppendUint32(dst, uint32(1+len(m.Bitfield)))
		dst = append(dst, byte(m.ID))
		return append(dst, m.Bitfield...)
	case Piece:
		dst = AppendPieceHeader(dst, m.Index, m.Begin, len(m.Block))
		return append(dst, m.Block...)
	case Port:
		dst = binary.BigEndian.AppendUint32(dst, 3)
		dst = append(dst, byte(m.ID))
		return binary.BigEndian.AppendUint16(dst, m.Port)
	case Extended:
		dst = binary.BigEndian.AppendUint32(dst, uint32(2+len(m.ExtPayload)))
		dst = append(dst, byte(m.ID), m.ExtID)
		return append(dst, m.ExtPayload...)
	}
	panic(fmt.Sprintf("peerwire: AppendMessage of unknown %v", m.ID))
}

// EncodedLen returns how many bytes AppendMessage appends for m.
func EncodedLen(m Message) int {
	if m.Keepalive {
		return 4
	}
	switch m.ID {
	case Choke, Unchoke, Interested, NotInterested, HaveAll, HaveNone:
		return 5
	case Have, Suggest, AllowedFast:
		return 9
	case Request, Cancel, Reject:
		return 17
	case Bitfield:
		return 5 + len(m.Bitfield)
	case Piece:
		return 13 + len(m.Block)
	case Port:
		return 7
	case Extended:
		return 6 + len(m.ExtPayload)
	}
	panic(fmt.Sprintf("peerwire: EncodedLen of unknown %v", m.ID))
}

// AppendPieceHeader appends the 13-byte header of a piece message carrying
// a block of length bytes; the caller appends the block itself.
func AppendPieceHeader(dst []byte, index, begin uint32, length int) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(9+length))
	dst = append(dst, byte(Piece))
	dst = binary.BigEndian.AppendUint32(dst, index)
	return binary.BigEndian.AppendUint32(dst, begin)
}
