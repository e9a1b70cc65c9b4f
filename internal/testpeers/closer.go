package testpeers

import (
	"net"
	"testing"
)

// Listener listens for TCP on addr ("127.0.0.1:0" or a port shared with a
// UDP socket) and hands every accepted connection to each, until the
// test ends.
func Listener(t *testing.T, addr string, each func(net.Conn)) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			each(c)
		}
	}()
	return l
}

// ClosingListener is a Listener that closes every connection as soon as
// it is accepted, as libtorrent and Transmission do with TCP turned off.
func ClosingListener(t *testing.T, addr string) net.Listener {
	t.Helper()
	return Listener(t, addr, func(c net.Conn) { c.Close() })
}
