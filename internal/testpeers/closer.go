package testpeers

import (
	"net"
	"testing"
)

// ClosingListener listens for TCP on addr ("127.0.0.1:0" or a port shared
// with a UDP socket) and closes every connection as soon as it is
// accepted, as libtorrent and Transmission do with TCP turned off, until
// the test ends.
func ClosingListener(t *testing.T, addr string) net.Listener {
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
			c.Close()
		}
	}()
	return l
}
