package engine

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestContactVotes: two peers agreeing make an address; one does not;
// local addresses do not count; a flood of reports from many peers keeps
// at most contactVoters of them, and the latest agree.
func TestContactVotes(t *testing.T) {
	var v contactVotes
	a, b := netip.MustParseAddr("203.0.113.7"), netip.MustParseAddr("198.51.100.9")
	p := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}) }
	v.add(p(1), a)
	if got := v.agreed(); got.IsValid() {
		t.Fatalf("one report gave %v", got)
	}
	v.add(netip.MustParseAddr("10.0.0.1"), a)
	v.add(p(1), a) // the same peer again
	v.add(p(2), netip.MustParseAddr("127.0.0.1"))
	if got := v.agreed(); got.IsValid() {
		t.Fatalf("one public report and local ones gave %v", got)
	}
	v.add(netip.MustParseAddr("::ffff:192.0.2.3"), a)
	if got := v.agreed(); got != a {
		t.Fatalf("two peers agreeing gave %v, want %v", got, a)
	}
	for i := range 10000 {
		v.add(netip.AddrFrom4([4]byte{100, 64 + byte(i>>16), byte(i >> 8), byte(i)}), b)
	}
	if len(v.votes) > contactVoters || len(v.order) > contactVoters {
		t.Fatalf("%d votes, %d in order, bound %d", len(v.votes), len(v.order), contactVoters)
	}
	if got := v.agreed(); got != b {
		t.Fatalf("after the flood: %v, want %v", got, b)
	}
	if v.heard != 10005 {
		t.Fatalf("heard %d", v.heard)
	}
}

// TestMyContactFromPeers: with no UPnP and a DHT that knows no address
// (nothing to vote on loopback), the address two libtorrent peers say in
// their extended handshakes (BEP 10 yourip) becomes our contact, marked
// "peers". Loopback counts here only because the test allows it.
func TestMyContactFromPeers(t *testing.T) {
	src := t.TempDir()
	content := testContent(t, src, "mine", 20_000)
	data, _ := mktorrent(t, content, 15)
	tf := filepath.Join(t.TempDir(), "mine.torrent")
	writeFile(t, tf, data)
	_, p1 := testpeers.SeedLT(t, tf, src)
	_, p2 := testpeers.SeedLT(t, tf, src, "--ip", "127.0.0.2")

	e := newEngine(t, Config{})
	e.yourIP.public = func(netip.Addr) bool { return true }
	runEngine(t, e)
	port := e.testPort(t)
	if s := <-e.Snapshots(); s.DHT.MyContact != "" || s.DHT.MyContactSource != "" {
		t.Fatalf("contact %q from %q before any peer", s.DHT.MyContact, s.DHT.MyContactSource)
	}
	ih, err := e.AddTorrent(data, AddOptions{Peers: []string{fmt.Sprintf("127.0.0.1:%d", p1), fmt.Sprintf("127.0.0.2:%d", p2)}})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, e, ih, StateSeeding, 60*time.Second)
	want := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.After(20 * time.Second)
	for {
		select {
		case s := <-e.Snapshots():
			if s.DHT.MyContact == want && s.DHT.MyContactSource == "peers" {
				return
			}
		case <-deadline:
			e.yourIP.mu.Lock()
			defer e.yourIP.mu.Unlock()
			t.Fatalf("no contact from the peers; heard %d, votes %v", e.yourIP.heard, e.yourIP.votes)
		}
	}
}

// TestMyContactFromDHT: with no UPnP address, the external address the
// DHT node holds becomes our contact, marked "DHT". The node takes it
// from BEP 42 votes of public nodes (tested in package dht); none can
// vote on loopback, so SetExternalIP stands in for them here.
func TestMyContactFromDHT(t *testing.T) {
	e := testEngine(t, Config{})
	port := e.testPort(t)
	e.netMu.Lock()
	n := e.net
	e.netMu.Unlock()
	if n == nil || n.dht == nil {
		t.Fatal("no DHT node")
	}
	n.dht.SetExternalIP(netip.MustParseAddr("203.0.113.5"))
	want := fmt.Sprintf("203.0.113.5:%d", port)
	deadline := time.After(10 * time.Second)
	for {
		select {
		case s := <-e.Snapshots():
			if s.DHT.MyContact == want && s.DHT.MyContactSource == "DHT" {
				return
			}
		case <-deadline:
			t.Fatal("the DHT's address did not become the contact")
		}
	}
}
