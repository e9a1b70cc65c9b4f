//go:build unix

package app

import (
	"errors"
	"net"
	"os"
	"syscall"
)

// listenPrivate listens on the Unix socket path, which only this user can
// connect to: the socket is created with umask 077 (no window in which
// others could connect) and chmod-ed 0600, and is removed on Close.
func listenPrivate(path string) (net.Listener, error) {
	old := syscall.Umask(0o077)
	l, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		return nil, err
	}
	os.Chmod(path, 0o600)
	l.(*net.UnixListener).SetUnlinkOnClose(true)
	return l, nil
}

// isNobodyThere reports a dial error meaning no instance listens.
func isNobodyThere(err error) bool {
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED)
}

// isAddrInUse reports a listen error meaning another process holds path.
func isAddrInUse(err error) bool { return errors.Is(err, syscall.EADDRINUSE) }
