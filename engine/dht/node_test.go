package dht

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

var fast = Config{QueryTimeout: 500 * time.Millisecond, MaintenanceInterval: 100 * time.Millisecond}

// TestAddContacts joins through a contact added later, by a host name
// that the test's resolver maps to a loopback address; bad contacts are
// skipped, and a flood of contacts does not block.
func TestAddContacts(t *testing.T) {
	_, raddr := startNode(t, "127.0.0.30", 0, fast)
	cfg := fast
	cfg.Resolver = func(ctx context.Context, host string) ([]netip.Addr, error) {
		if host == "router.test" {
			return []netip.Addr{raddr.Addr()}, nil
		}
		return nil, fmt.Errorf("no such host %q", host)
	}
	n, _ := startNode(t, "127.0.0.31", 0, cfg)
	n.AddContacts([]string{"nohost.test:1", "not a contact", fmt.Sprintf("router.test:%d", raddr.Port())})
	waitFor(t, "a join through the added contact (recorded once its lookup ends)", 5*time.Second, func() bool {
		st := n.Stats()
		return st.Good > 0 && !st.LastBootstrap.IsZero()
	})
	if st := n.Stats(); st.LastBootstrapSource != SourceAdded {
		t.Fatalf("joined through %q", st.LastBootstrapSource)
	}
	many := make([]string, 10000)
	for i := range many {
		many[i] = fmt.Sprintf("127.0.0.99:%d", 1+i)
	}
	n.AddContacts(many) // returns at once; the queue keeps 256
}

func TestAddPeerDHTPort(t *testing.T) {
	_, baddr := startNode(t, "127.0.0.32", 0, fast)
	a, _ := startNode(t, "127.0.0.33", 0, fast)
	a.AddPeerDHTPort(netip.AddrPort{}) // ignored
	a.AddPeerDHTPort(baddr)
	waitFor(t, "the peer's DHT node in the table, and the join recorded", 5*time.Second, func() bool {
		st := a.Stats()
		return st.Good > 0 && !st.LastBootstrap.IsZero()
	})
	if st := a.Stats(); st.LastBootstrapSource != SourcePeerPort {
		t.Fatalf("joined through %q", st.LastBootstrapSource)
	}
	if got := a.ClosestGood(8); len(got) != 1 || got[0] != baddr {
		t.Fatalf("ClosestGood: %v", got)
	}
}

func TestPing(t *testing.T) {
	_, baddr := startNode(t, "127.0.0.1", 0, fast)
	a, _ := startNode(t, "127.0.0.1", 0, fast)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// "localhost" may resolve to ::1 first, which our IPv4 socket cannot
	// reach: Ping goes on to 127.0.0.1.
	rtt, err := a.Ping(ctx, fmt.Sprintf("localhost:%d", baddr.Port()))
	if err != nil || rtt <= 0 {
		t.Fatalf("ping localhost: %v, %v", rtt, err)
	}
	dead, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	if _, err := a.Ping(ctx, dead.LocalAddr().String()); !errors.Is(err, ErrTimeout) {
		t.Fatalf("ping of a silent socket: %v", err)
	}
	for _, bad := range []string{"", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:99999"} {
		if _, err := a.Ping(ctx, bad); err == nil {
			t.Fatalf("ping %q succeeded", bad)
		}
	}
}

