package swarm

import (
	"io"
	"net"
	"runtime"
	"testing"
	"time"
)

// TestPathRTT reads the round trip of a loopback TCP connection from the
// kernel (Linux), and reports none for a connection without a transport.
func TestPathRTT(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if got := pathRTT(a); got != 0 {
		t.Errorf("net.Pipe: %v, want 0", got)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	done := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			_, err = io.Copy(c, c) // echo, so each write is acknowledged
			c.Close()
		}
		done <- err
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	for range 5 {
		if _, err := c.Write(buf); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
	}
	got := pathRTT(c)
	c.Close()
	<-done
	if runtime.GOOS != "linux" {
		if got != 0 {
			t.Errorf("%s: %v, want 0 (not measured there)", runtime.GOOS, got)
		}
		return
	}
	if got <= 0 || got > time.Second {
		t.Errorf("loopback TCP: min RTT %v, want in (0, 1s]", got)
	}
}
