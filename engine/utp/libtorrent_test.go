package utp

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/udpmux"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// startUDP serves a uTP socket on a new UDP socket at addr, shared
// through a udpmux as the engine will, until the test ends.
func startUDP(t testing.TB, addr string, cfg Config) (*Socket, *udpmux.Mux, netip.AddrPort) {
	t.Helper()
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	conn := pc.(*net.UDPConn)
	m := udpmux.New(conn, udpmux.Config{})
	cfg.Transport = m
	var tr *tracer
	if tracing() {
		tr = &tracer{t: t, inner: m}
		cfg.Transport = tr
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.SetUTP(s)
	if tr != nil {
		tr.s = s
		m.SetUTP(tr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.Serve(ctx) }()
	go func() {
		defer wg.Done()
		if err := m.Serve(ctx); err != nil {
			t.Errorf("mux: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait(); conn.Close() })
	for !s.serving.Load() {
		time.Sleep(time.Millisecond)
	}
	return s, m, conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

// makeTorrent writes size random bytes and a torrent of them (made by
// libtorrent) and returns the torrent's path, the content's folder, the
// content and the parsed torrent.
func makeTorrent(t testing.TB, size int64, seed uint64) (string, string, []byte, *metainfo.MetaInfo) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "content.bin")
	testpeers.RandomFile(t, path, size, seed)
	torrent := filepath.Join(t.TempDir(), "content.torrent")
	testpeers.LT(t, "create", path, torrent, "--piece-length", "262144")
	raw, err := os.ReadFile(torrent)
	if err != nil {
		t.Fatal(err)
	}
	mi, err := metainfo.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return torrent, dir, data, mi
}

// TestDownloadFromLibtorrent: our Dial reaches a libtorrent seeder that
// speaks uTP only, and the whole torrent comes through byte-identical.
func TestDownloadFromLibtorrent(t *testing.T) {
	torrent, dir, data, mi := makeTorrent(t, 24<<20, 1)
	lt, port := testpeers.SeedLT(t, torrent, dir, "--utp", "--check")
	s, _, local := startUDP(t, "127.0.0.1:0", Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := s.Dial(ctx, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)))
	if err != nil {
		t.Fatalf("dialing libtorrent: %v\n%s", err, lt.Stderr())
	}
	defer c.Close()
	start := time.Now()
	got, err := fetchAll(c, mi, 90*time.Second)
	if err != nil {
		t.Fatalf("downloading: %v (%+v)", err, c.Stats())
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("content differs at byte %d", firstDiff(got, data))
	}
	lt.Wait(t, fmt.Sprintf("PEERCONN %v utp", local), 10*time.Second)
	st := c.Stats()
	t.Logf("%d MiB in %v; %+v", len(data)>>20, time.Since(start).Round(time.Millisecond), st)
	if st.BytesReceived < uint64(len(data)) {
		t.Fatalf("only %d payload bytes came over uTP", st.BytesReceived)
	}
}

// TestSeedToLibtorrent: libtorrent, speaking uTP only, connects to our
// socket and downloads a whole torrent from us, byte-identical.
func TestSeedToLibtorrent(t *testing.T) {
	torrent, _, data, mi := makeTorrent(t, 24<<20, 2)
	s, _, local := startUDP(t, "127.0.0.1:0", Config{})
	// libtorrent tries an encrypted handshake first (which this small
	// seeder does not speak), then plaintext on a new connection.
	var sent atomic.Int64
	go func() {
		for {
			c, err := s.AcceptUTP()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				n, err := seedAll(c, mi, data, 90*time.Second)
				sent.Add(n)
				t.Logf("seeding %v: %d bytes, %v", c, n, err)
			}()
		}
	}()
	out := t.TempDir()
	lt := testpeers.StartLT(t, "download", torrent, out, "--port", "0", "--peer", local.String(), "--utp", "--seconds", "90")
	lt.Wait(t, fmt.Sprintf("PEERCONN %v utp", local), 20*time.Second)
	lt.Wait(t, "DONE ", 90*time.Second)
	got, err := os.ReadFile(filepath.Join(out, "content.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("libtorrent's copy differs at byte %d", firstDiff(got, data))
	}
	if n := sent.Load(); n < int64(len(data)) {
		t.Fatalf("only %d bytes were sent over uTP", n)
	}
	t.Logf("socket: %+v", s.Stats())
}
