package main

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"
)

// testNet starts a simulated network for a test; it stops when the test
// ends.
func testNet(t *testing.T, cfg netConfig) *simNet {
	t.Helper()
	n := newSimNet(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		n.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return n
}

func testConfig() netConfig {
	return netConfig{Delay: 20 * time.Millisecond, NATTimeout: time.Minute, InboxLen: 8, UplinkLen: 16, NATLen: 4, Shards: 2}
}

func addr(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// read reads one packet from h within timeout.
func read(t *testing.T, h *host, timeout time.Duration) (string, netip.AddrPort, error) {
	t.Helper()
	h.SetReadDeadline(time.Now().Add(timeout))
	defer h.SetReadDeadline(time.Time{})
	buf := make([]byte, 100)
	n, from, err := h.ReadFrom(buf)
	if err != nil {
		return "", netip.AddrPort{}, err
	}
	return string(buf[:n]), from.(*net.UDPAddr).AddrPort(), nil
}

// TestDelivery sends a packet each way between two hosts: it arrives
// with its sender's address, and not before the pair's one-way delay.
func TestDelivery(t *testing.T) {
	n := testNet(t, testConfig())
	rng := rand.New(rand.NewPCG(1, 2))
	a := n.Attach(addr("1.2.3.4:1000"), false, rng)
	b := n.Attach(addr("5.6.7.8:2000"), false, rng)
	oneWay := n.oneWay(a, b)
	if oneWay != n.oneWay(b, a) || oneWay <= 0 || oneWay > 4*n.cfg.Delay {
		t.Fatalf("one-way delay %v (and %v back) for a mean of %v", oneWay, n.oneWay(b, a), n.cfg.Delay)
	}
	for _, c := range []struct{ from, to *host }{{a, b}, {b, a}} {
		sent := time.Now()
		if _, err := c.from.WriteTo([]byte("hello"), net.UDPAddrFromAddrPort(c.to.addr)); err != nil {
			t.Fatal(err)
		}
		got, from, err := read(t, c.to, 10*time.Second)
		if err != nil {
			t.Fatalf("%v -> %v: %v", c.from.addr, c.to.addr, err)
		}
		if took := time.Since(sent); took < oneWay {
			t.Errorf("%v -> %v took %v, less than the one-way delay %v", c.from.addr, c.to.addr, took, oneWay)
		}
		if got != "hello" || from != c.from.addr {
			t.Errorf("got %q from %v, want \"hello\" from %v", got, from, c.from.addr)
		}
	}
	// The delay line counts a delivery just after handing the packet
	// over, so the reader may have it first: wait (bounded) for the count.
	sent, drops := n.Drops()
	for deadline := time.Now().Add(5 * time.Second); drops[delivered] < 2 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
		sent, drops = n.Drops()
	}
	if sent != 2 || drops[delivered] != 2 {
		t.Errorf("sent %d, delivered %d; want 2 and 2", sent, drops[delivered])
	}
}

// TestNAT checks that a host behind a NAT gets answers from the hosts it
// sent to, but nothing unsolicited, and that its NAT keeps at most NATLen
// mappings.
func TestNAT(t *testing.T) {
	n := testNet(t, testConfig())
	rng := rand.New(rand.NewPCG(1, 2))
	inside := n.Attach(addr("9.9.9.9:6881"), true, rng)
	friend := n.Attach(addr("1.1.1.1:1"), false, rng)
	stranger := n.Attach(addr("2.2.2.2:2"), false, rng)
	to := func(h *host) net.Addr { return net.UDPAddrFromAddrPort(h.addr) }

	stranger.WriteTo([]byte("unsolicited"), to(inside))
	if _, _, err := read(t, inside, 500*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("an unsolicited packet got through the NAT (read: %v)", err)
	}
	inside.WriteTo([]byte("query"), to(friend))
	if got, _, err := read(t, friend, 10*time.Second); err != nil || got != "query" {
		t.Fatalf("the query from behind the NAT: %q, %v", got, err)
	}
	friend.WriteTo([]byte("answer"), to(inside))
	if got, _, err := read(t, inside, 10*time.Second); err != nil || got != "answer" {
		t.Fatalf("the answer through the NAT: %q, %v", got, err)
	}
	if _, drops := n.Drops(); drops[dropNAT] != 1 {
		t.Errorf("NAT drops %d, want 1", drops[dropNAT])
	}
	for i := range 3 * n.cfg.NATLen {
		inside.WriteTo([]byte("x"), net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.AddrFrom4([4]byte{3, 3, 3, byte(i)}), 1)))
	}
	inside.mu.Lock()
	mappings := len(inside.nat)
	inside.mu.Unlock()
	if mappings > n.cfg.NATLen {
		t.Errorf("the NAT holds %d mappings, more than its bound %d", mappings, n.cfg.NATLen)
	}
}

