//go:build windows

package app

import (
	"errors"
	"net"
	"syscall"
)

// wsaeAddrInUse is Winsock's WSAEADDRINUSE, which Go's syscall package
// does not name.
const wsaeAddrInUse = syscall.Errno(10048)

// listenPrivate listens on the AF_UNIX socket path (Windows 10 1803 and
// later; Go's net package supports it). The socket lives in the user's
// local application data folder, whose ACL already keeps other users
// out; it is removed on Close.
func listenPrivate(path string) (net.Listener, error) {
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	l.(*net.UnixListener).SetUnlinkOnClose(true)
	return l, nil
}

// isNobodyThere reports a dial error meaning no instance listens. Winsock
// reports a missing or abandoned AF_UNIX path with codes that vary across
// Windows builds, so any failed connect other than a timeout counts: the
// socket is in the user's own folder, so nobody else's is replaced.
func isNobodyThere(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// isAddrInUse reports a listen error meaning another process holds path.
func isAddrInUse(err error) bool {
	return errors.Is(err, wsaeAddrInUse) || errors.Is(err, syscall.EADDRINUSE)
}
