package metainfo

import (
	"bytes"
	"fmt"
)

// scanContainer is one open list or dict while checkBencode walks.
type scanContainer struct {
	dict bool
	// wantValue is true in a dict after a key has been read.
	wantValue bool
	// keys holds the dict's keys seen so far, to refuse duplicates.
	keys map[string]struct{}
}

// checkBencode walks data once, without recursion, and reports the first
// problem: bad syntax, a non-canonical integer or string length, a dict
// key that is not a string or appears twice, nesting deeper than
// MaxNesting, or bytes after the value. Only input that passes is handed
// to the reflection decoder, so hostile input cannot exhaust the stack or
// be read two different ways.
func checkBencode(data []byte) error {
	var stack []scanContainer
	pos := 0
	started := false
	for {
		if started && len(stack) == 0 {
			if pos != len(data) {
				return bencodeErr(pos, "%d bytes after the end of the value", len(data)-pos)
			}
			return nil
		}
		if pos >= len(data) {
			return bencodeErr(pos, "unexpected end of data")
		}
		started = true
		c := data[pos]
		var top *scanContainer
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		if c == 'e' && top != nil {
			if top.dict && top.wantValue {
				return bencodeErr(pos, "dictionary key without a value")
			}
			stack = stack[:len(stack)-1]
			pos++
			if len(stack) > 0 {
				afterValue(&stack[len(stack)-1])
			}
			continue
		}
		isKey := top != nil && top.dict && !top.wantValue
		if isKey && (c < '0' || c > '9') {
			return bencodeErr(pos, "dictionary key is not a string")
		}
		switch {
		case c == 'd' || c == 'l':
			if len(stack) >= MaxNesting {
				return bencodeErr(pos, "nested deeper than %d levels", MaxNesting)
			}
			stack = append(stack, scanContainer{dict: c == 'd'})
			pos++
		case c == 'i':
			end, err := scanInt(data, pos)
			if err != nil {
				return err
			}
			pos = end
			if top != nil {
				afterValue(top)
			}
		case c >= '0' && c <= '9':
			start, end, err := scanString(data, pos)
			if err != nil {
				return err
			}
			if isKey {
				if top.keys == nil {
					top.keys = make(map[string]struct{})
				}
				k := string(data[start:end])
				if _, dup := top.keys[k]; dup {
					return bencodeErr(pos, "dictionary key %q appears twice", k)
				}
				top.keys[k] = struct{}{}
				top.wantValue = true
			} else if top != nil {
				afterValue(top)
			}
			pos = end
		default:
			return bencodeErr(pos, "unexpected byte %q", c)
		}
	}
}

// afterValue records that a complete value was read inside c.
func afterValue(c *scanContainer) {
	if c.dict {
		c.wantValue = false
	}
}

// scanInt checks the integer starting at data[pos] ('i') and returns the
// offset just past its 'e'.
func scanInt(data []byte, pos int) (int, error) {
	end := bytes.IndexByte(data[pos:], 'e')
	if end < 0 {
		return 0, bencodeErr(pos, "unterminated integer")
	}
	digits := data[pos+1 : pos+end]
	neg := len(digits) > 0 && digits[0] == '-'
	if neg {
		digits = digits[1:]
	}
	if len(digits) == 0 {
		return 0, bencodeErr(pos, "integer without digits")
	}
	for _, d := range digits {
		if d < '0' || d > '9' {
			return 0, bencodeErr(pos, "integer has a non-digit %q", d)
		}
	}
	if digits[0] == '0' && (len(digits) > 1 || neg) {
		return 0, bencodeErr(pos, "integer %q is not in canonical form", data[pos+1:pos+end])
	}
	return pos + end + 1, nil
}

// scanString checks the string starting at data[pos] (its length) and
// returns the bounds of its bytes.
func scanString(data []byte, pos int) (start, end int, err error) {
	colon := bytes.IndexByte(data[pos:], ':')
	if colon < 0 {
		return 0, 0, bencodeErr(pos, "string length without ':'")
	}
	digits := data[pos : pos+colon]
	if len(digits) > 1 && digits[0] == '0' {
		return 0, 0, bencodeErr(pos, "string length %q has a leading zero", digits)
	}
	n := 0
	for _, d := range digits {
		if d < '0' || d > '9' {
			return 0, 0, bencodeErr(pos, "string length has a non-digit %q", d)
		}
		n = n*10 + int(d-'0')
		if n > len(data) {
			return 0, 0, bencodeErr(pos, "string length %s runs past the end of the data", digits)
		}
	}
	start = pos + colon + 1
	if n > len(data)-start {
		return 0, 0, bencodeErr(pos, "string length %d runs past the end of the data", n)
	}
	return start, start + n, nil
}

func bencodeErr(pos int, format string, a ...any) error {
	return fmt.Errorf("%w: bencode at byte %d: %s", ErrInvalid, pos, fmt.Sprintf(format, a...))
}
