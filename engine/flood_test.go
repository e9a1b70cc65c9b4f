package engine

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/peerwire"
	"github.com/swarmdrop/swarmdrop/engine/swarm"
	"github.com/swarmdrop/swarmdrop/internal/hostile"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// Floods against a seeding engine, from a hostile peer written here (no
// real client misbehaves on purpose). Each keeps the engine's heap growth
// under floodHeapBound and ends with the flooder disconnected. Before the
// send budgets, 10,000 ut_metadata requests grew the heap by hundreds of
// MiB and the connection stayed open.

// floodHeapBound is the most the engine's heap may grow during a flood:
// one peer's budgets (128 KiB of messages, one 128 KiB write batch), the
// flooder's own buffers and garbage not yet collected fit well within it.
const floodHeapBound = 24 << 20

// heapPeak samples the heap in use every 10 ms until stop is called, and
// returns the highest value above the heap at the start.
func heapPeak() (stop func() uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				if ms.HeapAlloc > base && ms.HeapAlloc-base > peak.Load() {
					peak.Store(ms.HeapAlloc - base)
				}
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak.Load()
	}
}

// manyFiles writes a folder of n small files with long names, so that
// its torrent's info dictionary spans several 16 KiB metadata pieces.
func manyFiles(t *testing.T, dir string, n int) string {
	t.Helper()
	root := filepath.Join(dir, "many")
	for i := range n {
		name := fmt.Sprintf("a-file-with-a-deliberately-long-name-to-grow-the-info-dictionary-%04d.txt", i)
		writeFile(t, filepath.Join(root, name), []byte(strings.Repeat("x", 100+i)))
	}
	return root
}

