//go:build !linux

package storage

import (
	"errors"
	"os"
)

// Elsewhere files are written with pwrite only.
func (t *Torrent) writeMapped(i int, f *os.File, b []byte, off int64) error {
	return errNoMapping
}

var errNoMapping = errors.New("no mapping")
