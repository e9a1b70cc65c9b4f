package engine

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestTrackerPeers6: a real tracker's BEP 7 answer is our only way to a
// libtorrent seeder that has an IPv6 address only. The tracker is
// qBittorrent's embedded one (Debian's opentracker is built for IPv4
// only), in a network namespace with the seeder, both on the namespace's
// end of an IPv6 veth pair; we are on the other end, with no DHT, no
// local discovery and no peer given. The seeder reaches us in the
// tracker's "peers6" and nowhere else; the download completes,
// byte-identical, over IPv6, from a peer whose source is "tracker".
func TestTrackerPeers6(t *testing.T) {
	ns := testpeers.NewNetns(t, "sq6")
	ns.AddIPv6(t)
	testpeers.StartQBittorrentTracker(t, ns)
	announce := testpeers.QBTrackerURL(ns.NSIP6)

	src := t.TempDir()
	content := testContent(t, src, "six", 150_000)
	data, mi := mktorrent(t, content, 15, "-a", announce)
	tf := filepath.Join(t.TempDir(), "six.torrent")
	writeFile(t, tf, data)
	// Its rate limit makes the transfer last long enough for our
	// snapshots to see the connection.
	seed := ns.StartLT(t, "seed", tf, src, "--port", "0", "--ip", ns.NSIP6, "--seconds", "180", "--rate", "500000")
	seed.Port(t)
	seed.Wait(t, "ANNOUNCED", 30*time.Second)

	e := testEngine(t, Config{Bind: ns.HostIP6, NoDHT: true})
	ih, err := e.AddTorrent(data, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f := follow(t, e, ih)
	ts := f.waitState(t, StateSeeding, 60*time.Second)
	if ts.PiecesHave != mi.Info.NumPieces() {
		t.Fatalf("%d of %d pieces", ts.PiecesHave, mi.Info.NumPieces())
	}
	sameTree(t, content, filepath.Join(e.cfg.DownloadDir, "six"))
	conns := f.seen(ns.NSIP6)
	if len(conns) == 0 {
		t.Fatalf("no connection to the seeder at %s seen: %+v", ns.NSIP6, f.all())
	}
	for _, p := range conns {
		if p.Source != "tracker" || p.Family != "IPv6" {
			t.Fatalf("connection %s: source %q, %s; want from the tracker, IPv6", p.Addr, p.Source, p.Family)
		}
	}
	for _, p := range f.all() {
		if p.Family != "IPv6" {
			t.Fatalf("connection %s is %s", p.Addr, p.Family)
		}
	}
	if len(ts.Trackers) != 1 || !ts.Trackers[0].Working || ts.Trackers[0].Peers == 0 {
		t.Fatalf("tracker status %+v: want one working tracker that gave peers", ts.Trackers)
	}
	t.Logf("from %s over %s; tracker: %+v", conns[0].Addr, conns[0].Transport, ts.Trackers[0])
}

// TestPEXAdded6FromLibtorrent: a libtorrent downloader (ut_pex on, its
// default) connected to us tells us, in PEX's "added6", of a libtorrent
// seeder on ::1 that we had no other way to learn of: no DHT, no
// tracker, no local discovery, and only the downloader given as a peer.
// We connect to that seeder and download from it, byte-identical; its
// connection's source is "pex", over IPv6.
func TestPEXAdded6FromLibtorrent(t *testing.T) {
	src := t.TempDir()
	content := testContent(t, src, "pex", 300_000)
	data, mi := mktorrent(t, content, 15)
	tf := filepath.Join(t.TempDir(), "pex.torrent")
	writeFile(t, tf, data)
	// The seeder ignores PEX, so that it cannot learn of us from the
	// downloader and connect first; its rate limit makes the transfer
	// last long enough for our snapshots to see it.
	_, seedPort := testpeers.SeedLT(t, tf, src, "--ip", "::1", "--no-pex", "--rate", "1000000")
	seeder := fmt.Sprintf("[::1]:%d", seedPort)
	// The downloader's own limits keep it slow: it stays connected to
	// the seeder (libtorrent drops a connection between two seeds, and
	// tells only of connected peers) and has little to give us.
	dl := testpeers.StartLT(t, "download", tf, t.TempDir(), "--port", "0", "--ip", "::1", "--peer", seeder,
		"--down-rate", "20000", "--up-rate", "20000", "--seconds", "150")
	dlPort := dl.Port(t)
	dl.Wait(t, "FIRSTPEER", 30*time.Second)

	e := testEngine(t, Config{Bind: "::1", NoDHT: true})
	ih, err := e.AddTorrent(data, AddOptions{Peers: []string{fmt.Sprintf("[::1]:%d", dlPort)}})
	if err != nil {
		t.Fatal(err)
	}
	f := follow(t, e, ih)
	start := time.Now()
	ts := f.waitState(t, StateSeeding, 90*time.Second)
	if ts.PiecesHave != mi.Info.NumPieces() {
		t.Fatalf("%d of %d pieces", ts.PiecesHave, mi.Info.NumPieces())
	}
	sameTree(t, content, filepath.Join(e.cfg.DownloadDir, "pex"))
	var conn *PeerStatus
	for _, p := range f.all() {
		if p.Addr == seeder {
			conn = &p
		}
	}
	if conn == nil {
		t.Fatalf("no connection to the seeder %s seen: %+v", seeder, f.all())
	}
	if conn.Source != "pex" || conn.Family != "IPv6" {
		t.Fatalf("connection to the seeder: source %q, %s; want from PEX, IPv6", conn.Source, conn.Family)
	}
	if r := f.maxRateDown(seeder); r == 0 {
		t.Fatalf("nothing downloaded from the seeder %s", seeder)
	}
	t.Logf("complete in %v; from the seeder over %s at up to %.0f B/s, source %s",
		time.Since(start).Round(10*time.Millisecond), conn.Transport, f.maxRateDown(seeder), conn.Source)
}

// TestTransmissionOverIPv6: transmission-daemon in a network namespace,
// reached only over IPv6 on a veth pair (it ignores loopback peers), both
// ways: we download a torrent it seeds, then it downloads one we seed
// (connecting to it, as it has no other way to learn of us); each
// byte-identical, every connection in our peer list IPv6.
//
// uTP: its uTP on (its default) and addresses in 2001:db8::/32, since
// Transmission 3.00 opens its IPv6 UDP socket (uTP, DHT) only when it has
// an address in 2000::/3; we dial uTP first (Config.PreferUTP), so both
// transfers run over uTP. TCP: a unique local address (fd5d::/16) and its uTP off: TCP.
func TestTransmissionOverIPv6(t *testing.T) {
	t.Run("uTP", func(t *testing.T) { transmissionOverIPv6(t, true) })
	t.Run("TCP", func(t *testing.T) { transmissionOverIPv6(t, false) })
}

func transmissionOverIPv6(t *testing.T, utp bool) {
	ns := testpeers.NewNetns(t, "st6")
	transport := "TCP"
	if utp {
		ns.AddGlobalIPv6(t)
		transport = "uTP"
	} else {
		ns.AddIPv6(t)
	}
	trDir := t.TempDir()
	// Its upload limit (KB/s) and ours make each transfer last long
	// enough for the snapshots to see the connection.
	tr := testpeers.StartTransmission(t, ns, trDir, map[string]any{
		"bind-address-ipv6": ns.NSIP6, "utp-enabled": utp,
		"speed-limit-up-enabled": true, "speed-limit-up": 2000,
	})
	trAddr := fmt.Sprintf("[%s]:%d", ns.NSIP6, tr.Port)
	// No empty file: Transmission does not create those.
	files := func(dir, name string) string {
		root := filepath.Join(dir, name)
		testpeers.RandomFile(t, filepath.Join(root, "a.bin"), 3_000_001, 1)
		testpeers.RandomFile(t, filepath.Join(root, "sub", "b.bin"), 1_000_000, 2)
		return root
	}
	engine := func(t *testing.T, cfg Config) *Engine {
		t0 := time.Now()
		cfg.Bind = ns.HostIP6
		cfg.PreferUTP = utp
		cfg.Logf = func(f string, a ...any) {
			t.Logf("%v "+f, append([]any{time.Since(t0).Round(time.Millisecond)}, a...)...)
		}
		e := testEngine(t, cfg)
		// Listening: our first dial would find the uTP socket not serving
		// yet (ErrNotReady) and go over TCP.
		e.testPort(t)
		return e
	}

	t.Run("from Transmission", func(t *testing.T) {
		content := files(trDir, "up")
		data, mi := mktorrent(t, content, 16)
		ih := mi.InfoHash.String()
		tr.Add(t, data, ih)
		tr.WaitSeeding(t, ih, 60*time.Second)
		e := engine(t, Config{})
		start := time.Now()
		if _, err := e.AddTorrent(data, AddOptions{Peers: []string{trAddr}}); err != nil {
			t.Fatal(err)
		}
		f := follow(t, e, ih)
		f.waitState(t, StateSeeding, 60*time.Second)
		elapsed := time.Since(start)
		sameTree(t, content, filepath.Join(e.cfg.DownloadDir, "up"))
		conns := onlyIPv6(t, f, ns.NSIP6)
		t.Logf("%d bytes from Transmission in %v over %s", mi.Info.TotalLength, elapsed.Round(10*time.Millisecond), transports(conns))
		onlyTransport(t, "Transmission", conns, "IPv6", transport)
	})

	t.Run("to Transmission", func(t *testing.T) {
		src := t.TempDir()
		content := files(src, "down")
		data, mi := mktorrent(t, content, 16)
		ih := mi.InfoHash.String()
		e := engine(t, Config{DownloadDir: src, MaxUploadRate: 2 << 20})
		if _, err := e.AddTorrent(data, AddOptions{}); err != nil {
			t.Fatal(err)
		}
		f := follow(t, e, ih)
		f.waitState(t, StateSeeding, 30*time.Second)
		tr.Add(t, data, ih)
		// Until it has checked its (empty) folder, it closes connections
		// for the torrent, and we would redial only 5 s later.
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			st, err := tr.Torrent(ih)
			if err == nil && st.Status == 4 { // downloading
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("Transmission not downloading %s after 30 s: %+v %v", ih, st, err)
			}
		}
		start := time.Now()
		if _, err := e.AddTorrent(data, AddOptions{Peers: []string{trAddr}}); err != nil {
			t.Fatal(err)
		}
		tr.WaitDone(t, ih, 60*time.Second)
		elapsed := time.Since(start)
		sameTree(t, content, filepath.Join(trDir, "down"))
		conns := onlyIPv6(t, f, ns.NSIP6)
		t.Logf("%d bytes to Transmission in %v over %s", mi.Info.TotalLength, elapsed.Round(10*time.Millisecond), transports(conns))
		onlyTransport(t, "Transmission", conns, "IPv6", transport)
	})
}

