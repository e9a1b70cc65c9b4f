package udpmux

import (
	"net"
	"net/netip"
	"syscall"
	"unsafe"
)

// udpSegment is the UDP_SEGMENT control message type (linux/udp.h).
const udpSegment = 103

// WriteSegments sends the packets back to back in b to addr in one call:
// each size bytes but the last, which may be shorter (UDP generic
// segmentation offload). It fails, sending nothing, where the kernel or
// the path cannot segment (e.g. a packet larger than the device's MTU).
func (m *Mux) WriteSegments(b []byte, size int, addr netip.AddrPort) error {
	var oob [syscall.SizeofCmsghdr + 8]byte // CmsgSpace(2)
	h := (*syscall.Cmsghdr)(unsafe.Pointer(&oob[0]))
	h.Level = syscall.IPPROTO_UDP
	h.Type = udpSegment
	h.SetLen(syscall.CmsgLen(2))
	*(*uint16)(unsafe.Pointer(&oob[syscall.CmsgLen(0)])) = uint16(size)
	m.dfMu.RLock()
	defer m.dfMu.RUnlock()
	_, _, err := m.conn.WriteMsgUDPAddrPort(b, oob[:syscall.CmsgSpace(2)], addr)
	return err
}

// WriteSegments sends segmented packets through the mux of addr's family
// (see Mux.WriteSegments).
func (d Dual) WriteSegments(b []byte, size int, addr netip.AddrPort) error {
	m := d.pick(addr)
	if m == nil {
		_, err := d.WriteToUDPAddrPort(nil, addr) // fails: no socket for that family
		return err
	}
	return m.WriteSegments(b, size, addr)
}

// udpGRO is the UDP_GRO socket option and control message type.
const udpGRO = 104

// enableGRO asks the kernel to hand over packets of one flow that arrive
// together as one buffer (UDP generic receive offload): one read for a
// burst of uTP packets. It reports whether the kernel agreed.
func enableGRO(conn *net.UDPConn) bool {
	rc, err := conn.SyscallConn()
	if err != nil {
		return false
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_UDP, udpGRO, 1)
	}); err != nil {
		return false
	}
	return serr == nil
}

// groSize returns the size of the packets coalesced in a buffer read
// (every one but the last, which may be shorter) from the control
// messages of the read, or 0 if the buffer is one packet.
func groSize(oob []byte) int {
	for len(oob) >= syscall.CmsgLen(0) {
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < syscall.CmsgLen(0) || l > len(oob) {
			return 0
		}
		if h.Level == syscall.IPPROTO_UDP && h.Type == udpGRO && l >= syscall.CmsgLen(4) {
			return int(*(*int32)(unsafe.Pointer(&oob[syscall.CmsgLen(0)])))
		}
		oob = oob[min(len(oob), syscall.CmsgSpace(l-syscall.CmsgLen(0))):]
	}
	return 0
}
