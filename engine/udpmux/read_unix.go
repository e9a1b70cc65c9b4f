//go:build unix

package udpmux

import (
	"net/netip"
	"syscall"
)

// readBatch reads every packet waiting on the socket without blocking,
// dispatching each, tells the uTP handler when the socket is drained, and
// waits for more; it returns on an error or when the mux stops.
func (m *Mux) readBatch(buf []byte) error {
	rc, err := m.conn.SyscallConn()
	if err != nil {
		return err
	}
	var readErr error
	err = rc.Read(func(fd uintptr) bool {
		for !m.stop.Load() {
			n, sa, err := syscall.Recvfrom(int(fd), buf, 0)
			switch err {
			case nil:
			case syscall.EAGAIN:
				m.drained()
				return false // wait until readable
			case syscall.EINTR:
				continue
			default:
				readErr = err
				return true
			}
			if from := addrPort(sa); from.IsValid() {
				m.dispatch(buf[:n], from)
			}
		}
		return true
	})
	if err != nil {
		return err
	}
	return readErr
}

func addrPort(sa syscall.Sockaddr) netip.AddrPort {
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *syscall.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), uint16(sa.Port))
	}
	return netip.AddrPort{}
}
