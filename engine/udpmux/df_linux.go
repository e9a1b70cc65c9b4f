package udpmux

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// allowFragments turns the don't-fragment bit off for IPv4 packets
// (IP_PMTUDISC_DONT): the kernel and the routers on the way may then
// fragment a packet larger than the path MTU instead of dropping it.
// IPv6 routers never fragment; the IPv6 default (fragment at the source
// by the path MTU learnt from ICMPv6) stays.
func allowFragments(conn *net.UDPConn, v4 bool) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_MTU_DISCOVER, syscall.IP_PMTUDISC_DONT)
		if !v4 {
			serr = nil // an IPv6-only socket has no IPv4 traffic to set it for
		}
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("allowing IPv4 fragments: %w", err)
	}
	return nil
}

// writeDF sends one packet with the don't-fragment bit set, ignoring the
// path MTU the kernel has cached (IP_PMTUDISC_PROBE), then restores the
// socket's setting. The caller holds the mux's dfMu exclusively.
func writeDF(conn *net.UDPConn, v4 bool, b []byte, addr netip.AddrPort) (int, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return 0, err
	}
	level, opt, probe, normal := syscall.IPPROTO_IP, syscall.IP_MTU_DISCOVER, syscall.IP_PMTUDISC_PROBE, syscall.IP_PMTUDISC_DONT
	if !v4 && !addr.Addr().Unmap().Is4() {
		level, opt, probe, normal = syscall.IPPROTO_IPV6, syscall.IPV6_MTU_DISCOVER, syscall.IPV6_PMTUDISC_PROBE, syscall.IPV6_PMTUDISC_WANT
	}
	set := func(v int) {
		rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), level, opt, v) })
	}
	set(probe)
	defer set(normal)
	return conn.WriteToUDPAddrPort(b, addr)
}
