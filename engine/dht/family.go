package dht

import (
	"net"
	"net/netip"
)

// family is an address family: BEP 32 runs two independent DHTs, one over
// IPv4 and one over IPv6, each with its own routing table.
type family int

const (
	ipv4 family = iota
	ipv6
)

var families = [2]family{ipv4, ipv6}

func (f family) String() string {
	if f == ipv6 {
		return "IPv6"
	}
	return "IPv4"
}

// want is f's flag in a query's `want` list (BEP 32).
func (f family) want() string {
	if f == ipv6 {
		return "n6"
	}
	return "n4"
}

// other returns the other family.
func (f family) other() family { return 1 - f }

// familyOf returns the family of ip (an IPv4-mapped address is IPv4).
func familyOf(ip netip.Addr) family {
	if ip.Unmap().Is4() {
		return ipv4
	}
	return ipv6
}

// connFamilies tells which families a socket can serve from its local
// address: an IPv4 address serves IPv4; the IPv6 unspecified address
// ("[::]:port", what Go's "udp" network binds for an empty host) is a
// dual-stack socket and serves both; another IPv6 address serves IPv6. A
// socket whose address says nothing (a virtual connection with an address
// of another kind) is taken as IPv4.
func connFamilies(c net.PacketConn) (v4, v6 bool) {
	var ip netip.Addr
	switch a := c.LocalAddr().(type) {
	case *net.UDPAddr:
		ip = a.AddrPort().Addr()
	case nil:
	default:
		if ap, err := netip.ParseAddrPort(a.String()); err == nil {
			ip = ap.Addr()
		}
	}
	switch {
	case !ip.IsValid() || ip.Unmap().Is4():
		return true, false
	case ip.IsUnspecified():
		return true, true
	}
	return false, true
}

// hostKey is what the per-address limits count by: the address for IPv4,
// the /64 for IPv6 (one host commonly holds a whole /64).
func hostKey(ip netip.Addr) netip.Addr {
	ip = ip.Unmap()
	if ip.Is4() {
		return ip
	}
	p, _ := ip.Prefix(64)
	return p.Addr()
}
