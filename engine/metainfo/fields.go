package metainfo

import (
	"bytes"
	"fmt"

	"github.com/anacrolix/torrent/bencode"
)

// dict is a bencoded dictionary whose values are still raw bencode, so
// that each is type-checked by the field it belongs to and the info
// dictionary's bytes are kept exactly as they appeared.
type dict map[string]bencode.Bytes

// kindOf names the bencode type of a raw value for error messages.
func kindOf(raw []byte) string {
	if len(raw) == 0 {
		return "empty"
	}
	switch c := raw[0]; {
	case c == 'd':
		return "a dictionary"
	case c == 'l':
		return "a list"
	case c == 'i':
		return "an integer"
	case c >= '0' && c <= '9':
		return "a string"
	}
	return "not bencode"
}

// unmarshal decodes raw (already checked by checkBencode) into v.
func unmarshal(raw []byte, v any, what string) error {
	d := bencode.NewDecoder(bytes.NewReader(raw))
	d.MaxDepth = MaxNesting + 1
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrInvalid, what, err)
	}
	return nil
}

// asDict decodes raw as a dictionary named what.
func asDict(raw []byte, what string) (dict, error) {
	if len(raw) == 0 || raw[0] != 'd' {
		return nil, fmt.Errorf("%w: %s is %s, want a dictionary", ErrInvalid, what, kindOf(raw))
	}
	d := dict{}
	if err := unmarshal(raw, &d, what); err != nil {
		return nil, err
	}
	return d, nil
}

// asList decodes raw as a list named what.
func asList(raw []byte, what string) ([]bencode.Bytes, error) {
	if len(raw) == 0 || raw[0] != 'l' {
		return nil, fmt.Errorf("%w: %s is %s, want a list", ErrInvalid, what, kindOf(raw))
	}
	var l []bencode.Bytes
	if err := unmarshal(raw, &l, what); err != nil {
		return nil, err
	}
	return l, nil
}

// asString decodes raw as a byte string named what.
func asString(raw []byte, what string) (string, error) {
	if len(raw) == 0 || raw[0] < '0' || raw[0] > '9' {
		return "", fmt.Errorf("%w: %s is %s, want a string", ErrInvalid, what, kindOf(raw))
	}
	var s string
	if err := unmarshal(raw, &s, what); err != nil {
		return "", err
	}
	return s, nil
}

// asInt decodes raw as an integer named what; one beyond 64 bits is an
// error.
func asInt(raw []byte, what string) (int64, error) {
	if len(raw) == 0 || raw[0] != 'i' {
		return 0, fmt.Errorf("%w: %s is %s, want an integer", ErrInvalid, what, kindOf(raw))
	}
	var n int64
	if err := unmarshal(raw, &n, what); err != nil {
		return 0, fmt.Errorf("%w: %s %s does not fit in 64 bits", ErrInvalid, what, raw[1:len(raw)-1])
	}
	return n, nil
}

// str returns the string under key, and whether it was there.
func (d dict) str(key, what string) (string, bool, error) {
	raw, ok := d[key]
	if !ok {
		return "", false, nil
	}
	s, err := asString(raw, what)
	return s, err == nil, err
}

// integer returns the integer under key, and whether it was there.
func (d dict) integer(key, what string) (int64, bool, error) {
	raw, ok := d[key]
	if !ok {
		return 0, false, nil
	}
	n, err := asInt(raw, what)
	return n, err == nil, err
}

// list returns the list under key, and whether it was there.
func (d dict) list(key, what string) ([]bencode.Bytes, bool, error) {
	raw, ok := d[key]
	if !ok {
		return nil, false, nil
	}
	l, err := asList(raw, what)
	return l, err == nil, err
}

// stringList decodes raw as a list of strings named what.
func stringList(raw []byte, what string) ([]string, error) {
	l, err := asList(raw, what)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(l))
	for i, item := range l {
		if out[i], err = asString(item, fmt.Sprintf("%s[%d]", what, i)); err != nil {
			return nil, err
		}
	}
	return out, nil
}
