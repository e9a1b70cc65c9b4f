//go:build !linux

package udpmux

import (
	"net"
	"net/netip"
)

// allowFragments does nothing here: the system's default stays.
func allowFragments(*net.UDPConn, bool) error { return nil }

// writeDF is an ordinary write here: the don't-fragment bit is not set,
// so MTU probes may arrive fragmented and the search settles higher.
func writeDF(conn *net.UDPConn, _ bool, b []byte, addr netip.AddrPort) (int, error) {
	return conn.WriteToUDPAddrPort(b, addr)
}
