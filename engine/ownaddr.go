package engine

import (
	"net"
	"net/netip"
)

// ownIPv6 returns a global IPv6 address of this machine at which peers
// may reach our listening port, for the extended handshake (BEP 10
// `ipv6`): the bind address if it is one, else the first global unicast,
// non-private address of an interface when listening on all addresses;
// the zero Addr when there is none.
func ownIPv6(bind string) netip.Addr {
	good := func(a netip.Addr) bool {
		return a.Is6() && !a.Is4In6() && a.IsGlobalUnicast() && !a.IsPrivate()
	}
	if bind != "" && bind != "::" && bind != "0.0.0.0" {
		if a, err := netip.ParseAddr(bind); err == nil && good(a) {
			return a
		}
		return netip.Addr{}
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return netip.Addr{}
	}
	for _, ia := range addrs {
		if p, err := netip.ParsePrefix(ia.String()); err == nil && good(p.Addr()) {
			return p.Addr()
		}
	}
	return netip.Addr{}
}
