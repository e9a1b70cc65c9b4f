// Package peerwire is the BitTorrent peer wire codec: the BEP 3 handshake
// and messages, the BEP 6 fast extension, the BEP 5 PORT message and the
// BEP 10 extension protocol with the BEP 9 (ut_metadata) and BEP 11
// (ut_pex) payloads.
//
// The package is a pure codec. Reader reads from the io.Reader it is given
// and does nothing else; every length is checked before it is allocated.
package peerwire

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// Protocol is the protocol string that opens every handshake.
const Protocol = "BitTorrent protocol"

// HandshakeLen is the length of a complete handshake in bytes.
const HandshakeLen = 1 + len(Protocol) + 8 + 20 + 20

// ErrProtocol is wrapped by every error that reports a peer breaking the
// protocol (as opposed to a failing connection).
var ErrProtocol = errors.New("peer protocol error")

// Handshake is the BEP 3 handshake. The zero value announces no
// extensions.
type Handshake struct {
	Reserved [8]byte
	InfoHash metainfo.Hash
	PeerID   [20]byte
}

// Reserved-bit positions used by Swarmdrop.
const (
	reservedExtended = 5 // byte 5, 0x10: BEP 10
	reservedFast     = 7 // byte 7, 0x04: BEP 6
	reservedDHT      = 7 // byte 7, 0x01: BEP 5
)

// NewHandshake returns a handshake announcing the DHT, the fast extension
// and the extension protocol.
func NewHandshake(infoHash metainfo.Hash, peerID [20]byte) Handshake {
	h := Handshake{InfoHash: infoHash, PeerID: peerID}
	h.Reserved[reservedExtended] |= 0x10
	h.Reserved[reservedFast] |= 0x04
	h.Reserved[reservedDHT] |= 0x01
	return h
}

// DHT reports whether the peer runs a DHT node (BEP 5).
func (h Handshake) DHT() bool { return h.Reserved[reservedDHT]&0x01 != 0 }

// Fast reports whether the peer supports the fast extension (BEP 6).
func (h Handshake) Fast() bool { return h.Reserved[reservedFast]&0x04 != 0 }

// Extended reports whether the peer supports the extension protocol (BEP 10).
func (h Handshake) Extended() bool { return h.Reserved[reservedExtended]&0x10 != 0 }

// AppendHandshake appends the encoded handshake h to dst.
func AppendHandshake(dst []byte, h Handshake) []byte {
	dst = append(dst, byte(len(Protocol)))
	dst = append(dst, Protocol...)
	dst = append(dst, h.Reserved[:]...)
	dst = append(dst, h.InfoHash[:]...)
	return append(dst, h.PeerID[:]...)
}

// ReadHandshakeStart reads the first part of a handshake, up to and
// including the info hash, so that a listener can route the connection
// before answering.
func ReadHandshakeStart(r io.Reader) (reserved [8]byte, infoHash metainfo.Hash, err error) {
	var b [1 + len(Protocol) + 8 + 20]byte
	if _, err = io.ReadFull(r, b[:]); err != nil {
		return reserved, infoHash, fmt.Errorf("reading handshake: %w", err)
	}
	if b[0] != byte(len(Protocol)) || !bytes.Equal(b[1:1+len(Protocol)], []byte(Protocol)) {
		return reserved, infoHash, fmt.Errorf("%w: not a BitTorrent handshake", ErrProtocol)
	}
	copy(reserved[:], b[1+len(Protocol):])
	copy(infoHash[:], b[1+len(Protocol)+8:])
	return reserved, infoHash, nil
}

// ReadPeerID reads the 20-byte peer ID that ends a handshake.
func ReadPeerID(r io.Reader) (id [20]byte, err error) {
	if _, err = io.ReadFull(r, id[:]); err != nil {
		return id, fmt.Errorf("reading peer ID: %w", err)
	}
	return id, nil
}

// ReadHandshake reads a complete handshake.
func ReadHandshake(r io.Reader) (Handshake, error) {
	var h Handshake
	var err error
	h.Reserved, h.InfoHash, err = ReadHandshakeStart(r)
	if err != nil {
		return h, err
	}
	h.PeerID, err = ReadPeerID(r)
	return h, err
}