// onlyIPv6 returns the connections f saw from host, failing unless there
// is one and every connection seen is IPv6.
func onlyIPv6(t *testing.T, f *follower, host string) []PeerStatus {
	t.Helper()
	conns := f.seen(host)
	if len(conns) == 0 {
		t.Fatalf("no connection from %s seen: %+v", host, f.all())
	}
	for _, p := range f.all() {
		if p.Family != "IPv6" {
			t.Fatalf("connection %s is %s, want IPv6", p.Addr, p.Family)
		}
	}
	return conns
}

// transports lists each connection's address and transport.
func transports(conns []PeerStatus) string {
	var out []string
	for _, p := range conns {
		out = append(out, p.Addr+" "+p.Transport+" ("+p.Source+")")
	}
	return strings.Join(out, ", ")
}

// TestTransmissionFindsUsThroughDHT6: the IPv6 twin of
// TestTransmissionFindsUsThroughDHT. Transmission (in a namespace, uTP on)
// learns of our seeder only through the IPv6 DHT (BEP 32): a DHT of a
// dozen nodes of ours on our end of the veth pair, where our seeder has
// announced over IPv6. It connects to us over IPv6 and uTP, and
// downloads everything within 60 s, byte-identical.
func TestTransmissionFindsUsThroughDHT6(t *testing.T) {
	transmissionFindsUsThroughDHT(t, true)
}

