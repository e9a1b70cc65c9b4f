package udpmux

import (
	"net"
	"syscall"
	"testing"
	"time"
)

// TestDontFragment: New turns the bit off for ordinary IPv4 packets; a
// probe sent with it arrives, and the setting is restored after.
func TestDontFragment(t *testing.T) {
	m, conn := startMux(t, "udp4", "127.0.0.1:0", Config{})
	mode := func() int {
		rc, _ := conn.SyscallConn()
		var v int
		var err error
		rc.Control(func(fd uintptr) { v, err = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_MTU_DISCOVER) })
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := mode(); v != syscall.IP_PMTUDISC_DONT {
		t.Fatalf("IP_MTU_DISCOVER %d after New", v)
	}
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	to := pc.LocalAddr().(*net.UDPAddr).AddrPort()
	if _, err := m.WriteToUDPAddrPortDF(make([]byte, 1400), to); err != nil {
		t.Fatal(err)
	}
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, _, err := pc.ReadFrom(make([]byte, 2000)); err != nil || n != 1400 {
		t.Fatalf("probe: %d bytes, %v", n, err)
	}
	if v := mode(); v != syscall.IP_PMTUDISC_DONT {
		t.Fatalf("IP_MTU_DISCOVER %d after a probe", v)
	}
}
