package swarm

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/bitfield"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/peerwire"
)

// memStorage keeps a torrent's data in memory. With files set, the
// bytes of skipped files are left out (zeros), as on disk.
type memStorage struct {
	mu    sync.Mutex
	data  []byte
	pl    int64
	files []metainfo.File
}

func (m *memStorage) WritePiece(i int, b []byte, skip []bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	off := int64(i) * m.pl
	if skip == nil {
		copy(m.data[off:], b)
		return nil
	}
	for k, f := range m.files {
		lo, hi := max(off, f.Offset), min(off+int64(len(b)), f.Offset+f.Length)
		if lo < hi && !skip[k] {
			copy(m.data[lo:hi], b[lo-off:hi-off])
		}
	}
	return nil
}

func (m *memStorage) ReadAt(b []byte, off int64) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return copy(b, m.data[off:]), nil
}

// testTorrent returns random content and its info.
func testTorrent(t *testing.T, size int, pl int64) ([]byte, *metainfo.MetaInfo) {
	t.Helper()
	content := make([]byte, size)
	rand.Read(content)
	info := &metainfo.Info{Name: "t.bin", PieceLength: pl, TotalLength: int64(size),
		Files: []metainfo.File{{Path: []string{"t.bin"}, Length: int64(size)}}}
	for off := 0; off < size; off += int(pl) {
		h := sha1.Sum(content[off:min(off+int(pl), size)])
		info.Pieces = append(info.Pieces, h[:]...)
	}
	mi, err := metainfo.New(info)
	if err != nil {
		t.Fatal(err)
	}
	return content, mi
}

// node is a swarm with its own listener on 127.0.0.1.
type node struct {
	sw    *Swarm
	store *memStorage
	addr  netip.AddrPort
}

func startNode(t *testing.T, mi *metainfo.MetaInfo, content []byte, seed, private bool, tune ...func(*Config)) *node {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n := mi.Info.NumPieces()
	st := &memStorage{data: make([]byte, len(content)), pl: mi.Info.PieceLength}
	have := bitfield.New(n)
	if seed {
		copy(st.data, content)
		for i := range n {
			have.Set(i)
		}
	}
	cfg := TestingConfig(t)
	cfg.InfoHash, cfg.Info, cfg.InfoBytes = mi.InfoHash, &mi.Info, mi.InfoBytes
	cfg.Storage, cfg.Have, cfg.Port, cfg.Private = st, have, l.Addr().(*net.TCPAddr).Port, private
	if seed {
		cfg.UpLimit = NewRateLimit(1 << 20) // slow: leechers stay leechers a while
	}
	for _, f := range tune {
		f(&cfg)
	}
	sw, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		sw.Run(ctx)
	}()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			reserved, _, err := peerwire.ReadHandshakeStart(c)
			if err != nil {
				c.Close()
				continue
			}
			sw.Accept(c, reserved)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		cancel()
		<-done
	})
	return &node{sw: sw, store: st, addr: netip.MustParseAddrPort(l.Addr().String())}
}

// pexSources counts n's connections whose address came through PEX.
func (n *node) pexSources() int {
	c := 0
	for _, p := range n.sw.Stats().PeerList {
		if p.Source == SourcePEX {
			c++
		}
	}
	return c
}

