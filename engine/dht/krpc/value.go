package krpc

import (
	"bytes"
	"errors"
	"fmt"
)

// maxValueDepth bounds the nesting of lists and dictionaries in a BEP 44
// value: the value sits 2 or 3 levels deep in a message, and the bencode
// decoder of messages stops at 64.
const maxValueDepth = 48

// ErrBadValue is wrapped by CheckValue's errors: the bytes are not one
// well-formed bencoded value.
var ErrBadValue = errors.New("not one bencoded value")

// CheckValue reports whether b is exactly one well-formed bencoded value
// (a BEP 44 item's `v`): a string with a length that fits, an integer
// without leading zeros or "-0" that fits in 64 bits, or a list or
// dictionary (string keys, in strictly ascending order, as bencode asks
// and as the decoder of messages requires) nested at most 48 deep, with
// nothing after it. It does not copy or keep b.
func CheckValue(b []byte) error {
	end, err := scanValue(b, 0, 0)
	if err != nil {
		return err
	}
	if end != len(b) {
		return fmt.Errorf("%w: %d bytes after the value", ErrBadValue, len(b)-end)
	}
	return nil
}

// scanValue checks the value starting at b[i] and returns the index just
// past it.
func scanValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return 0, fmt.Errorf("%w: truncated", ErrBadValue)
	}
	switch c := b[i]; {
	case c == 'i':
		return scanInt(b, i+1)
	case c >= '0' && c <= '9':
		return scanString(b, i)
	case c == 'l' || c == 'd':
		if depth >= maxValueDepth {
			return 0, fmt.Errorf("%w: nested more than %d deep", ErrBadValue, maxValueDepth)
		}
		i++
		var prevKey []byte
		for {
			if i >= len(b) {
				return 0, fmt.Errorf("%w: unterminated %s", ErrBadValue, containerName(c))
			}
			if b[i] == 'e' {
				return i + 1, nil
			}
			var err error
			if c == 'd' {
				if b[i] < '0' || b[i] > '9' {
					return 0, fmt.Errorf("%w: a dictionary key that is not a string", ErrBadValue)
				}
				start := i
				if i, err = scanString(b, i); err != nil {
					return 0, err
				}
				key := b[bytes.IndexByte(b[start:i], ':')+start+1 : i]
				if prevKey != nil && bytes.Compare(key, prevKey) <= 0 {
					return 0, fmt.Errorf("%w: dictionary keys out of order (%q after %q)", ErrBadValue, key, prevKey)
				}
				prevKey = key
			}
			if i, err = scanValue(b, i, depth+1); err != nil {
				return 0, err
			}
		}
	default:
		return 0, fmt.Errorf("%w: unexpected byte %q", ErrBadValue, c)
	}
}

func containerName(c byte) string {
	if c == 'd' {
		return "dictionary"
	}
	return "list"
}

// scanInt checks the digits of an integer after its 'i'.
func scanInt(b []byte, i int) (int, error) {
	start := i
	neg := i < len(b) && b[i] == '-'
	if neg {
		i++
	}
	digits := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	n := i - digits
	switch {
	case i >= len(b) || b[i] != 'e':
		return 0, fmt.Errorf("%w: malformed integer", ErrBadValue)
	case n == 0:
		return 0, fmt.Errorf("%w: integer without digits", ErrBadValue)
	case b[digits] == '0' && (n > 1 || neg):
		return 0, fmt.Errorf("%w: integer %q with a leading zero", ErrBadValue, b[start:i])
	case n > 19 || n == 19 && !fitsInt64(b[digits:i], neg):
		return 0, fmt.Errorf("%w: integer %q beyond 64 bits", ErrBadValue, b[start:i])
	}
	return i + 1, nil
}

// fitsInt64 reports whether the 19 digits d, negated if neg, fit in an
// int64.
func fitsInt64(d []byte, neg bool) bool {
	limit := "9223372036854775807"
	if neg {
		limit = "9223372036854775808"
	}
	return string(d) <= limit
}

// scanString checks a string starting at its length's first digit.
func scanString(b []byte, i int) (int, error) {
	start := i
	n := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		if i-start >= 9 { // (no string of a billion bytes fits in a packet)
			return 0, fmt.Errorf("%w: string length too long", ErrBadValue)
		}
		n = n*10 + int(b[i]-'0')
		i++
	}
	switch {
	case i >= len(b) || b[i] != ':':
		return 0, fmt.Errorf("%w: malformed string length", ErrBadValue)
	case b[start] == '0' && i-start > 1:
		return 0, fmt.Errorf("%w: string length with a leading zero", ErrBadValue)
	case n > len(b)-i-1:
		return 0, fmt.Errorf("%w: string of %d bytes, %d left", ErrBadValue, n, len(b)-i-1)
	}
	return i + 1 + n, nil
}
