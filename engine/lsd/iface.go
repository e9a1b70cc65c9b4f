package lsd

import (
	"net"
	"net/netip"
)

// Interface is a network interface to announce on: its index and name as
// the system knows them, and its addresses with their prefix lengths.
type Interface struct {
	Index    int
	Name     string
	Prefixes []netip.Prefix
}

// has4 and has6 report whether the interface has an address of that
// family, which it needs to send and receive that family's announces.
func (i Interface) has4() bool { return i.hasFamily(false) }
func (i Interface) has6() bool { return i.hasFamily(true) }

func (i Interface) hasFamily(v6 bool) bool {
	for _, p := range i.Prefixes {
		if p.Addr().Unmap().Is6() == v6 {
			return true
		}
	}
	return false
}

// DefaultInterfaces lists the interfaces a Service joins unless told
// otherwise: every one that is up, can multicast and is not loopback.
func DefaultInterfaces() ([]Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	var out []Interface
	for _, ifi := range ifs {
		if ifi.Flags&net.FlagUp == 0 || ifi.Flags&net.FlagMulticast == 0 || ifi.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifi.Addrs()
		if err != nil {
			continue // gone meanwhile
		}
		in := Interface{Index: ifi.Index, Name: ifi.Name}
		for _, a := range addrs {
			n, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip, ok := netip.AddrFromSlice(n.IP)
			if !ok {
				continue
			}
			bits, _ := n.Mask.Size()
			ip = ip.Unmap()
			if ip.Is4() && bits > 32 {
				bits -= 96
			}
			in.Prefixes = append(in.Prefixes, netip.PrefixFrom(ip, bits))
		}
		out = append(out, in)
	}
	return out, nil
}
