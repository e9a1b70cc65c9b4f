package swarm

import (
	"net"
	"time"

	"golang.org/x/sys/unix"
)

// tcpMinRTT returns the kernel's lowest round-trip sample of c (TCP_INFO),
// or 0 when it has none.
func tcpMinRTT(c *net.TCPConn) time.Duration {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0
	}
	var us uint32
	rc.Control(func(fd uintptr) {
		if ti, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO); err == nil && ti.Min_rtt != ^uint32(0) {
			us = ti.Min_rtt
		}
	})
	return time.Duration(us) * time.Microsecond
}
