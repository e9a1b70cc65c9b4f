package linkem

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"testing"
	"time"
)

// Sockets the tests open inside the hosts' namespaces. The endpoints are
// the kernel's own TCP and UDP in those namespaces: the real thing.

// udpOn opens a UDP socket in host i's namespace on addr:port (port 0: any).
func udpOn(t testing.TB, topo *Topology, i int, addr netip.Addr, port uint16) *net.UDPConn {
	t.Helper()
	var c *net.UDPConn
	err := topo.Do(i, func() (err error) {
		c, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(addr, port)))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadBuffer(4 << 20)
	t.Cleanup(func() { c.Close() })
	return c
}

// echoUDP answers every datagram c receives with itself until c closes.
func echoUDP(c *net.UDPConn) {
	go func() {
		b := make([]byte, 65536)
		for {
			n, from, err := c.ReadFromUDPAddrPort(b)
			if err != nil {
				return
			}
			c.WriteToUDPAddrPort(b[:n], from)
		}
	}()
}

// tcpListen listens on TCP in host i's namespace.
func tcpListen(t testing.TB, topo *Topology, i int, addr netip.Addr) net.Listener {
	t.Helper()
	var ln net.Listener
	err := topo.Do(i, func() (err error) {
		ln, err = net.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// tcpDial connects from host i's namespace to to.
func tcpDial(t testing.TB, topo *Topology, i int, to net.Addr) net.Conn {
	t.Helper()
	var c net.Conn
	err := topo.Do(i, func() (err error) {
		c, err = net.DialTimeout("tcp", to.String(), 5*time.Second)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// isTimeout says whether err is a read deadline passing.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// randomBytes is n bytes that depend only on seed.
func randomBytes(n int, seed uint64) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	b := make([]byte, n)
	rand.NewChaCha8(key).Read(b)
	return b
}
