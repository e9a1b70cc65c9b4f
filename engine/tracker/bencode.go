package tracker

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/anacrolix/torrent/bencode"
)

// maxSeconds caps intervals read from trackers (about 68 years), so that
// they fit a time.Duration.
const maxSeconds = 1<<31 - 1

// rawValue is one undecoded bencoded value.
type rawValue = bencode.Bytes

// dict is a bencoded dictionary whose values are still undecoded, so that
// each is checked for the type we expect.
type dict map[string]rawValue

// unmarshal decodes b into v, tolerating bytes after the value (some
// trackers end their answer with a newline).
func unmarshal(b []byte, v any) error {
	err := bencode.Unmarshal(b, v)
	var trailing bencode.ErrUnusedTrailingBytes
	if errors.As(err, &trailing) {
		return nil
	}
	return err
}

// str returns the string under key; a missing key is "".
func (d dict) str(key string) (string, error) {
	raw, ok := d[key]
	if !ok {
		return "", nil
	}
	var v any
	if err := unmarshal(raw, &v); err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s: %s where a string was expected", key, typeName(v))
	}
	return s, nil
}

// integer returns the integer under key; a missing key is 0.
func (d dict) integer(key string) (int64, error) {
	raw, ok := d[key]
	if !ok {
		return 0, nil
	}
	var v any
	if err := unmarshal(raw, &v); err != nil {
		return 0, fmt.Errorf("%s: %w", key, err)
	}
	switch n := v.(type) {
	case int64:
		return n, nil
	case *big.Int:
		return 0, fmt.Errorf("%s: integer %s out of range", key, n)
	}
	return 0, fmt.Errorf("%s: %s where an integer was expected", key, typeName(v))
}

// typeName names the bencode type of a decoded value.
func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64, *big.Int:
		return "an integer"
	case []any:
		return "a list"
	case map[string]any:
		return "a dictionary"
	}
	return fmt.Sprintf("%T", v)
}
