package engine

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestIPv6WithLibtorrent: listening on "::" (both families, one port
// number), we download from a libtorrent seeder on ::1; then two
// libtorrents download from us on that one port at once, one over IPv6
// and uTP only, one over IPv4 and TCP. Byte-identical each time, and our
// peer list names each connection's family and transport.
func TestIPv6WithLibtorrent(t *testing.T) {
	src := t.TempDir()
	content := testContent(t, src, "set", 300_000)
	data, mi := mktorrent(t, content, 15)
	torrentFile := filepath.Join(t.TempDir(), "set.torrent")
	writeFile(t, torrentFile, data)
	// Rate limits on both sides make the transfers last long enough for
	// the snapshots to see them.
	_, ltPort := testpeers.SeedLT(t, torrentFile, src, "--ip", "::1", "--rate", "1000000")

	e := testEngine(t, Config{Bind: "::", NoDHT: true, MaxUploadRate: 1 << 20})
	port := e.testPort(t)
	ih, err := e.AddTorrent(data, AddOptions{Peers: []string{fmt.Sprintf("[::1]:%d", ltPort)}})
	if err != nil {
		t.Fatal(err)
	}
	f := follow(t, e, ih)
	ts := f.waitState(t, StateSeeding, 60*time.Second)
	if ts.PiecesHave != mi.Info.NumPieces() {
		t.Fatalf("%d of %d pieces", ts.PiecesHave, mi.Info.NumPieces())
	}
	sameTree(t, content, filepath.Join(e.cfg.DownloadDir, "set"))
	// That libtorrent has uTP off: TCP after the uTP attempt failed.
	onlyTransport(t, "from libtorrent on ::1", f.seen("::1"), "IPv6", "TCP")

	dst6, dst4 := t.TempDir(), t.TempDir()
	dl6 := testpeers.StartLT(t, "download", torrentFile, dst6, "--flush", "--port", "0", "--ip", "::1", "--utp",
		"--peer", fmt.Sprintf("[::1]:%d", port), "--seconds", "60")
	dl4 := testpeers.StartLT(t, "download", torrentFile, dst4, "--flush", "--port", "0", "--ip", "127.0.0.1",
		"--peer", fmt.Sprintf("127.0.0.1:%d", port), "--seconds", "60")
	if c := dl6.Wait(t, "PEERCONN", 30*time.Second); !strings.HasSuffix(strings.TrimSpace(c), " utp") {
		t.Fatalf("libtorrent on ::1: %q, want a uTP connection", c)
	}
	dl6.Wait(t, "DONE", 70*time.Second)
	dl4.Wait(t, "DONE", 70*time.Second)
	sameTree(t, content, filepath.Join(dst6, "set"))
	sameTree(t, content, filepath.Join(dst4, "set"))
	var v6uTP, v4TCP bool
	for _, p := range f.all() {
		v6uTP = v6uTP || (p.Family == "IPv6" && p.Transport == "uTP" && strings.Contains(p.Flags, "I"))
		v4TCP = v4TCP || (p.Family == "IPv4" && p.Transport == "TCP" && strings.Contains(p.Flags, "I"))
	}
	if !v6uTP || !v4TCP {
		t.Fatalf("incoming connections seen: IPv6 over uTP %v, IPv4 over TCP %v: %+v", v6uTP, v4TCP, f.all())
	}
}

// TestDHTOverIPv6: a libtorrent DHT node and a libtorrent seeder on ::1,
// no IPv4 contact at all: our dual-stack DHT (listening on "::") finds
// the seeder through its IPv6 table only, and the magnet completes,
// byte-identical.
func TestDHTOverIPv6(t *testing.T) {
	node := testpeers.StartLT(t, "dht", "--port", "0", "--ip", "::1", "--seconds", "120")
	router := fmt.Sprintf("[::1]:%d", node.Port(t))
	src := t.TempDir()
	content := testContent(t, src, "six", 150_000)
	data, mi := mktorrent(t, content, 15)
	tf := filepath.Join(t.TempDir(), "six.torrent")
	writeFile(t, tf, data)
	testpeers.SeedLT(t, tf, src, "--ip", "::1", "--dht", router)
	// Once another libtorrent finds the seeder in the DHT, so can we.
	probe := testpeers.StartLT(t, "dht", "--port", "0", "--ip", "::1", "--bootstrap", router, "--get", mi.InfoHash.String(), "--seconds", "60")
	probe.Wait(t, "PEER ", 60*time.Second)

	e, err := New(withTesting(t, Config{Bind: "::", StateDir: t.TempDir(), Bootstrap: []string{router}}))
	if err != nil {
		t.Fatal(err)
	}
	stop := runEngine(t, e)
	ih, err := e.AddMagnet("magnet:?xt=urn:btih:"+mi.InfoHash.String(), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f := follow(t, e, ih)
	ts := f.waitState(t, StateSeeding, 90*time.Second)
	sameTree(t, content, filepath.Join(e.cfg.DownloadDir, "six"))
	ds := f.snapshot().DHT
	t.Logf("DHT: IPv4 %+v, IPv6 %+v; torrent: %+v", ds.IPv4, ds.IPv6, ts.DHT)
	if !ds.IPv4.Served || !ds.IPv6.Served || ds.IPv6.Good+ds.IPv6.Questionable == 0 || ds.IPv4.Good+ds.IPv4.Questionable != 0 {
		t.Fatalf("DHT tables: IPv4 %+v, IPv6 %+v; want both served, IPv6 nodes only", ds.IPv4, ds.IPv6)
	}
	// The seeder learns our address only from the DHT.
	incoming := false
	for _, p := range f.all() {
		if p.Family != "IPv6" {
			t.Fatalf("peer %s is %s", p.Addr, p.Family)
		}
		incoming = incoming || p.Source == "incoming"
	}
	if ts.DHT.PeersFound == 0 {
		t.Fatalf("our DHT lookups found no peer (the seeder found us: %v): %+v", incoming, f.all())
	}
	t.Logf("peers found by our lookups: %d; the seeder found us: %v", ts.DHT.PeersFound, incoming)

	// The torrent's status shows the lookup per family.
	deadline := time.Now().Add(20 * time.Second)
	for f.status().DHT.IPv6.Announced == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if d := f.status().DHT; d.IPv6.Answered == 0 || d.IPv6.Announced == 0 || d.IPv4.Looked {
		t.Fatalf("torrent's DHT status %+v: want an IPv6 lookup answered and announced, no IPv4 one", d)
	}

	// A new torrent's nodes hold the IPv6 contact, and so does the table
	// saved when the engine stops.
	nodes := e.DefaultNodes(nil, f.snapshot())
	if !slices.Contains(nodes, metainfo.Node{Host: "::1", Port: node6Port(t, router)}) {
		t.Fatalf("default nodes %v lack %s", nodes, router)
	}
	stop()
	saved := dht.SavedContacts(filepath.Join(e.cfg.StateDir, "dht-table.dat"), 8)
	if !slices.Contains(saved, netip.MustParseAddrPort(router)) {
		t.Fatalf("saved contacts %v lack %s", saved, router)
	}
}

// node6Port returns the port of an "[ip]:port" contact.
func node6Port(t *testing.T, contact string) int {
	return int(netip.MustParseAddrPort(contact).Port())
}

// TestMagnetPeerIPv6: a magnet whose only peer is x.pe=[::1]:port, a
// libtorrent seeder listening on ::1 only, with no DHT: we fetch the
// metadata and the data from it, byte-identical, over IPv6, from a peer
// whose source is "magnet".
func TestMagnetPeerIPv6(t *testing.T) {
	src := t.TempDir()
	content := testContent(t, src, "xpe", 150_000)
	data, mi := mktorrent(t, content, 15)
	tf := filepath.Join(t.TempDir(), "xpe.torrent")
	writeFile(t, tf, data)
	// The rate limit makes the transfer last long enough for our
	// snapshots to see the connection.
	_, port := testpeers.SeedLT(t, tf, src, "--ip", "::1", "--rate", "500000")
	peer := fmt.Sprintf("[::1]:%d", port)

	e := testEngine(t, Config{Bind: "::1", NoDHT: true})
	e.testPort(t)
	ih, err := e.AddMagnet("magnet:?xt=urn:btih:"+mi.InfoHash.String()+"&x.pe="+peer, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f := follow(t, e, ih)
	f.waitState(t, StateSeeding, 60*time.Second)
	sameTree(t, content, filepath.Join(e.cfg.DownloadDir, "xpe"))
	conns := f.seen("::1")
	if len(conns) == 0 {
		t.Fatalf("no connection to %s seen", peer)
	}
	for _, p := range conns {
		if p.Addr != peer || p.Source != "magnet" || p.Family != "IPv6" {
			t.Fatalf("connection %s: source %q, %s; want %s from the magnet, IPv6", p.Addr, p.Source, p.Family, peer)
		}
	}
}