// TestPEXAdded6ToLibtorrent: the other way round. We download from a
// libtorrent seeder on ::1; a libtorrent downloader that knows only us
// learns of that seeder from our PEX ("added6": its address is IPv6) and
// connects to it. Neither libtorrent has a DHT, and the seeder ignores
// PEX (so it cannot learn of the downloader from us and dial it first).
func TestPEXAdded6ToLibtorrent(t *testing.T) {
	src := t.TempDir()
	content := testContent(t, src, "pex", 300_000)
	data, _ := mktorrent(t, content, 15)
	tf := filepath.Join(t.TempDir(), "pex.torrent")
	writeFile(t, tf, data)
	// Slow, so that we are still downloading from it (still connected)
	// when our PEX goes out.
	_, seedPort := testpeers.SeedLT(t, tf, src, "--ip", "::1", "--no-pex", "--rate", "20000")
	seeder := fmt.Sprintf("[::1]:%d", seedPort)

	e := testEngine(t, Config{Bind: "::1", NoDHT: true})
	port := e.testPort(t)
	ih, err := e.AddTorrent(data, AddOptions{Peers: []string{seeder}})
	if err != nil {
		t.Fatal(err)
	}
	f := follow(t, e, ih)
	deadline := time.Now().Add(30 * time.Second)
	for len(f.seen("::1")) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("not connected to the seeder %s after 30 s", seeder)
		}
		time.Sleep(50 * time.Millisecond)
	}
	start := time.Now()
	dl := testpeers.StartLT(t, "download", tf, t.TempDir(), "--port", "0", "--ip", "::1", "--print-peers",
		"--peer", fmt.Sprintf("[::1]:%d", port), "--seconds", "150")
	// ltpeer.py names a peer ip:port without brackets.
	dl.Wait(t, fmt.Sprintf("CLIENT ::1:%d ", seedPort), 90*time.Second)
	t.Logf("the downloader connected to the seeder %v after it started", time.Since(start).Round(10*time.Millisecond))
	for _, p := range f.all() {
		if p.Family != "IPv6" {
			t.Fatalf("connection %s is %s", p.Addr, p.Family)
		}
	}
}
