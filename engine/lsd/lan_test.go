//go:build linux

package lsd

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/netip"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/peerwire"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// These tests run Services on hosts of a private LAN (network namespaces
// on a bridge, made by testpeers.NewLAN): multicast never leaves it.

// startOn runs a Service for port on host h, switched on, until the test
// ends, and waits until it has joined the groups on the LAN's interface.
// tune, if not nil, may change the Service before it runs.
func startOn(t *testing.T, h *testpeers.LANHost, port int, tune func(*Service)) *Service {
	t.Helper()
	s := serveOn(t, h, port, tune)
	waitFor(t, 10*time.Second, "joining the groups on "+testpeers.LANIface, func() bool {
		st := s.Stats()
		return len(st.Interfaces) == 1 && st.Interfaces[0] == testpeers.LANIface
	})
	return s
}

// serveOn is startOn without the wait.
func serveOn(t *testing.T, h *testpeers.LANHost, port int, tune func(*Service)) *Service {
	t.Helper()
	s := New(Config{
		Port:       port,
		Interfaces: interfacesOf(h),
		ListenPacket: func(network, address string) (c net.PacketConn, err error) {
			err = h.Do(func() (err error) {
				c, err = net.ListenPacket(network, address)
				return err
			})
			return c, err
		},
		Logf: t.Logf,
	})
	if tune != nil {
		tune(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return within 5 s of its context ending")
		}
	})
	s.SetEnabled(true)
	return s
}

// interfacesOf lists h's interfaces as DefaultInterfaces does, from
// inside its namespace.
func interfacesOf(h *testpeers.LANHost) func() ([]Interface, error) {
	return func() (list []Interface, err error) {
		err = h.Do(func() (err error) {
			list, err = DefaultInterfaces()
			return err
		})
		return list, err
	}
}

// waitFor polls ok every 20 ms until it holds, failing t after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v", what, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// collect reads peers from s until want returns true for the set read so
// far, failing t after timeout.
func collect(t *testing.T, s *Service, timeout time.Duration, what string, want func([]Peer) bool) []Peer {
	t.Helper()
	var got []Peer
	deadline := time.After(timeout)
	for !want(got) {
		select {
		case p := <-s.Peers():
			got = append(got, p)
		case <-deadline:
			t.Fatalf("no %s within %v; heard %v; stats %+v", what, timeout, got, s.Stats())
		}
	}
	return got
}

func randomHash(t *testing.T) metainfo.Hash {
	var h metainfo.Hash
	if _, err := rand.Read(h[:]); err != nil {
		t.Fatal(err)
	}
	return h
}

// isHost reports whether a is h's IPv4 or IPv6 address on the LAN, or an
// IPv6 link-local address on its interface (the system picks the source
// address of h's IPv6 announces).
func isHost(a netip.Addr, h *testpeers.LANHost, v6 bool) bool {
	if v6 {
		return a == h.IPv6 || (a.IsLinkLocalUnicast() && a.Zone() == testpeers.LANIface)
	}
	return a == h.IPv4
}

// TestLANTwoServicesFindEachOther: two Services on two hosts of a LAN,
// both announcing one torrent, each hear the other over IPv4 and IPv6 with
// the port it announced, and never themselves. Each announces every half
// second here: whichever adds the torrent first announces it before the
// other has it, and that one announce is not reported.
func TestLANTwoServicesFindEachOther(t *testing.T) {
	lan := testpeers.NewLAN(t, "lsd", 2)
	h0, h1 := lan.Hosts[0], lan.Hosts[1]
	often := func(s *Service) { s.sched.interval, s.sched.minGap = 500*time.Millisecond, 500*time.Millisecond }
	a := startOn(t, h0, 6881, often)
	b := startOn(t, h1, 51413, often)
	shared, onlyA := randomHash(t), randomHash(t)
	a.Add(shared)
	a.Add(onlyA)
	b.Add(shared)

	for _, c := range []struct {
		s    *Service
		peer *testpeers.LANHost
		port uint16
	}{{a, h1, 51413}, {b, h0, 6881}} {
		var v4, v6 bool
		got := collect(t, c.s, 10*time.Second, "peer over IPv4 and IPv6", func(ps []Peer) bool {
			for _, p := range ps {
				if p.InfoHash != shared || p.Addr.Port() != c.port {
					t.Fatalf("heard %v, want %v at port %d", p, shared, c.port)
				}
				switch {
				case isHost(p.Addr.Addr(), c.peer, false):
					v4 = true
				case isHost(p.Addr.Addr(), c.peer, true):
					v6 = true
				default:
					t.Fatalf("heard %v: not from %s", p, c.peer.NS)
				}
			}
			return v4 && v6
		})
		t.Logf("heard %v", got)
	}
	// Each heard its own announces come back (multicast loopback) and
	// dropped them by their cookie; b dropped the torrent it lacks; the
	// repeats of a peer within a minute were not reported again.
	waitFor(t, 5*time.Second, "own announces, torrents lacked and repeats dropped", func() bool {
		sa, sb := a.Stats(), b.Stats()
		return sa.Dropped.Own >= 2 && sb.Dropped.Own >= 2 && sb.Dropped.Unwanted > 0 && sa.Dropped.Repeated > 0 && sb.Dropped.Repeated > 0
	})
	for _, s := range []*Service{a, b} {
		if st := s.Stats(); st.Reported != 2 || st.Dropped.Malformed != 0 || st.Dropped.Foreign != 0 || st.SendErrors != 0 {
			t.Errorf("%+v: want 2 peers reported, nothing malformed or foreign, no send errors", st)
		}
	}
}

