package linkem

import (
	"net/netip"
)

// Every topology uses the same addresses; they never meet, each host being
// alone in its namespace. Host i has 10.99.0.0 + i+1 in 10.99.0.0/16 and
// fd00:99:: + i+1 in fd00:99::/64, so up to 65,534 hosts.
var (
	prefix4 = netip.MustParsePrefix("10.99.0.0/16")
	prefix6 = netip.MustParsePrefix("fd00:99::/64")
)

// MaxHosts is the most hosts a topology can have.
const MaxHosts = 65534

// hostAddr is host i's address in p.
func hostAddr(p netip.Prefix, i int) netip.Addr {
	b := p.Addr().AsSlice()
	n := i + 1
	b[len(b)-2] = byte(n >> 8)
	b[len(b)-1] = byte(n)
	a, _ := netip.AddrFromSlice(b)
	return a
}

// routeIP returns the host an IP packet is addressed to, or -1 when it is
// to no host but its sender (multicast, another network, too short).
func routeIP(b []byte, src, hosts int) int {
	var host []byte
	switch {
	case len(b) >= 20 && b[0]>>4 == 4:
		d := b[16:20]
		if d[0] != 10 || d[1] != 99 {
			return -1
		}
		host = d[2:4]
	case len(b) >= 40 && b[0]>>4 == 6:
		d := b[24:40]
		p := prefix6.Addr().As16()
		if [8]byte(d[:8]) != [8]byte(p[:8]) || d[8]|d[9]|d[10]|d[11]|d[12]|d[13] != 0 {
			return -1
		}
		host = d[14:16]
	default:
		return -1
	}
	i := (int(host[0])<<8 | int(host[1])) - 1
	if i < 0 || i >= hosts || i == src {
		return -1
	}
	return i
}