// TestBounds floods a host that reads nothing and sends a burst from a
// host: the socket buffer and the uplink hold at most their bounds, and
// every packet beyond is counted as dropped.
func TestBounds(t *testing.T) {
	n := testNet(t, testConfig())
	rng := rand.New(rand.NewPCG(1, 2))
	cfg := n.cfg
	sink := n.Attach(addr("4.4.4.4:4"), false, rng)
	var senders []*host
	for i := range 4 {
		senders = append(senders, n.Attach(netip.AddrPortFrom(netip.AddrFrom4([4]byte{5, 5, 5, byte(i)}), 5), false, rng))
	}
	const each = 12 // under UplinkLen, so that only the sink's buffer drops
	for _, s := range senders {
		for range each {
			s.WriteTo([]byte("flood"), net.UDPAddrFromAddrPort(sink.addr))
		}
	}
	total := uint64(len(senders) * each)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, drops := n.Drops()
		if drops[delivered]+drops[dropInbox] == total {
			if drops[delivered] != uint64(cfg.InboxLen) {
				t.Errorf("delivered %d of %d, want the socket buffer's %d", drops[delivered], total, cfg.InboxLen)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s: %v of %d accounted for", drops, total)
		}
		time.Sleep(10 * time.Millisecond)
	}
	sink.mu.Lock()
	queued := len(sink.inbox)
	sink.mu.Unlock()
	if queued > cfg.InboxLen {
		t.Errorf("the socket buffer holds %d packets, more than its bound %d", queued, cfg.InboxLen)
	}

	// A burst of 3 x UplinkLen from one host at once.
	burst := senders[0]
	_, before := n.Drops()
	for range 3 * cfg.UplinkLen {
		burst.WriteTo([]byte("burst"), net.UDPAddrFromAddrPort(senders[1].addr))
		if f := burst.inFlight.Load(); f > int64(cfg.UplinkLen) {
			t.Fatalf("%d packets on their way, more than the uplink's %d", f, cfg.UplinkLen)
		}
	}
	if _, after := n.Drops(); after[dropUplink]-before[dropUplink] < uint64(cfg.UplinkLen) {
		t.Errorf("uplink drops %d, want at least %d", after[dropUplink]-before[dropUplink], cfg.UplinkLen)
	}
}

// TestGone checks that packets to an address nobody holds, or to a host
// that left while they were on their way, are lost and counted, and that
// a closed host's ReadFrom returns net.ErrClosed.
func TestGone(t *testing.T) {
	n := testNet(t, testConfig())
	rng := rand.New(rand.NewPCG(1, 2))
	a := n.Attach(addr("6.6.6.6:6"), false, rng)
	b := n.Attach(addr("7.7.7.7:7"), false, rng)
	a.WriteTo([]byte("nobody"), net.UDPAddrFromAddrPort(addr("8.8.8.8:8")))
	a.WriteTo([]byte("late"), net.UDPAddrFromAddrPort(b.addr))
	b.Close()
	if _, _, err := b.ReadFrom(make([]byte, 10)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("ReadFrom after Close: %v, want net.ErrClosed", err)
	}
	if _, err := b.WriteTo([]byte("x"), net.UDPAddrFromAddrPort(a.addr)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("WriteTo after Close: %v, want net.ErrClosed", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, drops := n.Drops()
		if drops[dropNoHost] == 1 && drops[dropGone] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("drops %v: want one to nobody and one to a host that left", drops)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