// TestSetExternalIP derives a BEP 42 ID from a public address, keeps the
// table, and ignores local addresses; votes from responders do the same.
func TestSetExternalIP(t *testing.T) {
	_, baddr := startNode(t, "127.0.0.34", 0, fast)
	cfg := fast
	cfg.Bootstrap = []string{baddr.String()}
	n, _ := startNode(t, "127.0.0.35", 0, cfg)
	waitFor(t, "a join", 5*time.Second, func() bool { return n.Stats().Good > 0 })
	ip := netip.MustParseAddr("203.0.113.5")
	before := n.ID()
	n.SetExternalIP(netip.MustParseAddr("127.0.0.1"))
	if n.ID() != before {
		t.Fatal("a loopback address changed the ID")
	}
	n.SetExternalIP(ip)
	id := n.ID()
	if id == before || !secureIDValid(id, ip) {
		t.Fatalf("ID %x is not a BEP 42 ID for %v", id, ip)
	}
	n.SetExternalIP(ip)
	if n.ID() != id {
		t.Fatal("the same address changed the ID again")
	}
	if st := n.Stats(); st.ExternalIP != ip || st.Good == 0 {
		t.Fatalf("after SetExternalIP: %+v", st)
	}
	// Votes do not override an address set by the caller...
	for i := range 5 {
		n.vote(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), netip.MustParseAddr("198.51.100.77"))
	}
	if n.Stats().ExternalIP != ip {
		t.Fatal("votes overrode SetExternalIP")
	}
	// ...but set it on a node that has none.
	m, _ := startNode(t, "127.0.0.36", 0, fast)
	voted := netip.MustParseAddr("198.51.100.77")
	for i := range 3 {
		m.vote(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), voted)
	}
	if m.Stats().ExternalIP.IsValid() {
		t.Fatal("3 votes were enough")
	}
	m.vote(netip.MustParseAddr("198.51.100.3"), voted)
	if m.Stats().ExternalIP != voted || !secureIDValid(m.ID(), voted) {
		t.Fatalf("after 4 votes: %v, ID %x", m.Stats().ExternalIP, m.ID())
	}
}

// TestRouterMode checks the routing-only node: contacts, no tokens, no
// values, announce_peer refused with 204, no lookups for torrents.
func TestRouterMode(t *testing.T) {
	cfg := fast
	cfg.Router = true
	r, raddr := startNode(t, "127.0.0.40", 0, cfg)
	for i := range 3 {
		c := fast
		c.Bootstrap = []string{raddr.String()}
		startNode(t, fmt.Sprintf("127.0.0.%d", 41+i), 0, c)
	}
	waitFor(t, "the router to know 3 nodes", 5*time.Second, func() bool { return r.Stats().Good >= 3 })
	// A client the router has verified (it answered the router's ping;
	// an unverified one gets replies within twice its query's size).
	c := newClient(t, "127.0.0.2")
	c.answer = true
	c.call(krpc.Msg{Q: krpc.MethodFindNode, A: krpc.Args{Target: randomID()}}, raddr)
	waitFor(t, "the router to verify the client", 5*time.Second, func() bool {
		c.recv(10 * time.Millisecond)
		return r.answerers.Has(c.addr(), time.Now())
	})
	ih := randomID()
	m, _ := c.call(krpc.Msg{Q: krpc.MethodGetPeers, A: krpc.Args{InfoHash: ih}}, raddr)
	if m.Y != krpc.KindResponse || len(m.R.Nodes) < 3 || len(m.R.Values) != 0 || len(m.R.Token) != 0 {
		t.Fatalf("router get_peers: %+v", m)
	}
	m, _ = c.call(krpc.Msg{Q: krpc.MethodAnnouncePeer, A: krpc.Args{InfoHash: ih, Token: []byte("x"), Port: 1}}, raddr)
	if m.Y != krpc.KindError || m.E.Code != krpc.CodeMethodUnknown {
		t.Fatalf("router announce_peer: %+v", m)
	}
	if err := r.GetPeers(context.Background(), ih, 0, nil); !errors.Is(err, ErrRouter) {
		t.Fatalf("router GetPeers: %v", err)
	}
}

