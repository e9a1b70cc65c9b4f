package peerwire

import (
	"errors"
	"fmt"

	"github.com/anacrolix/torrent/bencode"
)

// MetadataPieceSize is the size of a BEP 9 metadata piece (the last may be
// shorter).
const MetadataPieceSize = 16 << 10

// MaxMetadataSize is the largest info dictionary we fetch or accept.
const MaxMetadataSize = 30 << 20

// ExtHandshake is the BEP 10 extended handshake. Zero fields are left out
// when encoding.
type ExtHandshake struct {
	// M maps extension names to the message IDs the sender wants to
	// receive them with; 0 disables an extension.
	M map[string]int
	// V is the client's name and version.
	V string
	// P is the sender's TCP listening port.
	P int
	// Reqq is how many outstanding requests the sender accepts.
	Reqq int
	// MetadataSize is the size of the info dictionary (BEP 9).
	MetadataSize int
	// YourIP is the receiver's address as the sender sees it (4 or 16
	// bytes).
	YourIP []byte
	// IPv4 and IPv6 are the sender's own addresses of each family (4 and
	// 16 bytes), at which the receiver may reach it on port P, e.g. over
	// IPv6 when connected over IPv4 (BEP 10).
	IPv4, IPv6 []byte
}

type extHandshakeWire struct {
	M            map[string]int `bencode:"m"`
	V            string         `bencode:"v,omitempty"`
	P            int            `bencode:"p,omitempty"`
	Reqq         int            `bencode:"reqq,omitempty"`
	MetadataSize int            `bencode:"metadata_size,omitempty"`
	YourIP       string         `bencode:"yourip,omitempty"`
	IPv4         string         `bencode:"ipv4,omitempty"`
	IPv6         string         `bencode:"ipv6,omitempty"`
}

// Encode returns the bencoded handshake.
func (h ExtHandshake) Encode() []byte {
	w := extHandshakeWire{M: h.M, V: h.V, P: h.P, Reqq: h.Reqq, MetadataSize: h.MetadataSize, YourIP: string(h.YourIP),
		IPv4: string(h.IPv4), IPv6: string(h.IPv6)}
	if w.M == nil {
		w.M = map[string]int{}
	}
	b, err := bencode.Marshal(w)
	if err != nil {
		panic("peerwire: encoding extended handshake: " + err.Error())
	}
	return b
}

// ParseExtHandshake decodes an extended handshake. Fields of the wrong type
// are an error; out-of-range values are dropped.
func ParseExtHandshake(b []byte) (ExtHandshake, error) {
	var raw map[string]bencode.Bytes
	if err := bencode.Unmarshal(b, &raw); err != nil {
		return ExtHandshake{}, fmt.Errorf("%w: extended handshake: %v", ErrProtocol, err)
	}
	var h ExtHandshake
	if m, ok := raw["m"]; ok {
		var mm map[string]bencode.Bytes
		if err := bencode.Unmarshal(m, &mm); err != nil {
			return ExtHandshake{}, fmt.Errorf("%w: extended handshake m: %v", ErrProtocol, err)
		}
		h.M = make(map[string]int, len(mm))
		for k, v := range mm {
			var id int64
			if bencode.Unmarshal(v, &id) == nil && id >= 0 && id <= 255 {
				h.M[k] = int(id)
			}
		}
	}
	h.V = str(raw["v"], 256)
	h.P = int(integer(raw["p"], 0, 65535))
	h.Reqq = int(integer(raw["reqq"], 0, 1<<16))
	h.MetadataSize = int(integer(raw["metadata_size"], 0, MaxMetadataSize))
	if ip := str(raw["yourip"], 16); len(ip) == 4 || len(ip) == 16 {
		h.YourIP = []byte(ip)
	}
	if ip := str(raw["ipv4"], 4); len(ip) == 4 {
		h.IPv4 = []byte(ip)
	}
	if ip := str(raw["ipv6"], 16); len(ip) == 16 {
		h.IPv6 = []byte(ip)
	}
	return h, nil
}

// str decodes a bencoded string of at most max bytes ("" otherwise).
func str(b bencode.Bytes, max int) string {
	var s string
	if b == nil || bencode.Unmarshal(b, &s) != nil || len(s) > max {
		return ""
	}
	return s
}

// integer decodes a bencoded integer within [lo, hi] (0 otherwise).
func integer(b bencode.Bytes, lo, hi int64) int64 {
	var n int64
	if b == nil || bencode.Unmarshal(b, &n) != nil || n < lo || n > hi {
		return 0
	}
	return n
}

// Metadata message types (BEP 9).
const (
	MetadataRequest = 0
	MetadataData    = 1
	MetadataReject  = 2
)

// MetadataMsg is a BEP 9 ut_metadata message. Data, for a data message,
// follows the dictionary on the wire; it aliases the parsed payload.
type MetadataMsg struct {
	Type      int
	Piece     int
	TotalSize int
	Data      []byte
}

type metadataWire struct {
	Type      int `bencode:"msg_type"`
	Piece     int `bencode:"piece"`
	TotalSize int `bencode:"total_size,omitempty"`
}

// Encode returns the message payload: the dictionary, then Data.
func (m MetadataMsg) Encode() []byte {
	b, err := bencode.Marshal(metadataWire{m.Type, m.Piece, m.TotalSize})
	if err != nil {
		panic("peerwire: encoding metadata message: " + err.Error())
	}
	return append(b, m.Data...)
}

// ParseMetadataMsg decodes a ut_metadata payload.
func ParseMetadataMsg(b []byte) (MetadataMsg, error) {
	var w struct {
		Type      *int64 `bencode:"msg_type"`
		Piece     *int64 `bencode:"piece"`
		TotalSize int64  `bencode:"total_size"`
	}
	var m MetadataMsg
	err := bencode.Unmarshal(b, &w)
	var trailing bencode.ErrUnusedTrailingBytes
	switch {
	case errors.As(err, &trailing):
		m.Data = b[len(b)-trailing.NumUnusedBytes:]
	case err != nil:
		return MetadataMsg{}, fmt.Errorf("%w: ut_metadata: %v", ErrProtocol, err)
	}
	if w.Type == nil || w.Piece == nil {
		return MetadataMsg{}, fmt.Errorf("%w: ut_metadata without msg_type or piece", ErrProtocol)
	}
	if *w.Type < 0 || *w.Type > 2 || *w.Piece < 0 || *w.Piece > MaxMetadataSize/MetadataPieceSize ||
		w.TotalSize < 0 || w.TotalSize > MaxMetadataSize {
		return MetadataMsg{}, fmt.Errorf("%w: ut_metadata type %d piece %d size %d out of range", ErrProtocol, *w.Type, *w.Piece, w.TotalSize)
	}
	m.Type, m.Piece, m.TotalSize = int(*w.Type), int(*w.Piece), int(w.TotalSize)
	if m.Type != MetadataData && len(m.Data) > 0 {
		return MetadataMsg{}, fmt.Errorf("%w: ut_metadata type %d with trailing data", ErrProtocol, m.Type)
	}
	if len(m.Data) > MetadataPieceSize {
		return MetadataMsg{}, fmt.Errorf("%w: ut_metadata piece of %d bytes", ErrProtocol, len(m.Data))
	}
	return m, nil
}
