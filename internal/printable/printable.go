// Package printable makes text from torrents, peers, trackers and the
// file system safe to show on a terminal: nothing in it can move the
// cursor, set the window title, start an escape sequence, reorder the
// line (bidirectional overrides) or hide characters from the reader.
//
// String is for text output; JSON is for JSON output, where the same
// characters are escaped instead of replaced so that the data stays exact
// for programs while the bytes stay harmless for terminals. Both are pure
// and safe for concurrent use.
package printable

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Replacement is what String puts in place of each unsafe character.
const Replacement = '\uFFFD'

// Unsafe reports whether r must not reach a terminal as it is:
//   - C0 controls, DEL and C1 controls (U+0080-U+009F, which include the
//     one-character CSI U+009B);
//   - bidirectional controls: embeddings and overrides U+202A-U+202E,
//     isolates U+2066-U+2069, the marks U+200E, U+200F and U+061C;
//   - the line and paragraph separators U+2028 and U+2029;
//   - every other invisible format character (Unicode category Cf: zero
//     width space, word joiner, byte order mark, tag characters...),
//     except the zero width joiner and non-joiner, which emoji sequences
//     and several scripts need to read right.
func Unsafe(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r < 0xa0:
		return true
	case r == 0x200c, r == 0x200d: // ZWNJ, ZWJ
		return false
	case r == 0x2028, r == 0x2029:
		return true
	}
	return r >= 0xad && unicode.Is(unicode.Cf, r)
}

// String returns s with invalid UTF-8 and every Unsafe character replaced
// by U+FFFD. String(String(s)) == String(s).
func String(s string) string {
	if safe(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 || Unsafe(r) {
			b.WriteRune(Replacement)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// safe reports whether s is valid UTF-8 with no Unsafe character.
func safe(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 || Unsafe(r) {
			return false
		}
		i += n
	}
	return true
}

// Strings applies String to each element of ss, in a new slice.
func Strings(ss []string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = String(s)
	}
	return out
}

// JSON returns the encoded JSON text data with every Unsafe character
// from DEL up (encoding/json escapes those below) written as a \u escape
// (a surrogate pair above U+FFFF), and invalid UTF-8 as \ufffd. Outside
// strings valid JSON holds only ASCII, and inside a string an escape
// means the same character, so the result decodes to the same value as
// data when data is valid JSON. The result holds no byte below 0x20 other
// than the whitespace between tokens that data already had. It returns
// data itself when nothing needs escaping.
func JSON(data []byte) []byte {
	clean := true
	for i := 0; i < len(data); {
		c := data[i]
		if c < 0x7f {
			i++
			continue
		}
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 || Unsafe(r) {
			clean = false
			break
		}
		i += n
	}
	if clean {
		return data
	}
	out := make([]byte, 0, len(data)+32)
	for i := 0; i < len(data); {
		c := data[i]
		if c < 0x7f {
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			out = appendEscape(out, Replacement)
		case Unsafe(r):
			out = appendEscape(out, r)
		default:
			out = append(out, data[i:i+n]...)
		}
		i += n
	}
	return out
}

// appendEscape appends r as a JSON \u escape.
func appendEscape(b []byte, r rune) []byte {
	if r > 0xffff {
		r1, r2 := utf16.EncodeRune(r)
		return appendEscape(appendEscape(b, r1), r2)
	}
	s := strconv.FormatInt(int64(r), 16)
	b = append(b, `\u`...)
	for range 4 - len(s) {
		b = append(b, '0')
	}
	return append(b, s...)
}
