package benchkit

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// EnsureSizedContent returns dir/NAME, a file of size random bytes made the
// first time, and reads it once so that it is in the page cache.
func EnsureSizedContent(dir, name string, size int64) (string, error) {
	path := filepath.Join(dir, name)
	if fi, err := os.Stat(path); err != nil || fi.Size() != size {
		fmt.Printf("making %s (once)\n", path)
		if err := writeRandom(path, size); err != nil {
			return "", err
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := io.Copy(io.Discard, f); err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	return path, nil
}
