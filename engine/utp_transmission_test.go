package engine

import (
	"context"
	"net"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// startDHTNodes runs n DHT nodes (engine/dht) on ip (IPv4 or IPv6), each knowing the
// others, until the test ends, and returns their addresses: a small DHT
// on an address that a counterpart in a namespace can reach.
func startDHTNodes(t *testing.T, ip string, n int) []netip.AddrPort {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var addrs []netip.AddrPort
	var nodes []*dht.Node
	done := make(chan error, n)
	for range n {
		pc, err := net.ListenPacket("udp", net.JoinHostPort(ip, "0"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pc.Close() })
		node, err := dht.New(dht.Config{Conn: pc})
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, pc.LocalAddr().(*net.UDPAddr).AddrPort())
		nodes = append(nodes, node)
		go func() { done <- node.Serve(ctx) }()
	}
	t.Cleanup(func() {
		cancel()
		for range n {
			<-done
		}
	})
	var contacts []string
	for _, a := range addrs {
		contacts = append(contacts, a.String())
	}
	for _, node := range nodes {
		node.AddContacts(contacts)
	}
	return addrs
}

// TestTransmissionFindsUsThroughDHT: Transmission (in a namespace, uTP
// on, its default) learns of our seeder only through the DHT: a DHT of
// a dozen nodes (ours) where our seeder has announced. It connects to
// us, over uTP (the only way it reaches a peer it learns of that way:
// issue 16), and downloads everything within 60 s, byte-identical.
func TestTransmissionFindsUsThroughDHT(t *testing.T) {
	transmissionFindsUsThroughDHT(t, false)
}

// transmissionFindsUsThroughDHT is TestTransmissionFindsUsThroughDHT and,
// with v6, its IPv6 twin: our seeder announces to a DHT of our nodes on
// our end of the veth pair (over IPv6 with v6); Transmission, given only
// those nodes, must connect to us (over uTP, of that family) and download
// everything within 60 s, byte-identical.
func transmissionFindsUsThroughDHT(t *testing.T, v6 bool) {
	src := t.TempDir()
	content := filepath.Join(src, "set") // no empty file: Transmission does not create those
	testpeers.RandomFile(t, filepath.Join(content, "a.bin"), 1_500_001, 1)
	testpeers.RandomFile(t, filepath.Join(content, "sub", "b.bin"), 300_000, 2)
	data, mi := mktorrent(t, content, 15)
	ih := mi.InfoHash.String()
	ns := testpeers.NewNetns(t, map[bool]string{false: "swu", true: "sd6"}[v6])
	hostIP, nsIP, family, settings := ns.HostIP, ns.NSIP, "IPv4", map[string]any{"utp-enabled": true}
	announced := func(d TorrentDHTStatus) bool { return d.Announced }
	if v6 {
		// Transmission opens its IPv6 UDP socket (DHT, uTP) only with an
		// address in 2000::/3.
		ns.AddGlobalIPv6(t)
		hostIP, nsIP, family = ns.HostIP6, ns.NSIP6, "IPv6"
		settings["bind-address-ipv6"] = nsIP
		announced = func(d TorrentDHTStatus) bool { return d.IPv6.Announced > 0 }
	}
	nodes := startDHTNodes(t, hostIP, 11)
	var contacts []string
	for _, a := range nodes {
		contacts = append(contacts, a.String())
	}

	e := testEngine(t, Config{DownloadDir: src, Bind: hostIP, Bootstrap: contacts})
	port := e.testPort(t)
	if _, err := e.AddTorrent(data, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	f := follow(t, e, ih)
	f.waitState(t, StateSeeding, 30*time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for !announced(f.status().DHT) {
		if time.Now().After(deadline) {
			t.Fatalf("our seeder did not announce to the %s DHT within 30 s: %+v", family, f.status().DHT)
		}
		time.Sleep(50 * time.Millisecond)
	}

	dst := t.TempDir()
	start := time.Now()
	self := netip.AddrPortFrom(netip.MustParseAddr(hostIP), uint16(port))
	tr := testpeers.StartTransmissionDHT(t, ns, dst, settings, append([]netip.AddrPort{self}, nodes...))
	tr.Add(t, data, ih)
	first := make(chan time.Duration, 1)
	go func() {
		for time.Since(start) < time.Minute {
			if len(f.seen(nsIP)) > 0 {
				first <- time.Since(start)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		first <- 0
	}()
	tr.WaitDone(t, ih, 60*time.Second-time.Since(start))
	t.Logf("Transmission found us through the %s DHT: connected after %v, downloaded %d bytes in %v", family,
		(<-first).Round(10*time.Millisecond), mi.Info.TotalLength, time.Since(start).Round(10*time.Millisecond))
	sameTree(t, content, filepath.Join(dst, "set"))
	conns := f.seen(nsIP)
	onlyTransport(t, "Transmission", conns, family, "uTP")
	for _, c := range conns {
		if c.Source != "incoming" {
			t.Fatalf("connection %s from Transmission has source %q: we dialed it", c.Addr, c.Source)
		}
	}
}
