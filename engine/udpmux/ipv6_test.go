package udpmux

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/utp"
)

// TestUTPOverIPv6: two uTP sockets on ::1, each behind a mux, exchange
// 4 MiB; the path MTU search stays within IPv6's larger headers.
func TestUTPOverIPv6(t *testing.T) {
	m1, c1 := startMux(t, "udp6", "[::1]:0", Config{})
	m2, c2 := startMux(t, "udp6", "[::1]:0", Config{})
	a := startUTP(t, m1, utp.Config{})
	b := startUTP(t, m2, utp.Config{})
	c := dialUTP(t, a, c2.LocalAddr().(*net.UDPAddr).AddrPort())
	data := bytes.Repeat([]byte("0123456789abcdef"), 4<<16)
	go func() { c.Write(data); c.Close() }()
	s, err := b.AcceptUTP()
	if err != nil {
		t.Fatal(err)
	}
	s.SetReadDeadline(time.Now().Add(30 * time.Second))
	got, err := io.ReadAll(s)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("%d of %d bytes: %v", len(got), len(data), err)
	}
	if s.RemoteAddr().String() != c1.LocalAddr().String() {
		t.Fatalf("accepted from %v, dialed from %v", s.RemoteAddr(), c1.LocalAddr())
	}
	if size := c.Stats().PacketSize; size > 1500-48 || size < 1400-48 {
		t.Fatalf("packet size %d over IPv6", size)
	}
}

// TestDualFamily: one uTP socket fed by an IPv4 and an IPv6 mux (as the
// engine's two listening sockets) takes connections from both families
// at once and answers each through the right socket.
func TestDualFamily(t *testing.T) {
	m4, c4 := startMux(t, "udp4", "127.0.0.1:0", Config{})
	m6, c6 := startMux(t, "udp6", "[::1]:0", Config{})
	server := startUTP(t, m4, utp.Config{Transport: Dual{V4: m4, V6: m6}})
	m6.SetUTP(server)
	clientMux4, _ := startMux(t, "udp4", "127.0.0.1:0", Config{})
	clientMux6, _ := startMux(t, "udp6", "[::1]:0", Config{})
	clients := []*utp.Socket{startUTP(t, clientMux4, utp.Config{}), startUTP(t, clientMux6, utp.Config{})}
	targets := []net.Addr{c4.LocalAddr(), c6.LocalAddr()}
	data := bytes.Repeat([]byte("dual"), 1<<18)
	errs := make(chan error, 2)
	for i, cl := range clients {
		c := dialUTP(t, cl, targets[i].(*net.UDPAddr).AddrPort())
		go func() {
			_, err := c.Write(data)
			c.Close()
			errs <- err
		}()
	}
	seen := map[bool]bool{}
	for range 2 {
		s, err := server.AcceptUTP()
		if err != nil {
			t.Fatal(err)
		}
		s.SetReadDeadline(time.Now().Add(30 * time.Second))
		got, err := io.ReadAll(s)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("from %v: %d of %d bytes, %v", s.RemoteAddr(), len(got), len(data), err)
		}
		seen[s.RemoteAddrPort().Addr().Is4()] = true
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if !seen[true] || !seen[false] {
		t.Fatalf("families seen: %v", seen)
	}
}
