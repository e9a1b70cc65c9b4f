package tracker

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// peerList collects peers, dropping unusable and repeated ones.
type peerList struct {
	peers []netip.AddrPort
	seen  map[netip.AddrPort]bool
}

// add keeps ap unless its port is 0, its address can't be a peer's, or it
// was already added. It reports whether ap was kept.
func (l *peerList) add(ap netip.AddrPort) bool {
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	if !usablePeer(ap) || l.seen[ap] {
		return false
	}
	if l.seen == nil {
		l.seen = make(map[netip.AddrPort]bool)
	}
	l.seen[ap] = true
	l.peers = append(l.peers, ap)
	return true
}

// usablePeer reports whether ap could be a peer's address.
func usablePeer(ap netip.AddrPort) bool {
	a := ap.Addr()
	switch {
	case ap.Port() == 0, !a.IsValid(), a.IsUnspecified(), a.IsMulticast():
		return false
	case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return false
	}
	return true
}

// addCompact adds the peers of a compact list: 6 bytes (IPv4) or 18 bytes
// (IPv6) each, port in network order. A list whose length is not a multiple
// of size is dropped whole; the returned note says so.
func (l *peerList) addCompact(b []byte, size int, key string) (note string) {
	if len(b)%size != 0 {
		return fmt.Sprintf("%s: %d bytes is not a multiple of %d, list dropped", key, len(b), size)
	}
	for ; len(b) >= size; b = b[size:] {
		a, _ := netip.AddrFromSlice(b[:size-2])
		l.add(netip.AddrPortFrom(a, binary.BigEndian.Uint16(b[size-2:])))
	}
	return ""
}
