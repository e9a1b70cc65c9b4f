package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/peerwire"
	"github.com/swarmdrop/swarmdrop/engine/storage"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// hostileSeeder is a peer that claims every piece and answers requests
// with the right data, except for the pieces bad() names, whose blocks it
// corrupts. libtorrent never sends bad data, so this one is ours.
type hostileSeeder struct {
	l         net.Listener
	conns     atomic.Int32 // connections accepted
	badBlocks atomic.Int32 // corrupted blocks sent
	wg        sync.WaitGroup
}

func startHostileSeeder(t *testing.T, mi *metainfo.MetaInfo, dir string, bad func(piece int) bool) *hostileSeeder {
	t.Helper()
	st, err := storage.Open(dir, &mi.Info)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &hostileSeeder{l: l}
	t.Cleanup(func() {
		l.Close()
		h.wg.Wait()
		st.Close()
	})
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			h.conns.Add(1)
			h.wg.Add(1)
			go func() {
				defer h.wg.Done()
				defer c.Close()
				h.serve(c, mi, st, bad)
			}()
		}
	}()
	return h
}

func (h *hostileSeeder) addr() string { return h.l.Addr().String() }

func (h *hostileSeeder) serve(c net.Conn, mi *metainfo.MetaInfo, st *storage.Torrent, bad func(int) bool) {
	c.SetDeadline(time.Now().Add(60 * time.Second))
	theirs, err := peerwire.ReadHandshake(c)
	if err != nil {
		return
	}
	var id [20]byte
	copy(id[:], "-XX0001-hostilepeer!")
	hs := peerwire.Handshake{InfoHash: theirs.InfoHash, PeerID: id}
	n := mi.Info.NumPieces()
	all := make([]byte, (n+7)/8)
	for i := 0; i < n; i++ {
		all[i/8] |= 0x80 >> (i % 8)
	}
	out := peerwire.AppendHandshake(nil, hs)
	out = peerwire.AppendMessage(out, peerwire.Message{ID: peerwire.Bitfield, Bitfield: all})
	out = peerwire.AppendMessage(out, peerwire.Message{ID: peerwire.Unchoke})
	if _, err := c.Write(out); err != nil {
		return
	}
	r := peerwire.NewReader(c, n)
	buf := make([]byte, peerwire.BlockSize)
	for {
		m, err := r.ReadMessage()
		if err != nil {
			return
		}
		if m.ID != peerwire.Request {
			continue
		}
		b := buf[:m.Length]
		off := int64(m.Index)*mi.Info.PieceLength + int64(m.Begin)
		if _, err := st.ReadAt(b, off); err != nil {
			return
		}
		if bad(int(m.Index)) {
			for i := range b {
				b[i] ^= 0x5a
			}
			h.badBlocks.Add(1)
		}
		msg := peerwire.AppendMessage(nil, peerwire.Message{ID: peerwire.Piece, Index: m.Index, Begin: m.Begin, Block: b})
		if _, err := c.Write(msg); err != nil {
			return
		}
	}
}

// TestHostileSeeder: a peer that sends corrupted blocks for some pieces
// sits next to a good libtorrent seeder. We finish with correct data, the
// hostile peer is dropped, and we never connect to it again.
func TestHostileSeeder(t *testing.T) {
	src := t.TempDir()
	content := testContent(t, src, "data", 400_000)
	data, mi := mktorrent(t, content, 15)
	torrentFile := filepath.Join(t.TempDir(), "data.torrent")
	writeFile(t, torrentFile, data)

	bad := startHostileSeeder(t, mi, src, func(p int) bool { return p%2 == 0 })
	_, ltPort := testpeers.SeedLT(t, torrentFile, src)

	e := testEngine(t, Config{})
	ih, err := e.AddTorrent(data, AddOptions{Peers: []string{bad.addr(), fmt.Sprintf("127.0.0.1:%d", ltPort)}})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, e, ih, StateSeeding, 90*time.Second)
	sameTree(t, content, filepath.Join(e.cfg.DownloadDir, "data"))
	if bad.badBlocks.Load() == 0 {
		t.Fatal("the hostile seeder sent no corrupted block: the test proved nothing")
	}
	// Give a reconnection attempt time to happen, then check none did.
	time.Sleep(2 * time.Second)
	if n := bad.conns.Load(); n != 1 {
		t.Fatalf("hostile seeder saw %d connections, want exactly 1 (banned, never reconnected)", n)
	}
	for _, p := range lastStatus(t, e, ih).PeerList {
		if p.Addr == bad.addr() {
			t.Fatalf("still connected to the hostile seeder")
		}
	}
}

