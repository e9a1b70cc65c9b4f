package udpmux

import (
	"net"
	"net/netip"
)

// Dual sends through V4 or V6 by the destination's address family, for a
// uTP socket fed by both (set it as the uTP handler of each). Either may
// be nil when that family is off.
type Dual struct {
	V4, V6 *Mux
}

// pick returns the mux for addr, or nil.
func (d Dual) pick(addr netip.AddrPort) *Mux {
	if addr.Addr().Unmap().Is4() {
		return d.V4
	}
	return d.V6
}

// WriteToUDPAddrPort sends b to addr through the mux of its family.
func (d Dual) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	m := d.pick(addr)
	if m == nil {
		return 0, &net.OpError{Op: "write", Net: "udp", Err: net.UnknownNetworkError("no socket for the address family of " + addr.String())}
	}
	return m.WriteToUDPAddrPort(b, addr)
}

// WriteToUDPAddrPortDF sends b to addr with the don't-fragment bit.
func (d Dual) WriteToUDPAddrPortDF(b []byte, addr netip.AddrPort) (int, error) {
	m := d.pick(addr)
	if m == nil {
		return d.WriteToUDPAddrPort(b, addr)
	}
	return m.WriteToUDPAddrPortDF(b, addr)
}

// LocalAddr is the IPv4 socket's address, or the IPv6 one's without it.
func (d Dual) LocalAddr() net.Addr {
	if d.V4 != nil {
		return d.V4.LocalAddr()
	}
	return d.V6.LocalAddr()
}
