package engine

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/udpmux"
	"github.com/swarmdrop/swarmdrop/engine/utp"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
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
	return testpeers.Listener(t, addr, func(c net.Conn) { t.Cleanup(func() { c.Close() }) })
}

// utpPeers starts our uTP socket and a peer's, which accepts and holds
// connections until the test ends; it returns ours and the peer's address.
func utpPeers(t *testing.T) (*utp.Socket, netip.AddrPort) {
	ours, _ := startUTPOn(t, "127.0.0.1:0")
	theirs, at := startUTPOn(t, "127.0.0.1:0")
	go func() {
		for {
			c, err := theirs.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	return ours, at
}

// dialOnce dials at with d and returns the connection's network ("tcp"
// or "udp") and how long it took.
func dialOnce(t *testing.T, d *peerDialer, at string) (string, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	c, err := d.DialContext(ctx, "tcp", at)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	c.Close()
	return c.RemoteAddr().Network(), took
}

// TestDialPrefersTCP: a peer listening on both gets a TCP connection by
// default (the race's tie goes to TCP), a uTP one with preferUTP.
func TestDialPrefersTCP(t *testing.T) {
	ours, at := utpPeers(t)
	tcpListener(t, at.String()) // same port number for TCP
	if got, _ := dialOnce(t, newPeerDialer(ours, time.Second, false), at.String()); got != "tcp" {
		t.Fatalf("connected over %s, want TCP", got)
	}
	d := newPeerDialer(ours, time.Second, true)
	if got, _ := dialOnce(t, d, at.String()); got != "udp" {
		t.Fatalf("with preferUTP connected over %s, want uTP", got)
	}
	if !d.utpFirst(at) {
		t.Fatal("uTP won but the address is no longer dialed over uTP first")
	}
}

// TestDialTCPSilent: when TCP gets no answer (a firewall dropping SYNs),
// the uTP connection wins once it has waited its grace for TCP, well
// before the head start, and the address is then dialed over uTP first.
func TestDialTCPSilent(t *testing.T) {
	ours, at := utpPeers(t)
	const headStart = 5 * time.Second
	d := newPeerDialer(ours, headStart, false)
	d.tcp = func(ctx context.Context, _, _ string) (net.Conn, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if got, took := dialOnce(t, d, at.String()); took >= time.Second || got != "udp" {
		t.Fatalf("connected over %s after %v, want uTP within a second", got, took)
	}
	if !d.utpFirst(at) {
		t.Fatal("uTP won but the address is not dialed over uTP first")
	}
}

// TestDialFallsBackToTCP: with preferUTP, a peer with no uTP gets a TCP
// connection once the head start has passed, and is then raced (TCP at
// once).
func TestDialFallsBackToTCP(t *testing.T) {
	ours, _ := startUTPOn(t, "127.0.0.1:0")
	l := tcpListener(t, "127.0.0.1:0")
	at := l.Addr().(*net.TCPAddr).AddrPort()
	const headStart = 300 * time.Millisecond
	d := newPeerDialer(ours, headStart, true)
	if got, took := dialOnce(t, d, at.String()); took < headStart || got != "tcp" {
		t.Fatalf("connected over %s after %v, want TCP after the %v head start", got, took, headStart)
	}
	if d.utpFirst(at) {
		t.Fatal("TCP won but the address is not raced next")
	}
	if got, took := dialOnce(t, d, at.String()); took >= headStart || got != "tcp" {
		t.Fatalf("second dial: over %s after %v, want TCP at once", got, took)
	}
}

// TestDialFallsBackToUTP: a peer refusing TCP gets a uTP connection at
// once, without waiting for the head start.
func TestDialFallsBackToUTP(t *testing.T) {
	ours, at := utpPeers(t)
	d := newPeerDialer(ours, 5*time.Second, false)
	if got, took := dialOnce(t, d, at.String()); took >= time.Second || got != "udp" {
		t.Fatalf("connected over %s after %v, want uTP at once", got, took)
	}
	if !d.utpFirst(at) {
		t.Fatal("uTP won but the address is not dialed over uTP first")
	}
}

// TestDialRefusedAtHandshake: a peer that accepts TCP and closes it at
// once (libtorrent with TCP turned off) is dialed again over uTP first.
func TestDialRefusedAtHandshake(t *testing.T) {
	ours, at := utpPeers(t)
	testpeers.ClosingListener(t, at.String())
	d := newPeerDialer(ours, 5*time.Second, false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", at.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.RemoteAddr().Network() != "tcp" {
		t.Fatalf("first dial over %s, want TCP", c.RemoteAddr().Network())
	}
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("the peer sent a byte")
	}
	if !d.Refused(c) {
		t.Fatal("Refused does not ask to dial again")
	}
	if got, took := dialOnce(t, d, at.String()); took >= time.Second || got != "udp" {
		t.Fatalf("after the refusal: over %s after %v, want uTP at once", got, took)
	}
	tcpOnly := newPeerDialer(nil, time.Second, false)
	if tcpOnly.Refused(c) {
		t.Fatal("a dialer without uTP asks to dial again")
	}
}

// TestDialNothingListens: both attempts fail, and the error names both.
func TestDialNothingListens(t *testing.T) {
	ours, _ := startUTPOn(t, "127.0.0.1:0")
	l := tcpListener(t, "127.0.0.1:0")
	at := l.Addr().String()
	l.Close()
	d := newPeerDialer(ours, 100*time.Millisecond, false)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", at)
	if err == nil {
		c.Close()
		t.Fatal("connected to nothing")
	}
	if msg := err.Error(); !strings.Contains(msg, "TCP:") || !strings.Contains(msg, "uTP:") {
		t.Fatalf("error %q does not name both transports", msg)
	}
}

// TestDialWinnersBounded: the addresses whose winning transport is
// remembered never exceed maxWinners, however many there are.
func TestDialWinnersBounded(t *testing.T) {
	d := newPeerDialer(nil, time.Second, false)
	for i := range 3 * maxWinners {
		d.remember(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 6881), true)
		if n := len(d.winners); n > maxWinners {
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