// TestLANOffAndOn: switched off, a Service leaves the groups and hears
// nothing; switched on again, it joins them and announces again.
func TestLANOffAndOn(t *testing.T) {
	lan := testpeers.NewLAN(t, "lsd", 2)
	ih := randomHash(t)
	short := func(s *Service) { s.sched.minGap = 200 * time.Millisecond }
	a := startOn(t, lan.Hosts[0], 6881, short)
	b := startOn(t, lan.Hosts[1], 6882, short)
	a.Add(ih)
	b.Add(ih)
	collect(t, a, 10*time.Second, "peer", func(ps []Peer) bool { return len(ps) > 0 })

	b.SetEnabled(false)
	waitFor(t, 5*time.Second, "b leaving the groups", func() bool { return len(b.Stats().Interfaces) == 0 })
	sent := b.Stats().Sent
	received := b.Stats().Received
	a.Remove(ih)
	time.Sleep(300 * time.Millisecond) // past minGap
	a.Add(ih)                          // announces again; b, off, hears nothing
	waitFor(t, 5*time.Second, "a announcing again", func() bool { return a.Stats().Sent >= 4 })
	time.Sleep(200 * time.Millisecond)
	if st := b.Stats(); st.Sent != sent || st.Received != received {
		t.Fatalf("b, off, sent %d and received %d more", st.Sent-sent, st.Received-received)
	}

	// Back on: it joins the interface again, which makes its torrent due.
	b.SetEnabled(true)
	for len(a.Peers()) > 0 {
		<-a.Peers()
	}
	// a reported b less than a minute ago: it drops b's repeat.
	waitFor(t, 5*time.Second, "b announcing again", func() bool { return b.Stats().Sent >= sent+2 })
	waitFor(t, 5*time.Second, "a dropping the repeat", func() bool { return a.Stats().Dropped.Repeated >= 2 })
}

