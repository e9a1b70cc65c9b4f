//go:build !windows

package storage

import (
	"errors"
	"syscall"
)

// isNoSpace reports whether err means the disk or the user's quota is full.
func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