// lastStatus returns the torrent's status in the next snapshot.
func lastStatus(t *testing.T, e *Engine, ih string) TorrentStatus {
	t.Helper()
	select {
	case s := <-e.Snapshots():
		for _, ts := range s.Torrents {
			if ts.InfoHash == ih {
				return ts
			}
		}
	case <-time.After(5 * time.Second):
	}
	t.Fatal("no snapshot")
	return TorrentStatus{}
}

// TestHostileWire: a torrent being seeded, and connections that send an
// unknown info hash, an oversized length, a bitfield of the wrong size and
// an out-of-range request. Each is closed; the engine keeps serving.
func TestHostileWire(t *testing.T) {
	src := t.TempDir()
	content := testContent(t, src, "w", 100_000)
	data, mi := mktorrent(t, content, 15)
	e := testEngine(t, Config{DownloadDir: src})
	ih, err := e.AddTorrent(data, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	port := e.testPort(t)
	waitState(t, e, ih, StateSeeding, 30*time.Second)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	var peerID [20]byte
	copy(peerID[:], "-XX0001-wiretester01")

	// handshake opens a connection with a handshake for infoHash and
	// returns it after reading ours (ok false when the engine closed it).
	handshake := func(infoHash metainfo.Hash) (net.Conn, bool) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		hs := peerwire.NewHandshake(infoHash, peerID)
		if _, err := c.Write(peerwire.AppendHandshake(nil, hs)); err != nil {
			t.Fatal(err)
		}
		if _, err := peerwire.ReadHandshake(c); err != nil {
			c.Close()
			return nil, false
		}
		return c, true
	}
	// closedSoon reports whether the engine closes c, draining what it
	// sends before.
	closedSoon := func(c net.Conn) bool {
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err := io.Copy(io.Discard, c)
		var ne net.Error
		return !(errors.As(err, &ne) && ne.Timeout())
	}

	var unknown metainfo.Hash
	unknown[0] = 1
	if c, ok := handshake(unknown); ok {
		c.Close()
		t.Fatal("engine answered a handshake for a torrent it does not have")
	}
	n := mi.Info.NumPieces()
	cases := map[string][]byte{
		"oversized length": {0xff, 0xff, 0xff, 0xff, 7},
		"bitfield of the wrong size": peerwire.AppendMessage(nil, peerwire.Message{
			ID: peerwire.Bitfield, Bitfield: make([]byte, (n+7)/8+3)}),
		"request out of range": append(
			peerwire.AppendMessage(nil, peerwire.Message{ID: peerwire.Interested}),
			peerwire.AppendMessage(nil, peerwire.Message{ID: peerwire.Request, Index: uint32(n + 5), Begin: 0, Length: 16384})...),
		"request past the piece end": append(
			peerwire.AppendMessage(nil, peerwire.Message{ID: peerwire.Interested}),
			peerwire.AppendMessage(nil, peerwire.Message{ID: peerwire.Request, Index: 0, Begin: uint32(mi.Info.PieceLength - 10), Length: 16384})...),
		"block of 1 MiB requested": append(
			peerwire.AppendMessage(nil, peerwire.Message{ID: peerwire.Interested}),
			binary.BigEndian.AppendUint32([]byte{0, 0, 0, 13, 6, 0, 0, 0, 0, 0, 0, 0, 0}, 1<<20)...),
	}
	for name, msg := range cases {
		c, ok := handshake(mi.InfoHash)
		if !ok {
			t.Fatalf("%s: no handshake from the engine", name)
		}
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		if !closedSoon(c) {
			t.Errorf("%s: connection not closed", name)
		}
	}
	// Still serving: a fresh handshake is answered and the torrent seeds.
	c, ok := handshake(mi.InfoHash)
	if !ok {
		t.Fatal("engine stopped answering after hostile input")
	}
	c.Close()
	if ts := lastStatus(t, e, ih); ts.State != StateSeeding {
		t.Fatalf("torrent state %q after hostile input", ts.State)
	}
}
