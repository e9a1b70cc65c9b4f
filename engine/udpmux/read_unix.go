//go:build unix

package udpmux

import (
	"net/netip"
	"syscall"
)

// readBatch reads every packet waiting on the socket without blocking,
// dispatching each (a read coalesced by GRO holds several), tells the uTP handler when the socket is drained, and
// waits for more; it returns on an error or when the mux stops.
func (m *Mux) readBatch(buf []byte) error {
	rc, err := m.conn.SyscallConn()
	if err != nil {
		return err
	}
	var readErr error
	var oob [64]byte
	err = rc.Read(func(fd uintptr) bool {
		for !m.stop.Load() {
			var n, oobn, seg int
			var sa syscall.Sockaddr
			var err error
			if m.gro {
				n, oobn, _, sa, err = syscall.Recvmsg(int(fd), buf, oob[:], 0)
				if err == nil {
					seg = groSize(oob[:oobn])
				}
			} else {
				n, sa, err = syscall.Recvfrom(int(fd), buf, 0)
			}
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
			from := addrPort(sa)
			if !from.IsValid() {
				continue
			}
			if seg <= 0 || seg >= n {
				m.dispatch(buf[:n], from)
				continue
			}
			for b := buf[:n]; len(b) > 0; { // packets coalesced by GRO
				p := b[:min(seg, len(b))]
				b = b[len(p):]
				m.dispatch(p, from)
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
