package hostile_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine"
	"github.com/swarmdrop/swarmdrop/engine/dht"
	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/peerwire"
	"github.com/swarmdrop/swarmdrop/internal/hostile"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// The attack clients run here against the real engine and the real DHT
// node (the engine's flood tests hold the engine to its bounds; these
// check that the clients do what they say and report it truly).

// seeding starts an engine on 127.0.0.1 seeding a 4 MiB torrent made by
// mktorrent (32 KiB pieces, so a 2.6 KB info dictionary: 10,000 metadata
// requests ask for more than the 8 MiB a peer may have pending), and
// returns its address and the torrent.
func seeding(t *testing.T) (string, *metainfo.MetaInfo) {
	t.Helper()
	dir := t.TempDir()
	content := filepath.Join(dir, "flooded.bin")
	testpeers.RandomFile(t, content, 4<<20, 9)
	_, data := testpeers.Mktorrent(t, content, 15)
	mi, err := metainfo.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.Config{DownloadDir: dir, Bind: "127.0.0.1", NoUPnP: true, NoDHT: true, SnapshotEvery: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ih, err := e.AddTorrent(data, engine.AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("engine: %v", err)
		}
	})
	deadline := time.After(30 * time.Second)
	for {
		select {
		case s := <-e.Snapshots():
			for _, ts := range s.Torrents {
				if ts.InfoHash == ih && ts.State == engine.StateSeeding && s.ListenPort > 0 {
					return fmt.Sprintf("127.0.0.1:%d", s.ListenPort), mi
				}
			}
		case <-deadline:
			t.Fatal("the engine is not seeding after 30 s")
		}
	}
}

// TestFloodRounds runs two rounds of each peer wire flood against a
// seeding engine: every round writes its whole flood and sees the
// engine hang up.
func TestFloodRounds(t *testing.T) {
	addr, mi := seeding(t)
	p := hostile.Peer{Addr: addr, InfoHash: mi.InfoHash, ID: hostile.PeerID("rounds")}
	noFast := p
	noFast.NoFast = true
	for _, tc := range []struct {
		name  string
		flood *hostile.Flood
		size  int
	}{
		{"metadata", hostile.MetadataFlood(p, 10_000, 0), len(hostile.MetadataRequests(10_000, 1, 1))},
		{"metadata, reading", hostile.MetadataFlood(p, 10_000, 64<<10), len(hostile.MetadataRequests(10_000, 1, 1))},
		{"requests while choked", hostile.RequestFlood(p, 100_000, mi.Info.NumPieces(), mi.Info.PieceLength, false), 100_000 * 17},
		{"requests while choked, no fast extension", hostile.RequestFlood(noFast, 100_000, mi.Info.NumPieces(), mi.Info.PieceLength, false), 100_000 * 17},
		{"requests while unchoked, not reading", hostile.RequestFlood(p, 100_000, mi.Info.NumPieces(), mi.Info.PieceLength, true), 100_000 * 17},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.flood.MaxRounds, tc.flood.Hold = 2, 15*time.Second
			tc.flood.Sources = []string{"127.0.0.1", "127.0.0.3"} // a refused address pauses for a few seconds
			rounds := tc.flood.Run(context.Background())
			if len(rounds) != 2 {
				t.Fatalf("%d rounds, want 2", len(rounds))
			}
			for i, r := range rounds {
				if r.Err != nil {
					t.Fatalf("round %d: %v", i+1, r.Err)
				}
				if !r.Dropped {
					t.Fatalf("round %d: still connected after %v (%d of %d bytes written)", i+1, r.Held, r.Written, tc.size)
				}
				// The engine may hang up before it has read the whole
				// flood; it must not be able to miss it all.
				if r.Written == 0 || r.Written > tc.size {
					t.Fatalf("round %d: %d bytes written of a %d-byte flood", i+1, r.Written, tc.size)
				}
				t.Logf("round %d: %d of %d bytes written, %d read, dropped after %v", i+1, r.Written, tc.size, r.Read, r.Held.Round(time.Millisecond))
			}
		})
	}
}

// TestIdleFloodCounts keeps 4 idle connections from each of two
// addresses for 3 s: the engine holds at most its per-address limit from
// each, and the counters add up.
func TestIdleFloodCounts(t *testing.T) {
	addr, mi := seeding(t)
	f := &hostile.IdleFlood{Addr: addr, InfoHash: mi.InfoHash, Locals: []string{"127.0.0.4", "127.0.0.5"}, PerAddr: 4, Retry: 200 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	f.Run(ctx)
	attempts, handshaken := f.Dials()
	t.Logf("peak %d open, %d attempts, %d handshaken", f.Peak(), attempts, handshaken)
	if f.Open() != 0 {
		t.Fatalf("%d connections still open after Run", f.Open())
	}
	if f.Peak() < 2 || f.Peak() > 8 || handshaken < int64(f.Peak()) || attempts < handshaken || attempts < 8 {
		t.Fatalf("peak %d, %d attempts, %d handshaken: inconsistent", f.Peak(), attempts, handshaken)
	}
}

// startDHT runs a real DHT node on 127.0.0.1 with the given query rate
// limits and returns it with its address.
func startDHT(t *testing.T, rate float64, burst int) (*dht.Node, netip.AddrPort) {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n, err := dht.New(dht.Config{Conn: c, QueryRate: rate, QueryBurst: burst})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		n.Serve(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		c.Close()
	})
	return n, c.LocalAddr().(*net.UDPAddr).AddrPort()
}

