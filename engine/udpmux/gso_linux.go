package udpmux

import (
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