// seedForFlood starts an engine seeding a torrent and returns it with the
// torrent's info and the engine's address.
func seedForFlood(t *testing.T, content string, pieceLog int) (*Engine, string, *metainfo.MetaInfo, string) {
	t.Helper()
	data, mi := mktorrent(t, content, pieceLog)
	e := testEngine(t, Config{DownloadDir: filepath.Dir(content)})
	ih, err := e.AddTorrent(data, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	port := e.testPort(t)
	waitState(t, e, ih, StateSeeding, 30*time.Second)
	return e, ih, mi, fmt.Sprintf("127.0.0.1:%d", port)
}

// stillConnected reports whether the engine lists a peer at local.
func stillConnected(t *testing.T, e *Engine, ih string, local net.Addr) bool {
	for _, p := range lastStatus(t, e, ih).PeerList {
		if p.Addr == local.String() {
			return true
		}
	}
	return false
}

// waitDropped waits until the engine no longer lists the connection,
// failing after timeout.
func waitDropped(t *testing.T, e *Engine, ih string, c net.Conn, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for stillConnected(t, e, ih, c.LocalAddr()) {
		if time.Since(start) > timeout {
			t.Fatalf("the flooder is still connected after %v", timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

var floodID = hostile.PeerID("flooder")

// TestMetadataFlood: 10,000 ut_metadata requests (about 310 KB) from a
// peer that does not read, or reads slowly: the seeder's heap stays
// bounded and the peer is disconnected.
func TestMetadataFlood(t *testing.T) {
	content := manyFiles(t, t.TempDir(), 400)
	e, ih, mi, addr := seedForFlood(t, content, 15)
	pieces := (len(mi.InfoBytes) + peerwire.MetadataPieceSize - 1) / peerwire.MetadataPieceSize
	if pieces < 2 {
		t.Fatalf("info dictionary of %d bytes: want several metadata pieces", len(mi.InfoBytes))
	}
	for _, reading := range []bool{false, true} {
		t.Run(fmt.Sprintf("reading=%v", reading), func(t *testing.T) {
			id := floodID
			if reading {
				id[19] = 'r'
			}
			c, err := hostile.Peer{Addr: addr, InfoHash: mi.InfoHash, ID: id}.Connect(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			extID, size, err := hostile.UTMetadataID(c, peerwire.NewReader(c, 0), 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if size != len(mi.InfoBytes) {
				t.Fatalf("metadata_size %d, want %d", size, len(mi.InfoBytes))
			}
			out := hostile.MetadataRequests(10_000, pieces, extID)
			stop := heapPeak()
			if reading {
				go hostile.ReadSlowly(c, 64<<10)
			}
			c.SetWriteDeadline(time.Now().Add(20 * time.Second))
			c.Write(out) // fails once the engine hangs up
			took := waitDropped(t, e, ih, c, 30*time.Second)
			peak := stop()
			t.Logf("%d requests of %d bytes: heap grew by at most %.1f MiB; disconnected %v after the flood", 10_000, len(out), float64(peak)/(1<<20), took.Round(time.Millisecond))
			if peak > floodHeapBound {
				t.Fatalf("heap grew by %.1f MiB during the flood, bound %d MiB", float64(peak)/(1<<20), floodHeapBound>>20)
			}
		})
	}
}

// TestRequestFlood: 100,000 block requests while choked (with and without
// the fast extension's rejects), and 100,000 while unchoked from a peer
// that does not read: bounded heap, flooder disconnected.
func TestRequestFlood(t *testing.T) {
	src := t.TempDir()
	content := filepath.Join(src, "big.bin")
	testpeers.RandomFile(t, content, 4<<20, 7)
	e, ih, mi, addr := seedForFlood(t, content, 16)
	for _, tc := range []struct {
		name     string
		fast     bool
		unchoked bool
	}{
		{"choked, fast extension", true, false},
		{"choked, no fast extension", false, false},
		{"unchoked, not reading", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := floodID
			id[19] = byte('a' + len(tc.name))
			c, err := hostile.Peer{Addr: addr, InfoHash: mi.InfoHash, ID: id, NoFast: !tc.fast}.Connect(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if tc.unchoked {
				if err := hostile.AwaitUnchoke(c, peerwire.NewReader(c, mi.Info.NumPieces()), 10*time.Second); err != nil {
					t.Fatal(err)
				}
			}
			out := hostile.BlockRequests(100_000, mi.Info.NumPieces(), mi.Info.PieceLength)
			stop := heapPeak()
			c.SetWriteDeadline(time.Now().Add(20 * time.Second))
			c.Write(out)
			took := waitDropped(t, e, ih, c, 30*time.Second)
			peak := stop()
			t.Logf("100,000 requests (%d bytes): heap grew by at most %.1f MiB; disconnected %v after the flood", len(out), float64(peak)/(1<<20), took.Round(time.Millisecond))
			if peak > floodHeapBound {
				t.Fatalf("heap grew by %.1f MiB during the flood, bound %d MiB", float64(peak)/(1<<20), floodHeapBound>>20)
			}
		})
	}
}

// TestIdleFloodDoesNotLockOut: 500 idle handshaken connections, from one
// address and then from 50, are kept open against a seeding engine; a
// real downloader (libtorrent) from another address still completes.
// Before the per-address limit and eviction, 60 idle connections filled
// every slot and the downloader got nothing.
func TestIdleFloodDoesNotLockOut(t *testing.T) {
	src := t.TempDir()
	content := testContent(t, src, "flooded", 300_000)
	data, mi := mktorrent(t, content, 16)
	torrentFile := filepath.Join(t.TempDir(), "flooded.torrent")
	writeFile(t, torrentFile, data)
	for _, tc := range []struct {
		name   string
		locals []string
		per    int
	}{
		{"one address", []string{"127.0.0.1"}, 500},
		{"50 addresses", hostile.Addrs("127.0.0.10", 50), 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := testEngine(t, Config{DownloadDir: src})
			ih, err := e.AddTorrent(data, AddOptions{})
			if err != nil {
				t.Fatal(err)
			}
			port := e.testPort(t)
			waitState(t, e, ih, StateSeeding, 30*time.Second)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			flood := &hostile.IdleFlood{Addr: fmt.Sprintf("127.0.0.1:%d", port), InfoHash: mi.InfoHash, Locals: tc.locals, PerAddr: tc.per}
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				flood.Run(ctx)
			}()
			defer func() {
				cancel()
				wg.Wait()
			}()
			// Let the flood take every slot it can, and grow old enough
			// to be worth evicting (a flood that is already there when a
			// real peer comes: libtorrent retries a refused peer only
			// after a minute, so its first try is the one that counts).
			want := min(60, swarm.DefaultMaxPeersPerIP*len(tc.locals))
			deadline := time.Now().Add(10 * time.Second)
			for lastStatus(t, e, ih).Peers < want && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
			}
			filled := time.Now()
			for time.Since(filled) < swarm.DefaultTiming().EvictAfter+time.Second {
				st := lastStatus(t, e, ih)
				perIP := map[string]int{}
				for _, p := range st.PeerList {
					host, _, _ := net.SplitHostPort(p.Addr)
					perIP[host]++
					if perIP[host] > swarm.DefaultMaxPeersPerIP {
						t.Fatalf("%d connections from %s, limit %d", perIP[host], host, swarm.DefaultMaxPeersPerIP)
					}
				}
				if st.Peers > 60 {
					t.Fatalf("%d connections, limit 60", st.Peers)
				}
				time.Sleep(200 * time.Millisecond)
			}
			held := lastStatus(t, e, ih).Peers
			start := time.Now()
			dst := t.TempDir()
			dl := testpeers.StartLT(t, "download", torrentFile, dst, "--port", "0", "--ip", "127.0.0.2", "--bind-outgoing",
				"--peer", fmt.Sprintf("127.0.0.1:%d", port), "--seconds", "50")
			dl.Wait(t, "DONE", 60*time.Second)
			t.Logf("%d flood connections open (%d held by the torrent when the downloader came); downloader done in %v",
				flood.Open(), held, time.Since(start).Round(100*time.Millisecond))
			sameTree(t, content, filepath.Join(dst, "flooded"))
		})
	}
}
