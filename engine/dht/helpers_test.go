package dht

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// startNode runs a node on a UDP socket at ip (port 0 = any) until the
// test ends; prep, if given, runs between New and Serve. It returns the
// node and its address.
func startNode(t *testing.T, ip string, port int, cfg Config, prep ...func(*Node)) (*Node, netip.AddrPort) {
	t.Helper()
	conn := listenUDP(t, ip, port)
	cfg.Conn = conn
	if cfg.Logf == nil {
		cfg.Logf = t.Logf
	}
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range prep {
		f(n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		conn.Close()
	})
	return n, conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

// listenUDP opens a UDP socket at ip and port (0: any): IPv4 for an IPv4
// address, dual-stack for "::", IPv6 only for another IPv6 address.
func listenUDP(t *testing.T, ip string, port int) *net.UDPConn {
	t.Helper()
	a := netip.MustParseAddr(ip)
	network := "udp6"
	switch {
	case a.Is4():
		network = "udp4"
	case a.IsUnspecified():
		network = "udp"
	}
	conn, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(a, uint16(port))))
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// client is a raw KRPC client on its own UDP socket, for hostile tests.
type client struct {
	t    *testing.T
	conn *net.UDPConn
	id   ID
	tid  uint16
	// answer makes recv answer the node's queries (its verification
	// pings) as a real node would, so that the node verifies c.
	answer bool
}

func newClient(t *testing.T, ip string) *client {
	t.Helper()
	conn := listenUDP(t, ip, 0)
	t.Cleanup(func() { conn.Close() })
	return &client{t: t, conn: conn, id: randomID()}
}

func (c *client) addr() netip.AddrPort { return c.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// sendRaw sends b to addr.
func (c *client) sendRaw(b []byte, to netip.AddrPort) {
	if _, err := c.conn.WriteToUDPAddrPort(b, to); err != nil {
		c.t.Fatal(err)
	}
}

// send sends the query q (its T and A.ID filled in) and returns its
// encoded size.
func (c *client) send(q krpc.Msg, to netip.AddrPort) int {
	c.tid++
	q.T = []byte{byte(c.tid >> 8), byte(c.tid)}
	q.Y = krpc.KindQuery
	q.A.ID = c.id
	b := q.Encode()
	c.sendRaw(b, to)
	return len(b)
}

// recv returns the next message and its size, or ok false after timeout.
func (c *client) recv(timeout time.Duration) (m krpc.Msg, size int, ok bool) {
	buf := make([]byte, 65536)
	deadline := time.Now().Add(timeout)
	for {
		c.conn.SetReadDeadline(deadline)
		n, from, err := c.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return krpc.Msg{}, 0, false
		}
		m, err := krpc.Decode(buf[:n])
		if err != nil {
			c.t.Fatalf("undecodable reply %q: %v", buf[:n], err)
		}
		if m.Y != krpc.KindQuery { // skip the node's own pings
			return m, n, true
		}
		if c.answer {
			c.sendRaw(krpc.Msg{T: m.T, Y: krpc.KindResponse, R: krpc.Reply{ID: c.id}}.Encode(), from)
		}
	}
}

// call sends q and waits for its answer; like a real client it sends
// again (up to 5 times) when no answer comes within a second, since UDP
// may drop a packet.
func (c *client) call(q krpc.Msg, to netip.AddrPort) (krpc.Msg, int) {
	c.t.Helper()
	for range 5 {
		c.send(q, to)
		want := []byte{byte(c.tid >> 8), byte(c.tid)}
		deadline := time.Now().Add(time.Second)
		for {
			m, size, ok := c.recv(time.Until(deadline))
			if !ok {
				break
			}
			if string(m.T) == string(want) {
				return m, size
			}
		}
	}
	c.t.Fatalf("no answer to %s from %v", q.Q, to)
	return krpc.Msg{}, 0
}

// waitFor polls cond every 10 ms until it holds or timeout passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
