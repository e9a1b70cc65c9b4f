package engine

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/udpmux"
	"github.com/swarmdrop/swarmdrop/engine/utp"
)

// startUTPOn runs a uTP socket behind a mux on a UDP socket at addr until
// the test ends.
func startUTPOn(t *testing.T, addr string) (*utp.Socket, netip.AddrPort) {
	t.Helper()
	uc, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
	if err != nil {
		t.Fatal(err)
	}
	mux := udpmux.New(uc, udpmux.Config{})
	sock, err := utp.New(utp.Config{Transport: mux})
	if err != nil {
		t.Fatal(err)
	}
	mux.SetUTP(sock)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { mux.Serve(ctx); done <- struct{}{} }()
	go func() { sock.Serve(ctx); done <- struct{}{} }()
	t.Cleanup(func() { cancel(); <-done; <-done; uc.Close() })
	// Wait for Serve: until then Dial fails with ErrNotReady.
	nowhere := netip.MustParseAddrPort("127.0.0.1:9")
	for range 1000 {
		dctx, dcancel := context.WithTimeout(ctx, time.Millisecond)
		_, err := sock.Dial(dctx, nowhere)
		dcancel()
		if !errors.Is(err, utp.ErrNotReady) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	return sock, uc.LocalAddr().(*net.UDPAddr).AddrPort()
}

// tcpListener accepts and holds connections until the test ends.
func tcpListener(t *testing.T, addr string) net.Listener {
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
			t.Cleanup(func() { c.Close() })
		}
	}()
	return l
}

// TestDialPrefersUTP: a peer listening on both gets a uTP connection.
func TestDialPrefersUTP(t *testing.T) {
	ours, _ := startUTPOn(t, "127.0.0.1:0")
	theirs, at := startUTPOn(t, "127.0.0.1:0")
	tcpListener(t, at.String()) // same port number for TCP
	go func() {
		for {
			c, err := theirs.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	d := newPeerDialer(ours, time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", at.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.RemoteAddr().Network() != "udp" {
		t.Fatalf("connected over %s, want uTP", c.RemoteAddr().Network())
	}
	if d.utpFailed(at) {
		t.Fatal("uTP won but the address is remembered as TCP only")
	}
}

// TestDialFallsBackToTCP: a peer with no uTP gets a TCP connection once
// the head start has passed, and is then dialed over both at once.
func TestDialFallsBackToTCP(t *testing.T) {
	ours, _ := startUTPOn(t, "127.0.0.1:0")
	l := tcpListener(t, "127.0.0.1:0")
	at := l.Addr().(*net.TCPAddr).AddrPort()
	const headStart = 300 * time.Millisecond
	d := newPeerDialer(ours, headStart)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	c, err := d.DialContext(ctx, "tcp", at.String())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if took := time.Since(start); took < headStart || c.RemoteAddr().Network() != "tcp" {
		t.Fatalf("connected over %s after %v, want TCP after the %v head start", c.RemoteAddr().Network(), took, headStart)
	}
	if !d.utpFailed(at) {
		t.Fatal("TCP won but the address is not remembered")
	}
	c, err = d.DialContext(ctx, "tcp", at.String())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// TestDialNothingListens: both attempts fail, and the error names both.
func TestDialNothingListens(t *testing.T) {
	ours, _ := startUTPOn(t, "127.0.0.1:0")
	l := tcpListener(t, "127.0.0.1:0")
	at := l.Addr().String()
	l.Close()
	d := newPeerDialer(ours, 100*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", at)
	if err == nil {
		c.Close()
		t.Fatal("connected to nothing")
	}
	t.Logf("error: %v", err)
}

// TestNoUTPMemoryBounded: the addresses remembered as TCP only never
// exceed maxNoUTP, however many there are.
func TestNoUTPMemoryBounded(t *testing.T) {
	d := newPeerDialer(nil, time.Second)
	for i := range 3 * maxNoUTP {
		d.rememberNoUTP(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 6881), true)
		if n := len(d.noUTP); n > maxNoUTP {
			t.Fatalf("%d addresses remembered after %d", n, i+1)
		}
	}
}

// TestAlternateFamilies: a torrent's default nodes take IPv4 and IPv6 in
// turn, so that IPv6 contacts are not crowded out by closer IPv4 ones.
func TestAlternateFamilies(t *testing.T) {
	in := []netip.AddrPort{
		netip.MustParseAddrPort("10.0.0.1:1"), netip.MustParseAddrPort("10.0.0.2:1"), netip.MustParseAddrPort("10.0.0.3:1"),
		netip.MustParseAddrPort("[2001:db8::1]:1"),
	}
	got := alternateFamilies(in, 3)
	want := []netip.AddrPort{in[0], in[3], in[1]}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