// TestLANLibtorrent: our Service and libtorrent (enable_lsd) on two hosts
// of a LAN, with no DHT, tracker or peer address given, find each other:
// we hear libtorrent's announce of its torrent with its port, and
// libtorrent, hearing ours, connects to the listener at the port we
// announced and sends a BitTorrent handshake for the torrent.
func TestLANLibtorrent(t *testing.T) {
	testpeers.RequireLibtorrent(t)
	lan := testpeers.NewLAN(t, "lsd", 2)
	us, them := lan.Hosts[0], lan.Hosts[1]
	dir := t.TempDir()
	data := filepath.Join(dir, "lsd.bin")
	testpeers.RandomFile(t, data, 256<<10, 14)
	torrent, raw := testpeers.Mktorrent(t, data, 16)
	mi, err := metainfo.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	ih := mi.InfoHash

	var l net.Listener
	if err := us.Do(func() (err error) {
		l, err = net.Listen("tcp", netip.AddrPortFrom(us.IPv4, 0).String())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	// libtorrent first, announcing every 2 s instead of 5 minutes; then
	// ours, with the real timing: it announces the torrent once, as it is
	// added, and libtorrent must hear that one.
	lt := them.Start(t, testpeers.Python, testpeers.LTPeer(), "seed", torrent, dir,
		"--port", "0", "--ip", them.IPv4.String(), "--lsd", "--lsd-interval", "2", "--seconds", "60")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("libtorrent's standard error:\n%s", lt.Stderr())
		}
	})
	ltPort := lt.Port(t)
	lt.Wait(t, "SEEDING", 30*time.Second)
	// Our message names another torrent first: libtorrent must read
	// past it (several info hashes in one announce).
	start := time.Now()
	s := startOn(t, us, port, func(s *Service) {
		s.Add(randomHash(t))
		s.Add(ih)
	})
	want := Peer{InfoHash: ih, Addr: netip.AddrPortFrom(them.IPv4, uint16(ltPort))}
	collect(t, s, 20*time.Second, "announce from libtorrent", func(ps []Peer) bool {
		for _, p := range ps {
			if p != want {
				t.Fatalf("heard %v, want %v", p, want)
			}
		}
		return len(ps) > 0
	})
	t.Logf("heard libtorrent's announce %v after %v", want, time.Since(start).Round(time.Millisecond))

	// libtorrent may first try an encrypted handshake (MSE), which this
	// listener does not speak; it then retries in plain text.
	deadline := time.Now().Add(30 * time.Second)
	l.(*net.TCPListener).SetDeadline(deadline)
	for attempt := 1; ; attempt++ {
		c, err := l.Accept()
		if err != nil {
			t.Fatalf("libtorrent did not connect with a handshake for %v within 30 s: %v; stderr:\n%s", ih, err, lt.Stderr())
		}
		c.SetDeadline(deadline)
		hs, err := peerwire.ReadHandshake(c)
		remote := c.RemoteAddr().(*net.TCPAddr).AddrPort().Addr().Unmap()
		c.Close()
		if remote != them.IPv4 {
			t.Fatalf("connection from %v, want %v", remote, them.IPv4)
		}
		if err != nil {
			t.Logf("connection %d from libtorrent: %v", attempt, err)
			continue
		}
		if hs.InfoHash != ih {
			t.Fatalf("libtorrent's handshake is for %v, want %v", hs.InfoHash, ih)
		}
		t.Logf("libtorrent connected with a handshake for %v (connection %d) after %v", ih, attempt, time.Since(start).Round(time.Millisecond))
		break
	}
	// And it says it learnt our address from local service discovery, from
	// the one message (per family) we sent.
	line := lt.Wait(t, "LSDPEER", 10*time.Second)
	if ours := netip.AddrPortFrom(us.IPv4, uint16(port)).String(); !strings.Contains(line, ours) {
		t.Fatalf("libtorrent: %q, want our address %s", line, ours)
	}
	if st := s.Stats(); st.Sent != 2 {
		t.Fatalf("sent %d messages, want 1 per family naming both torrents", st.Sent)
	}
}

// TestLANFlood: one host floods the group with garbage, oversized packets
// and valid announces of our torrent (each naming a new port, so each a
// new peer) while nobody reads the Service's peers. The Service reads
// them at its sender's rate, keeps its queue at its bound and its memory
// flat, and afterwards still hears another host at once.
func TestLANFlood(t *testing.T) {
	lan := testpeers.NewLAN(t, "lsd", 3)
	us, flooder, other := lan.Hosts[0], lan.Hosts[1], lan.Hosts[2]
	ih := randomHash(t)
	const queue = 4
	s := startOn(t, us, 6881, func(s *Service) {
		s.cfg.QueueLen = queue
		s.peers = make(chan Peer, queue)
		s.Add(ih)
	})

	var conn *ipv4.PacketConn
	if err := flooder.Do(func() error {
		c, err := net.ListenPacket("udp4", netip.AddrPortFrom(flooder.IPv4, 0).String())
		if err != nil {
			return err
		}
		ifi, err := net.InterfaceByName(testpeers.LANIface)
		if err != nil {
			return err
		}
		conn = ipv4.NewPacketConn(c)
		return conn.SetMulticastInterface(ifi)
	}); err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	group := &net.UDPAddr{IP: net.ParseIP(Group4), Port: Port}

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)

	const packets = 30000
	rng := mrand.New(mrand.NewPCG(1, 2))
	junk := make([][]byte, 64)
	for i := range junk {
		junk[i] = make([]byte, 1+rng.IntN(2000))
		for j := range junk[i] {
			junk[i][j] = byte(rng.Uint32())
		}
	}
	others := make([]metainfo.Hash, MaxHashesPerMessage-1)
	start := time.Now()
	for i := range packets {
		var msg []byte
		switch i % 4 {
		case 0: // garbage of any length up to an oversized 2000 bytes
			msg = junk[i/4%len(junk)]
		case 1: // our torrent among others
			for j := range others {
				binary.LittleEndian.PutUint64(others[j][:], rng.Uint64())
			}
			msg = AppendAnnounce(nil, HostIPv4, Announce{Port: uint16(1 + i), InfoHashes: append([]metainfo.Hash{ih}, others...)})
		default: // our torrent alone
			msg = AppendAnnounce(nil, HostIPv4, Announce{Port: uint16(1 + i), InfoHashes: []metainfo.Hash{ih}})
		}
		if _, err := conn.WriteTo(msg, nil, group); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
	}
	// Wait until the Service has read what reached it.
	var st Stats
	last := uint64(0)
	waitFor(t, 10*time.Second, "end of reading", func() bool {
		time.Sleep(100 * time.Millisecond)
		st = s.Stats()
		done := st.Received == last
		last = st.Received
		return done && st.Received > 0
	})
	elapsed := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d packets sent in %v; %+v; heap grew by %d bytes", packets, elapsed.Round(time.Millisecond), st, growth)

	d := st.Dropped
	if st.Received < packets/10 {
		t.Fatalf("only %d of %d packets reached the Service", st.Received, packets)
	}
	// Packets past the limiter (but our own two): at most the sender's
	// burst and rate.
	if max, past := uint64(senderBurst+senderRate*elapsed.Seconds()+1), st.Received-d.Limited-d.Own; past > max {
		t.Errorf("%d packets got past the sender's limit, over %d", past, max)
	}
	if st.Reported > queue || len(s.Peers()) != queue || d.QueueFull == 0 {
		t.Errorf("queue: %d reported, %d waiting (bound %d), %d dropped", st.Reported, len(s.Peers()), queue, d.QueueFull)
	}
	if growth > 4<<20 {
		t.Errorf("heap grew by %d bytes", growth)
	}

	// Another host is heard at once.
	for len(s.Peers()) > 0 {
		<-s.Peers()
	}
	o := startOn(t, other, 7777, nil)
	o.Add(ih)
	collect(t, s, 5*time.Second, "announce from another host after the flood", func(ps []Peer) bool {
		for _, p := range ps {
			if p.Addr.Port() == 7777 && isHost(p.Addr.Addr(), other, false) {
				return true
			}
		}
		return false
	})
}

