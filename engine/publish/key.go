package publish

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/swarmdrop/swarmdrop/internal/atomicfile"
)

// KeyFileMode is the permission of a key file: only its owner reads it.
const KeyFileMode = 0o600

// maxKeyFile bounds what LoadKey reads: a key file is 65 bytes.
const maxKeyFile = 4096

// ErrBadKeyFile is wrapped by the errors of ParseKey and LoadKey when the
// file is not a key file.
var ErrBadKeyFile = errors.New("not a Swarmdrop key file")

// ParseKey reads a key file's content: the 32-byte ed25519 seed as 64 hex
// digits, surrounded by white space or not. This is the whole format, so
// that a key can be moved between machines (exported and imported) by
// copying the file, or its one line. Any input is safe.
func ParseKey(data []byte) (ed25519.PrivateKey, error) {
	s := bytes.TrimSpace(data)
	if len(s) != 2*ed25519.SeedSize {
		return nil, fmt.Errorf("%w: want %d hex digits, found %d bytes", ErrBadKeyFile, 2*ed25519.SeedSize, len(s))
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := hex.Decode(seed, s); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKeyFile, err)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// FormatKey returns the content of key's key file (see ParseKey).
func FormatKey(key ed25519.PrivateKey) []byte {
	return []byte(hex.EncodeToString(key.Seed()) + "\n")
}

// LoadKey reads the key file at path. A file others may read has its
// permission narrowed to KeyFileMode first (a key copied from another
// machine often arrives readable by all).
func LoadKey(path string) (ed25519.PrivateKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading key: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading key: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("reading key %s: %w: not a regular file", path, ErrBadKeyFile)
	}
	if st.Mode().Perm()&^KeyFileMode != 0 {
		if err := os.Chmod(path, KeyFileMode); err != nil {
			return nil, fmt.Errorf("narrowing the permission of key %s: %w", path, err)
		}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("reading key %s: %w", path, err)
	}
	if len(data) > maxKeyFile {
		return nil, fmt.Errorf("reading key %s: %w: over %d bytes", path, ErrBadKeyFile, maxKeyFile)
	}
	key, err := ParseKey(data)
	if err != nil {
		return nil, fmt.Errorf("reading key %s: %w", path, err)
	}
	return key, nil
}

// SaveKey writes key to path as NewKey does, unless path exists already
// (the key Open read from it).
func SaveKey(path string, key ed25519.PrivateKey) error {
	if _, err := os.Lstat(path); err == nil {
		return nil
	}
	return writeKey(path, key)
}

// writeKey writes key to path (its folder made if missing, mode 0700),
// with permission KeyFileMode.
func writeKey(path string, key ed25519.PrivateKey) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("saving key: %w", err)
	}
	if err := atomicfile.Write(path, FormatKey(key), KeyFileMode); err != nil {
		return fmt.Errorf("saving key: %w", err)
	}
	return nil
}

// NewKey makes a new random key and writes it to path (its folder made if
// missing, mode 0700), with permission KeyFileMode. It refuses to replace
// an existing file.
func NewKey(path string) (ed25519.PrivateKey, error) {
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("making key: %s already exists", path)
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("making key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("making key: %w", err)
	}
	if err := atomicfile.Write(path, FormatKey(key), KeyFileMode); err != nil {
		return nil, fmt.Errorf("making key: %w", err)
	}
	return key, nil
}

// LoadOrNewKey loads the key at path, or makes one there if there is no
// file.
func LoadOrNewKey(path string) (ed25519.PrivateKey, error) {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return NewKey(path)
	}
	return LoadKey(path)
}

// ImportKey checks that data is a key file's content (ParseKey; at most
// a few kilobytes) and saves the key in stateDir/publications/keys, named
// by its public key, with permission KeyFileMode: importing the same key
// again gives the same file. It returns the file's path, to publish with
// (the publisher's KeyFile).
func ImportKey(stateDir string, data []byte) (string, error) {
	if len(data) > maxKeyFile {
		return "", fmt.Errorf("%w: over %d bytes", ErrBadKeyFile, maxKeyFile)
	}
	key, err := ParseKey(data)
	if err != nil {
		return "", err
	}
	pub := key.Public().(ed25519.PublicKey)
	path := filepath.Join(stateDir, "publications", "keys", hex.EncodeToString(pub)+".key")
	if err := writeKey(path, key); err != nil {
		return "", err
	}
	return path, nil
}
