package krpc

import (
	"errors"
	"fmt"

	"github.com/anacrolix/torrent/bencode"
)

// ErrNotInfoHashValue is wrapped by ParseInfoHashValue's errors.
var ErrNotInfoHashValue = errors.New("not a BEP 46 value")

// InfoHashValue returns the value of a BEP 46 mutable item that points to
// a torrent: the bencoded dictionary {"ih": infoHash}, 29 bytes.
func InfoHashValue(infoHash [20]byte) []byte {
	b := make([]byte, 0, 29)
	b = append(b, "d2:ih20:"...)
	b = append(b, infoHash[:]...)
	return append(b, 'e')
}

// ParseInfoHashValue returns the info hash of a BEP 46 value: a bencoded
// dictionary whose "ih" key holds 20 bytes (other keys are allowed and
// ignored, for later extensions). Any input is safe.
func ParseInfoHashValue(v []byte) ([20]byte, error) {
	var ih [20]byte
	if err := CheckValue(v); err != nil {
		return ih, fmt.Errorf("%w: %w", ErrNotInfoHashValue, err)
	}
	if v[0] != 'd' {
		return ih, fmt.Errorf("%w: not a dictionary", ErrNotInfoHashValue)
	}
	var d struct {
		IH bencode.Bytes `bencode:"ih"`
	}
	if err := bencode.Unmarshal(v, &d); err != nil {
		return ih, fmt.Errorf("%w: %v", ErrNotInfoHashValue, err)
	}
	var raw []byte
	if d.IH == nil || bencode.Unmarshal(d.IH, &raw) != nil {
		return ih, fmt.Errorf("%w: no ih string", ErrNotInfoHashValue)
	}
	if len(raw) != len(ih) {
		return ih, fmt.Errorf("%w: ih of %d bytes, not 20", ErrNotInfoHashValue, len(raw))
	}
	copy(ih[:], raw)
	return ih, nil
}