// TestPEX: two leechers that only know the seed learn of each other
// through ut_pex and connect; with a private torrent they never do.
func TestPEX(t *testing.T) {
	pexEvery := TestingTiming().PEXEvery
	for _, private := range []bool{false, true} {
		t.Run(fmt.Sprintf("private=%v", private), func(t *testing.T) {
			// Many small pieces, and a slow enough download that the
			// leechers are still interested in each other when PEX runs.
			content, mi := testTorrent(t, 2<<20, 16<<10)
			s := startNode(t, mi, content, true, private)
			a := startNode(t, mi, content, false, private)
			b := startNode(t, mi, content, false, private)
			a.sw.AddPeers([]netip.AddrPort{s.addr}, SourceManual)
			b.sw.AddPeers([]netip.AddrPort{s.addr}, SourceManual)
			deadline := time.Now().Add(20 * time.Second)
			for !(a.sw.Complete() && b.sw.Complete()) {
				if time.Now().After(deadline) {
					t.Fatal("leechers did not complete within 20 s")
				}
				if !private && a.pexSources()+b.pexSources() > 0 {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if !private {
				// Connected through PEX before completing (or soon after).
				for time.Now().Before(deadline) && a.pexSources()+b.pexSources() == 0 {
					time.Sleep(20 * time.Millisecond)
				}
				if a.pexSources()+b.pexSources() == 0 {
					t.Fatal("no connection came from PEX")
				}
				return
			}
			time.Sleep(3 * pexEvery)
			if n := a.pexSources() + b.pexSources(); n != 0 {
				t.Fatalf("%d PEX connections in a private torrent", n)
			}
			if !bytes.Equal(a.store.data, content) || !bytes.Equal(b.store.data, content) {
				t.Fatal("downloaded data differs")
			}
		})
	}
}

// TestConnectionLimits: a seed never holds more connections than its
// per-torrent limit or the limit shared by all torrents, whichever is
// lower, while 5 leechers try to connect.
func TestConnectionLimits(t *testing.T) {
	for _, c := range []struct{ perTorrent, shared int }{{2, 3}, {10, 2}} {
		t.Run(fmt.Sprintf("torrent=%d,shared=%d", c.perTorrent, c.shared), func(t *testing.T) {
			content, mi := testTorrent(t, 1<<20, 16<<10)
			shared := NewConnLimit(c.shared)
			s := startNode(t, mi, content, true, false, func(cfg *Config) { cfg.MaxPeers, cfg.Limit = c.perTorrent, shared })
			for range 5 {
				l := startNode(t, mi, content, false, false)
				l.sw.AddPeers([]netip.AddrPort{s.addr}, SourceManual)
			}
			want := min(c.perTorrent, c.shared)
			most := 0
			for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				n := s.sw.Stats().Peers
				most = max(most, n)
				if n > want || shared.InUse() > want {
					t.Fatalf("%d connections (%d counted by the shared limit), limit %d", n, shared.InUse(), want)
				}
			}
			if most != want {
				t.Fatalf("at most %d connections seen, want exactly the limit of %d", most, want)
			}
		})
	}
}

// TestRedialBackoff: a peer that closes every connection right after the
// handshake (as rtorrent and Transmission do after sending a magnet's
// metadata) is redialed after RedialMin, then after twice that for each
// close in a row, up to RedialMax.
func TestRedialBackoff(t *testing.T) {
	content, mi := testTorrent(t, 64<<10, 16<<10)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan time.Time, 16)
	go func() {
		var id [20]byte
		copy(id[:], "-XX0001-closesatonce")
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := peerwire.ReadHandshake(c); err == nil {
				c.Write(peerwire.AppendHandshake(nil, peerwire.NewHandshake(mi.InfoHash, id)))
				accepted <- time.Now()
			}
			c.Close()
		}
	}()
	timing := TestingTiming()
	timing.RedialMin, timing.RedialMax = 200*time.Millisecond, 1600*time.Millisecond
	n := startNode(t, mi, content, false, false, func(c *Config) { c.Timing = timing })
	n.sw.AddPeers([]netip.AddrPort{netip.MustParseAddrPort(l.Addr().String())}, SourceManual)
	var times []time.Time
	for len(times) < 6 {
		select {
		case at := <-accepted:
			times = append(times, at)
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d connections within 5 s of the last", len(times))
		}
	}
	for i := 1; i < len(times); i++ {
		gap := times[i].Sub(times[i-1])
		want := retryDelay(timing.RedialMin, timing.RedialMax, i)
		if gap < want || gap > want+400*time.Millisecond {
			t.Errorf("redial %d after %v, want %v (gaps %v)", i, gap.Round(time.Millisecond), want, times)
		}
	}
}
