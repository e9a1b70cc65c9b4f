package utp

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/udpmux"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// startUDP serves a uTP socket on a new UDP socket at addr, shared
// through a udpmux as the engine will, until the test ends. drop, if not
// nil, picks packets to lose on the way in or out (see tap).
func startUDP(t testing.TB, addr string, cfg Config, drop func(out bool, h Header, payload []byte) bool) (*Socket, *udpmux.Mux, netip.AddrPort) {
	t.Helper()
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	conn := pc.(*net.UDPConn)
	m := udpmux.New(conn, udpmux.Config{})
	cfg.Transport = m
	tp := &tap{t: t, inner: m, drop: drop}
	cfg.Transport = tp
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tp.s = s
	m.SetUTP(tp)
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
// speaks uTP only, and the whole torrent comes through byte-identical;
// then again with every 150th data packet from libtorrent lost, which our
// selective ACKs make libtorrent send again at once (well before its
// 500 ms minimum timeout).
func TestDownloadFromLibtorrent(t *testing.T) {
	torrent, dir, data, mi := makeTorrent(t, 24<<20, 1)
	lt, port := testpeers.SeedLT(t, torrent, dir, "--utp", "--check")
	seeder := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
	for _, lossy := range []bool{false, true} {
		var resent resentAfter
		var drop func(bool, Header, []byte) bool
		if lossy {
			drop = resent.wrap(everyNth(150, false))
		}
		s, _, local := startUDP(t, "127.0.0.1:0", Config{}, drop)
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		c, err := s.Dial(ctx, seeder)
		cancel()
		if err != nil {
			t.Fatalf("dialing libtorrent: %v\n%s", err, lt.Stderr())
		}
		start := time.Now()
		got, err := fetchAll(c, mi, 90*time.Second)
		if err != nil {
			t.Fatalf("lossy %v: downloading: %v (%+v)", lossy, err, c.Stats())
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("lossy %v: content differs at byte %d", lossy, firstDiff(got, data))
		}
		lt.Wait(t, fmt.Sprintf("PEERCONN %v utp", local), 10*time.Second)
		st := c.Stats()
		c.Close()
		t.Logf("lossy %v: %d MiB in %v; %+v", lossy, len(data)>>20, time.Since(start).Round(time.Millisecond), st)
		if st.BytesReceived < uint64(len(data)) {
			t.Fatalf("only %d payload bytes came over uTP", st.BytesReceived)
		}
		if lossy {
			resent.mu.Lock()
			delays := slices.Clone(resent.delays)
			resent.mu.Unlock()
			slices.Sort(delays)
			if len(delays) < 50 || st.OutOfOrder == 0 {
				t.Fatalf("%d losses recovered, %d packets out of order", len(delays), st.OutOfOrder)
			}
			if median := delays[len(delays)/2]; median > 250*time.Millisecond {
				t.Fatalf("libtorrent resent lost packets after %v (median): timeouts, not our selective ACKs", median)
			}
		}
	}
}

// TestSeedToLibtorrent: libtorrent, speaking uTP only, connects to our
// socket and downloads a whole torrent from us, byte-identical; then
// again with every 150th of our data packets lost, which libtorrent's
// acknowledgements make us send again at once.
func TestSeedToLibtorrent(t *testing.T) {
	torrent, _, data, mi := makeTorrent(t, 24<<20, 2)
	for _, lossy := range []bool{false, true} {
		var drop func(bool, Header, []byte) bool
		if lossy {
			drop = everyNth(150, true)
		}
		s, _, local := startUDP(t, "127.0.0.1:0", Config{}, drop)
		// libtorrent tries an encrypted handshake first (which this small
		// seeder does not speak), then plaintext on a new connection.
		var sent atomic.Int64
		var mu sync.Mutex
		var conns []*Conn
		go func() {
			for {
				c, err := s.AcceptUTP()
				if err != nil {
					return
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
				go func() {
					defer c.Close()
					n, err := seedAll(c, mi, data, 90*time.Second)
					sent.Add(n)
					t.Logf("lossy %v: seeding %v: %d bytes, %v", lossy, c, n, err)
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
			t.Fatalf("lossy %v: libtorrent's copy differs at byte %d", lossy, firstDiff(got, data))
		}
		if n := sent.Load(); n < int64(len(data)) {
			t.Fatalf("lossy %v: only %d bytes were sent over uTP", lossy, n)
		}
		var st ConnStats
		mu.Lock()
		for _, c := range conns {
			if cs := c.Stats(); cs.BytesSent > st.BytesSent {
				st = cs
			}
		}
		mu.Unlock()
		t.Logf("lossy %v: socket %+v; connection %+v", lossy, s.Stats(), st)
		if lossy && (st.FastRetransmits == 0 || st.Timeouts > st.FastRetransmits/4) {
			t.Fatalf("%d fast retransmits, %d timeouts", st.FastRetransmits, st.Timeouts)
		}
	}
}
