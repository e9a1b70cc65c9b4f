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
