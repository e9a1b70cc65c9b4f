package dht

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestRestartFromSavedTable runs a small network of our nodes on loopback
// UDP; one node saves its table on exit, restarts with no bootstrap
// contact on the same port, and rejoins through the saved table: same ID,
// its saved nodes answer, it finds a peer announced meanwhile, and others
// reach it.
func TestRestartFromSavedTable(t *testing.T) {
	cfg := Config{QueryTimeout: time.Second, MaintenanceInterval: 200 * time.Millisecond}
	var others []*Node
	var first netip.AddrPort
	for i := range 6 {
		c := cfg
		if i > 0 {
			c.Bootstrap = []string{first.String()}
		}
		n, a := startNode(t, netip.AddrFrom4([4]byte{127, 0, 0, byte(21 + i)}).String(), 0, c)
		if i == 0 {
			first = a
		}
		others = append(others, n)
	}
	state := filepath.Join(t.TempDir(), "state", "dht-table.dat")

	// First run: bootstrap from a contact, then stop (saving the table).
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 20)})
	if err != nil {
		t.Fatal(err)
	}
	port := conn.LocalAddr().(*net.UDPAddr).Port
	c := cfg
	c.Conn, c.StateFile, c.Bootstrap, c.Logf = conn, state, []string{first.String()}, t.Logf
	n, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Serve(ctx) }()
	waitFor(t, "the first run to know 5 good nodes and record its join (when its lookup ends)", 10*time.Second, func() bool {
		st := n.Stats()
		return st.Good >= 5 && !st.LastBootstrap.IsZero()
	})
	if src := n.Stats().LastBootstrapSource; src != SourceContacts {
		t.Fatalf("first run bootstrapped from %q", src)
	}
	id := n.ID()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	conn.Close()
	// What `swarmdrop create` reads for a torrent's nodes without a node.
	saved := SavedContacts(state, 3)
	if len(saved) != 3 {
		t.Fatalf("SavedContacts gave %v, want 3 of the saved nodes", saved)
	}
	for _, a := range saved {
		if a.Addr().As4()[3] < 21 || a.Addr().As4()[3] > 26 {
			t.Fatalf("SavedContacts gave %v, not one of the network's nodes", a)
		}
	}
	if got := SavedContacts(filepath.Join(t.TempDir(), "missing.dat"), 8); got != nil {
		t.Fatalf("SavedContacts of a missing file = %v", got)
	}
	if st, err := os.Stat(state); err != nil || st.Size() < 6*26 || n.Stats().TableSavedAt.IsZero() {
		t.Fatalf("state file: %v, %v", st, err)
	}

	// Meanwhile a peer is announced.
	ih := randomID()
	actx, acancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer acancel()
	if err := others[3].GetPeers(actx, ih, 7777, func([]netip.AddrPort) {}); err != nil {
		t.Fatal(err)
	}

	// Second run: no bootstrap contact at all.
	n2, addr2 := startNode(t, "127.0.0.20", port, Config{StateFile: state, QueryTimeout: time.Second, MaintenanceInterval: 200 * time.Millisecond})
	if n2.ID() != id {
		t.Fatalf("restarted with ID %x, saved %x", n2.ID(), id)
	}
	waitFor(t, "the restarted node to know good nodes and record its join", 10*time.Second, func() bool {
		st := n2.Stats()
		return st.Good >= 5 && !st.LastBootstrap.IsZero()
	})
	if st := n2.Stats(); st.LastBootstrapSource != SourceSavedTable {
		t.Fatalf("restart bootstrapped from %q", st.LastBootstrapSource)
	}
	var found []netip.AddrPort
	gctx, gcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer gcancel()
	if err := n2.GetPeers(gctx, ih, 0, func(p []netip.AddrPort) { found = append(found, p...) }); err != nil {
		t.Fatal(err)
	}
	if want := netip.MustParseAddrPort("127.0.0.24:7777"); !slices.Contains(found, want) {
		t.Fatalf("found %v, want %v", found, want)
	}
	pctx, pcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer pcancel()
	if _, err := others[5].Ping(pctx, addr2.String()); err != nil {
		t.Fatalf("the restarted node does not answer: %v", err)
	}
	if n2.Stats().IncomingQueries == 0 {
		t.Fatal("no query reached the restarted node")
	}
}

// TestCorruptStateFile starts fresh from an unreadable state file and
// replaces it on exit.
func TestCorruptStateFile(t *testing.T) {
	state := filepath.Join(t.TempDir(), "dht-table.dat")
	os.WriteFile(state, []byte("d2:id3:abce"), 0o600)
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	n, err := New(Config{Conn: conn, StateFile: state, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := n.Serve(ctx); err != nil {
		t.Fatal(err)
	}
	saved, err := loadTable(state)
	if err != nil || !saved.ok || saved.id != n.ID() {
		t.Fatalf("after Serve: %+v, %v", saved, err)
	}
}