// TestReadOnly checks BEP 43: a read-only node looks up and announces, but
// answers no query and stays out of others' tables.
func TestReadOnly(t *testing.T) {
	b, baddr := startNode(t, "127.0.0.50", 0, fast)
	cfg := fast
	cfg.ReadOnly = true
	cfg.Bootstrap = []string{baddr.String()}
	ro, roaddr := startNode(t, "127.0.0.51", 0, cfg)
	waitFor(t, "the read-only node to join", 5*time.Second, func() bool { return ro.Stats().Good > 0 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ro.GetPeers(ctx, randomID(), 1234, nil); err != nil {
		t.Fatalf("read-only GetPeers: %v", err)
	}
	if b.tables[ipv4].Len() != 0 {
		t.Fatal("a read-only node entered another node's table")
	}
	c := newClient(t, "127.0.0.2")
	c.send(krpc.Msg{Q: krpc.MethodPing}, roaddr)
	if m, _, ok := c.recv(300 * time.Millisecond); ok {
		t.Fatalf("a read-only node answered: %+v", m)
	}
}

// TestRebootstrapWhenTableEmpties: every known node goes away, the table
// empties of good nodes, and the node joins again through its contact
// once something answers there.
func TestRebootstrapWhenTableEmpties(t *testing.T) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 60)})
	if err != nil {
		t.Fatal(err)
	}
	contact := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	c := fast
	c.Conn = conn
	first, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- first.Serve(ctx) }()
	cfg := fast
	cfg.Bootstrap = []string{contact.String()}
	n, _ := startNode(t, "127.0.0.61", 0, cfg)
	waitFor(t, "a join", 5*time.Second, func() bool { return n.Stats().Good > 0 })
	joined := n.Stats().LastBootstrap

	// The network goes away.
	cancel()
	<-done
	conn.Close()
	lctx, lcancel := context.WithTimeout(context.Background(), 2*time.Second)
	n.GetPeers(lctx, randomID(), 0, nil) // fails, and marks the node questionable
	lcancel()
	waitFor(t, "the table to lose its good nodes", 5*time.Second, func() bool { return n.Stats().Good == 0 })

	// Something answers at the contact again.
	startNode(t, contact.Addr().String(), int(contact.Port()), fast)
	waitFor(t, "a new join", 10*time.Second, func() bool {
		st := n.Stats()
		return st.Good > 0 && st.LastBootstrap.After(joined)
	})
}

// TestServeEndsEverything checks that Serve's goroutines end with it and
// that methods called afterwards fail cleanly.
func TestServeEndsEverything(t *testing.T) {
	_, baddr := startNode(t, "127.0.0.70", 0, fast)
	// It runs (the ro flag spares us its ping back, and that ping's timer).
	newClient(t, "127.0.0.2").call(krpc.Msg{Q: krpc.MethodPing, ReadOnly: true}, baddr)
	before := runtime.NumGoroutine()
	for range 20 { // settled: Serve has started all its goroutines
		time.Sleep(5 * time.Millisecond)
		before = max(before, runtime.NumGoroutine())
	}
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 71)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := fast
	c.Conn, c.Bootstrap = conn, []string{baddr.String()}
	n, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.NumGoroutine() > before {
		t.Fatal("New started goroutines")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Serve(ctx) }()
	waitFor(t, "a join", 5*time.Second, func() bool { return n.Stats().Good > 0 })
	n.AddContacts([]string{baddr.String()})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := n.Serve(context.Background()); err == nil {
		t.Fatal("a second Serve ran")
	}
	if err := n.GetPeers(context.Background(), randomID(), 0, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("GetPeers after Serve: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The socket is the caller's: still open and readable.
	if err := conn.SetReadDeadline(time.Now().Add(10 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := conn.ReadFrom(make([]byte, 1500)); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("reading the socket after Serve: %v", err)
	}
}

// TestContactIsOurself: a bootstrap contact that is the node itself (the
// settings may name this very machine) is harmless.
func TestContactIsOurself(t *testing.T) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 90)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	self := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	c := fast
	c.Conn, c.Bootstrap = conn, []string{self.String()}
	n, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Serve(ctx) }()
	lctx, lcancel := context.WithTimeout(context.Background(), 5*time.Second)
	err = n.GetPeers(lctx, randomID(), 0, nil)
	lcancel()
	if !errors.Is(err, ErrNoNodes) || n.tables[ipv4].Len() != 0 {
		t.Fatalf("GetPeers through ourselves: %v; table %d", err, n.tables[ipv4].Len())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
