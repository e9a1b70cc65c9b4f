package krpc

import (
	"encoding/binary"
	"net/netip"
)

// Sizes of the compact formats of BEP 5 (and BEP 32 for IPv6).
const (
	CompactPeerLen  = 6  // IPv4 address and port
	CompactPeer6Len = 18 // IPv6 address and port
	CompactNodeLen  = 26 // node ID, IPv4 address and port
	CompactNode6Len = 38 // node ID, IPv6 address and port
)

// AppendCompactPeer appends the compact form of a (6 bytes for IPv4,
// including IPv4-mapped IPv6, 18 for IPv6).
func AppendCompactPeer(dst []byte, a netip.AddrPort) []byte {
	ip := a.Addr().Unmap()
	if ip.Is4() {
		b := ip.As4()
		dst = append(dst, b[:]...)
	} else {
		b := ip.As16()
		dst = append(dst, b[:]...)
	}
	return binary.BigEndian.AppendUint16(dst, a.Port())
}

// ParseCompactPeer parses a 6- or 18-byte compact peer address.
func ParseCompactPeer(b []byte) (netip.AddrPort, error) {
	switch len(b) {
	case CompactPeerLen:
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[:4])), binary.BigEndian.Uint16(b[4:])), nil
	case CompactPeer6Len:
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[:16])), binary.BigEndian.Uint16(b[16:])), nil
	}
	return netip.AddrPort{}, malformed("compact peer of %d bytes", len(b))
}

// ParseCompactPeers parses a concatenation of 6-byte compact IPv4 peers
// (the `peers` string of a tracker reply, BEP 23).
func ParseCompactPeers(b []byte) ([]netip.AddrPort, error) {
	if len(b)%CompactPeerLen != 0 {
		return nil, malformed("compact peers of %d bytes, not a multiple of %d", len(b), CompactPeerLen)
	}
	out := make([]netip.AddrPort, 0, len(b)/CompactPeerLen)
	for i := 0; i < len(b); i += CompactPeerLen {
		a, _ := ParseCompactPeer(b[i : i+CompactPeerLen])
		out = append(out, a)
	}
	return out, nil
}

// AppendCompactNodes appends the 26-byte compact form of the IPv4 nodes
// (including IPv4-mapped ones) and skips the others.
func AppendCompactNodes(dst []byte, nodes []NodeInfo) []byte {
	for _, n := range nodes {
		if ip := n.Addr.Addr().Unmap(); ip.Is4() {
			dst = append(dst, n.ID[:]...)
			dst = AppendCompactPeer(dst, netip.AddrPortFrom(ip, n.Addr.Port()))
		}
	}
	return dst
}

// AppendCompactNodes6 appends the 38-byte compact form of the IPv6 nodes
// and skips the IPv4 ones.
func AppendCompactNodes6(dst []byte, nodes []NodeInfo) []byte {
	for _, n := range nodes {
		if ip := n.Addr.Addr(); ip.Is6() && !ip.Is4In6() {
			dst = append(dst, n.ID[:]...)
			dst = AppendCompactPeer(dst, n.Addr)
		}
	}
	return dst
}

// ParseCompactNodes parses a `nodes` string: 26-byte IPv4 contacts.
func ParseCompactNodes(b []byte) ([]NodeInfo, error) {
	return parseNodes(b, CompactNodeLen)
}

// ParseCompactNodes6 parses a `nodes6` string: 38-byte IPv6 contacts.
func ParseCompactNodes6(b []byte) ([]NodeInfo, error) {
	return parseNodes(b, CompactNode6Len)
}

func parseNodes(b []byte, size int) ([]NodeInfo, error) {
	if len(b)%size != 0 {
		return nil, malformed("compact nodes of %d bytes, not a multiple of %d", len(b), size)
	}
	if len(b) == 0 {
		return nil, nil
	}
	out := make([]NodeInfo, 0, len(b)/size)
	for i := 0; i < len(b); i += size {
		var n NodeInfo
		copy(n.ID[:], b[i:i+20])
		n.Addr, _ = ParseCompactPeer(b[i+20 : i+size])
		out = append(out, n)
	}
	return out, nil
}
