//go:build !linux

package udpmux

import "net"

// enableGRO does nothing here: packets are read one by one.
func enableGRO(*net.UDPConn) bool { return false }

// groSize is 0 here: a buffer read is one packet.
func groSize([]byte) int { return 0 }