// TestLANInterfaceComesAndGoes: a Service with no interface to join
// announces nothing; when one appears it joins it at the next look and
// announces its torrent there at once; when it goes, it leaves it.
func TestLANInterfaceComesAndGoes(t *testing.T) {
	lan := testpeers.NewLAN(t, "lsd", 2)
	ih := randomHash(t)
	var up atomic.Bool
	var looks atomic.Int32 // looks at the interface list while it is empty
	a := serveOn(t, lan.Hosts[0], 6881, func(s *Service) {
		s.refreshEvery = 100 * time.Millisecond
		all := interfacesOf(lan.Hosts[0])
		s.cfg.Interfaces = func() ([]Interface, error) {
			if !up.Load() {
				looks.Add(1)
				return nil, nil
			}
			return all()
		}
		s.Add(ih)
	})
	b := startOn(t, lan.Hosts[1], 6882, func(s *Service) { s.Add(ih) })
	waitFor(t, 10*time.Second, "three looks at no interface", func() bool { return looks.Load() >= 3 })
	if st := a.Stats(); len(st.Interfaces) != 0 || st.Sent != 0 || st.Received != 0 || st.LastError != "" {
		t.Fatalf("with no interface: %+v", st)
	}

	up.Store(true)
	collect(t, b, 5*time.Second, "announce on the new interface", func(ps []Peer) bool {
		return len(ps) > 0 && ps[0].Addr.Port() == 6881
	})
	// b may hear the first family's message before a has counted it and
	// sent the other: wait for both (one per family), then no more.
	waitFor(t, 5*time.Second, "both families' announces counted", func() bool { return a.Stats().Sent >= 2 })
	if st := a.Stats(); len(st.Interfaces) != 1 || st.Sent != 2 {
		t.Fatalf("after the interface came: %+v", st)
	}

	up.Store(false)
	waitFor(t, 5*time.Second, "leaving the interface", func() bool { return len(a.Stats().Interfaces) == 0 })
}

// TestLANServeEndsItsGoroutines: switching a Service off and on and
// ending it leaves no goroutine behind.
func TestLANServeEndsItsGoroutines(t *testing.T) {
	lan := testpeers.NewLAN(t, "lsd", 1)
	before := runtime.NumGoroutine()
	t.Run("serve", func(t *testing.T) {
		s := startOn(t, lan.Hosts[0], 6881, nil)
		for range 3 {
			s.SetEnabled(false)
			waitFor(t, 5*time.Second, "leaving", func() bool { return len(s.Stats().Interfaces) == 0 })
			s.SetEnabled(true)
			waitFor(t, 5*time.Second, "joining", func() bool { return len(s.Stats().Interfaces) == 1 })
		}
	})
	waitFor(t, 5*time.Second, fmt.Sprintf("goroutines back to %d", before), func() bool {
		return runtime.NumGoroutine() <= before
	})
}