// TestPoisoner runs a crafted-ID poisoner of 24 sockets against a real
// node: the node learns of it (it verifies the sockets with pings, which
// they answer) and lets at least one into its table.
func TestPoisoner(t *testing.T) {
	n, addr := startDHT(t, 1000, 1000)
	p := &hostile.Poisoner{Target: addr, IP: netip.MustParseAddr("127.0.0.66"), Ports: 24, Crafted: true, Rate: 100, MaxQueries: 48}
	if err := p.Listen(); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		p.Run(ctx)
		close(done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for n.Stats().Good == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second) // the queries go on for about 0.5 s
	cancel()
	<-done
	s := p.Stats()
	t.Logf("poisoner: %+v; node: %d good nodes", s, n.Stats().Good)
	if !s.TargetIDKnown || s.SocketsWithIDs != 24 || s.QueriesSent != 48 || s.RepliesIn == 0 || s.QueriesIn == 0 || s.Answered == 0 {
		t.Fatalf("poisoner stats %+v", s)
	}
	if n.Stats().Good == 0 {
		t.Fatal("no poisoner socket entered the table")
	}
}

// TestIDNear checks the crafted IDs' prefixes.
func TestIDNear(t *testing.T) {
	var self krpc.ID
	for i := range self {
		self[i] = byte(i * 37)
	}
	for depth := range 160 {
		if got := hostile.CommonPrefix(hostile.IDNear(self, depth), self); got != depth {
			t.Fatalf("IDNear(self, %d) shares %d bits", depth, got)
		}
	}
}

// TestProbes weighs every probe against a real node that stores peers of
// one hash: each gets an answer, and a flood from two addresses is
// answered only as far as the node's rate limit allows.
func TestProbes(t *testing.T) {
	_, addr := startDHT(t, 10, 50)
	ctx := context.Background()
	local := netip.MustParseAddr("127.0.0.70")
	ih := krpc.ID{1, 2, 3}
	ok, err := hostile.Announce(ctx, addr, local, ih, []int{7001, 7002, 7003, 7004, 7005})
	if err != nil || ok != 5 {
		t.Fatalf("announce: %d of 5 acknowledged, %v", ok, err)
	}
	id, err := hostile.TargetID(ctx, addr, local)
	if err != nil {
		t.Fatal(err)
	}
	prober := netip.MustParseAddr("127.0.0.71")
	token, err := hostile.Token(ctx, addr, prober, ih)
	if err != nil {
		t.Fatal(err)
	}
	for _, pq := range hostile.ProbeQueries(hostile.IDNear(id, 150), ih, token) {
		r, err := hostile.Probe(ctx, addr, prober, pq, 500*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%-28s %4d bytes -> %4d bytes in %d packets (%.2fx)", r.Kind, r.Sent, r.Received, r.Packets, r.Factor())
		if r.Packets == 0 || r.Sent == 0 {
			t.Fatalf("%s: no answer", r.Kind)
		}
	}
	q := krpc.Msg{T: []byte("f"), Y: krpc.KindQuery, Q: krpc.MethodPing, A: krpc.Args{ID: id}}.Encode()
	f := &hostile.QueryFlood{Target: addr, Locals: hostile.LoopbackAddrs("127.0.0.80", 2), Query: q, Rate: 2000, Max: 400}
	tally, err := f.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("flood: %+v (%.2fx)", tally, tally.Factor())
	if tally.Sent != 400 || tally.SentBytes != int64(400*len(q)) || tally.Received == 0 || tally.Received > 200 {
		t.Fatalf("flood tally %+v: want 400 sent, 1 to 200 answered (a burst of 50 per address and 10/s)", tally)
	}
}

// TestMessages checks that the floods parse back as what they claim.
func TestMessages(t *testing.T) {
	meta := hostile.MetadataRequests(10, 3, 7)
	r := peerwire.NewReader(bytes.NewReader(meta), 0)
	m, err := r.ReadMessage()
	if err != nil || m.ID != peerwire.Extended || m.ExtID != 0 {
		t.Fatalf("first message %+v, %v: want an extended handshake", m, err)
	}
	for i := range 10 {
		m, err := r.ReadMessage()
		if err != nil || m.ExtID != 7 {
			t.Fatalf("request %d: %+v, %v", i, m, err)
		}
		md, err := peerwire.ParseMetadataMsg(m.ExtPayload)
		if err != nil || md.Type != peerwire.MetadataRequest || md.Piece != i%3 {
			t.Fatalf("request %d: %+v, %v", i, md, err)
		}
	}
	reqs := hostile.BlockRequests(70, 4, 64<<10)
	r = peerwire.NewReader(bytes.NewReader(reqs), 4)
	for i := range 70 {
		m, err := r.ReadMessage()
		if err != nil || m.ID != peerwire.Request || m.Index != uint32(i/4%4) || m.Begin != uint32(i%4*16384) || m.Length != 16384 {
			t.Fatalf("request %d: %+v, %v", i, m, err)
		}
	}
	if got := hostile.Addrs("127.0.0.254", 3); fmt.Sprint(got) != "[127.0.0.254 127.0.0.255 127.0.1.0]" {
		t.Fatalf("Addrs: %v", got)
	}
}
