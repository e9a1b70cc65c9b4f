package swarm

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/bitfield"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/peerwire"
)

// Peer-level tests: a running swarm, and the test playing the remote peer
// over net.Pipe, message by message. No process, no socket.

// addrConn is a net.Pipe end that reports a chosen remote address (the
// swarm keys connections by address).
type addrConn struct {
	net.Conn
	remote netip.AddrPort
}

func (c addrConn) RemoteAddr() net.Addr { return net.TCPAddrFromAddrPort(c.remote) }

// pipeSwarm runs a swarm for content (seed: all pieces, else none) until
// the test ends.
func pipeSwarm(t *testing.T, mi *metainfo.MetaInfo, content []byte, seed bool, tune ...func(*Config)) (*Swarm, *memStorage) {
	t.Helper()
	n := mi.Info.NumPieces()
	st := &memStorage{data: make([]byte, len(content)), pl: mi.Info.PieceLength}
	have := bitfield.New(n)
	if seed {
		copy(st.data, content)
		have.SetAll()
	}
	cfg := TestingConfig(t)
	cfg.InfoHash, cfg.Info, cfg.InfoBytes, cfg.Storage, cfg.Have = mi.InfoHash, &mi.Info, mi.InfoBytes, st, have
	for _, f := range tune {
		f(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return s, st
}

// remote is the test's end of one connection.
type remote struct {
	t    *testing.T
	c    net.Conn
	r    *peerwire.Reader
	msgs chan peerwire.Message // filled by follow
	err  chan error
}

// Reserved bits of the remote's handshake.
var (
	fastExt = [8]byte{5: 0x10, 7: 0x04} // BEP 10 and BEP 6
	plain   = [8]byte{}
)

// dialPipe connects a remote at addr to s: the listener's part (the first
// 48 handshake bytes) is taken as read; the remote reads the swarm's
// handshake and ends its own with a random peer ID.
func dialPipe(t *testing.T, s *Swarm, addr string, reserved [8]byte, numPieces int) *remote {
	t.Helper()
	ours, theirs := net.Pipe()
	t.Cleanup(func() { theirs.Close() })
	s.Accept(addrConn{ours, netip.MustParseAddrPort(addr)}, reserved)
	theirs.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := peerwire.ReadHandshake(theirs); err != nil {
		t.Fatalf("reading the swarm's handshake: %v", err)
	}
	var id [20]byte
	rand.Read(id[:])
	if _, err := theirs.Write(id[:]); err != nil {
		t.Fatal(err)
	}
	theirs.SetDeadline(time.Time{})
	return &remote{t: t, c: theirs, r: peerwire.NewReader(theirs, numPieces)}
}

// follow reads every message from now on into r.msgs (copies), so that
// the swarm's writes never block on the pipe.
func (r *remote) follow() *remote {
	r.msgs, r.err = make(chan peerwire.Message, 1<<14), make(chan error, 1)
	go func() {
		for {
			m, err := r.r.ReadMessage()
			if err != nil {
				r.err <- err
				close(r.msgs)
				return
			}
			m.Block, m.Bitfield, m.ExtPayload = slices.Clone(m.Block), slices.Clone(m.Bitfield), slices.Clone(m.ExtPayload)
			r.msgs <- m
		}
	}()
	return r
}

// send writes messages to the swarm.
func (r *remote) send(ms ...peerwire.Message) {
	r.t.Helper()
	var b []byte
	for _, m := range ms {
		b = peerwire.AppendMessage(b, m)
	}
	r.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.c.Write(b); err != nil {
		r.t.Fatalf("sending %d messages: %v", len(ms), err)
	}
}

// expect returns the first message (after follow) that match accepts,
// failing after 5 s; skipped messages go to skipped when it is not nil.
func (r *remote) expect(what string, match func(peerwire.Message) bool, skipped *[]peerwire.Message) peerwire.Message {
	r.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case m, ok := <-r.msgs:
			if !ok {
				r.t.Fatalf("waiting for %s: connection closed: %v", what, <-r.err)
			}
			if match(m) {
				return m
			}
			if skipped != nil {
				*skipped = append(*skipped, m)
			}
		case <-deadline:
			r.t.Fatalf("no %s within 5 s", what)
		}
	}
}

// expectClosed waits for the swarm to close the connection.
func (r *remote) expectClosed(what string, timeout time.Duration) {
	r.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case _, ok := <-r.msgs:
			if !ok {
				return
			}
		case <-deadline:
			r.t.Fatalf("%s: connection still open after %v", what, timeout)
		}
	}
}

func is(id peerwire.ID) func(peerwire.Message) bool {
	return func(m peerwire.Message) bool { return !m.Keepalive && m.ID == id }
}

func isBlock(index, begin uint32) func(peerwire.Message) bool {
	return func(m peerwire.Message) bool {
		return !m.Keepalive && m.ID == peerwire.Piece && m.Index == index && m.Begin == begin
	}
}

// TestPipeChokeUnchoke: a seed rejects (fast extension) what a choked peer
// asks for, unchokes it once interested, then serves the right bytes; a
// peer that keeps asking while choked is dropped.
func TestPipeChokeUnchoke(t *testing.T) {
	content, mi := testTorrent(t, 4*BlockSize, 2*BlockSize)
	s, _ := pipeSwarm(t, mi, content, true)
	r := dialPipe(t, s, "10.1.0.1:6881", fastExt, mi.Info.NumPieces()).follow()
	r.expect("have all", is(peerwire.HaveAll), nil)
	r.send(peerwire.Message{ID: peerwire.Request, Index: 1, Begin: 0, Length: BlockSize})
	rej := r.expect("reject", is(peerwire.Reject), nil)
	if rej.Index != 1 || rej.Begin != 0 || rej.Length != BlockSize {
		t.Fatalf("rejected %d+%d/%d, want the request 1+0/16384", rej.Index, rej.Begin, rej.Length)
	}
	r.send(peerwire.Message{ID: peerwire.Interested})
	r.expect("unchoke", is(peerwire.Unchoke), nil)
	r.send(peerwire.Message{ID: peerwire.Request, Index: 1, Begin: BlockSize, Length: BlockSize})
	got := r.expect("block 1+16384", isBlock(1, BlockSize), nil)
	if !bytes.Equal(got.Block, content[3*BlockSize:4*BlockSize]) {
		t.Fatal("the seed sent the wrong bytes")
	}

	// A peer without the fast extension gets no rejects; one that keeps
	// asking while choked is dropped.
	r2 := dialPipe(t, s, "10.1.0.2:6881", plain, mi.Info.NumPieces()).follow()
	r2.expect("bitfield", is(peerwire.Bitfield), nil)
	req := peerwire.AppendMessage(nil, peerwire.Message{ID: peerwire.Request, Index: 0, Begin: 0, Length: BlockSize})
	go func() {
		flood := bytes.Repeat(req, maxChokedRequests+1)
		r2.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		r2.c.Write(flood)
	}()
	r2.expectClosed("requests while choked", 5*time.Second)
}

// TestPipeHave: a peer that announces a piece we lack makes us interested;
// once it unchokes us we ask it for that piece's blocks and no others.
func TestPipeHave(t *testing.T) {
	content, mi := testTorrent(t, 4*2*BlockSize, 2*BlockSize)
	s, st := pipeSwarm(t, mi, content, false)
	r := dialPipe(t, s, "10.1.0.1:6881", plain, mi.Info.NumPieces()).follow()
	r.send(peerwire.Message{ID: peerwire.Have, Index: 2})
	r.expect("interested", is(peerwire.Interested), nil)
	r.send(peerwire.Message{ID: peerwire.Unchoke})
	var asked []peerwire.Message
	for len(asked) < 2 {
		m := r.expect("request", is(peerwire.Request), nil)
		if m.Index != 2 {
			t.Fatalf("asked for piece %d, which the peer does not have", m.Index)
		}
		asked = append(asked, m)
	}
	for _, m := range asked {
		off := 2*2*BlockSize + int(m.Begin)
		r.send(peerwire.Message{ID: peerwire.Piece, Index: 2, Begin: m.Begin, Block: content[off : off+int(m.Length)]})
	}
	r.expect("not interested once the piece is ours", is(peerwire.NotInterested), nil)
	if !bytes.Equal(st.data[4*BlockSize:6*BlockSize], content[4*BlockSize:6*BlockSize]) || s.Stats().PiecesHave != 1 {
		t.Fatalf("piece 2 not stored (%d pieces)", s.Stats().PiecesHave)
	}
}

// TestPipeCancel: a block cancelled while still queued is not sent; the
// blocks around it are.
func TestPipeCancel(t *testing.T) {
	content, mi := testTorrent(t, 8*BlockSize, 8*BlockSize)
	s, _ := pipeSwarm(t, mi, content, true)
	r := dialPipe(t, s, "10.1.0.1:6881", plain, mi.Info.NumPieces())
	r.send(peerwire.Message{ID: peerwire.Interested})
	// Read (by hand) up to the unchoke, then ask for block A and read only
	// its header: the writer is now stuck in the middle of A.
	for {
		m, err := r.r.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if m.ID == peerwire.Unchoke {
			break
		}
	}
	req := func(b uint32) peerwire.Message {
		return peerwire.Message{ID: peerwire.Request, Index: 0, Begin: b * BlockSize, Length: BlockSize}
	}
	r.send(req(0))
	hdr := make([]byte, 13)
	if _, err := io.ReadFull(r.c, hdr); err != nil {
		t.Fatal(err)
	}
	r.send(req(1), req(2))
	r.send(peerwire.Message{ID: peerwire.Cancel, Index: 0, Begin: 2 * BlockSize, Length: BlockSize}, req(3))
	// The swarm has read the cancel, but its reader may not have acted
	// on it yet: wait until D is queued (it follows the cancel) before
	// letting the writer go on.
	waitQueued(t, s, 3)
	// The rest of A, then B, then (not C) D.
	if _, err := io.ReadFull(r.c, make([]byte, BlockSize)); err != nil {
		t.Fatal(err)
	}
	r.follow()
	var order []uint32
	for len(order) < 2 {
		m := r.expect("block", is(peerwire.Piece), nil)
		order = append(order, m.Begin/BlockSize)
	}
	if !slices.Equal(order, []uint32{1, 3}) {
		t.Fatalf("blocks sent after A: %v, want [1 3] (2 was cancelled)", order)
	}
}

// TestPipeReject: a rejected request goes back to the picker and is asked
// again; the torrent completes with the right data.
func TestPipeReject(t *testing.T) {
	content, mi := testTorrent(t, 4*BlockSize, 2*BlockSize)
	s, st := pipeSwarm(t, mi, content, false)
	r := dialPipe(t, s, "10.1.0.1:6881", fastExt, mi.Info.NumPieces()).follow()
	r.send(peerwire.Message{ID: peerwire.HaveAll}, peerwire.Message{ID: peerwire.Unchoke})
	first := r.expect("request", is(peerwire.Request), nil)
	r.send(peerwire.Message{ID: peerwire.Reject, Index: first.Index, Begin: first.Begin, Length: first.Length})
	served := 0
	seen := map[[2]uint32]int{}
	for served < 4 {
		m := r.expect("request", is(peerwire.Request), nil)
		seen[[2]uint32{m.Index, m.Begin}]++
		off := int(m.Index)*2*BlockSize + int(m.Begin)
		r.send(peerwire.Message{ID: peerwire.Piece, Index: m.Index, Begin: m.Begin, Block: content[off : off+int(m.Length)]})
		served++
	}
	deadline := time.Now().Add(5 * time.Second)
	for !s.Complete() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !s.Complete() || !bytes.Equal(st.data, content) {
		t.Fatal("not complete with the right data after a reject")
	}
	if seen[[2]uint32{first.Index, first.Begin}] != 1 {
		t.Fatalf("the rejected block %d+%d was asked again %d times after the reject, want 1", first.Index, first.Begin, seen[[2]uint32{first.Index, first.Begin}])
	}
	if st := s.Stats(); st.Rejected != 1 {
		t.Fatalf("Stats.Rejected = %d, want 1", st.Rejected)
	}
}

// TestPipeEndGame: with every block requested from one peer, a second
// peer gets duplicates of them; when a block arrives from one, the other
// gets a cancel for it.
func TestPipeEndGame(t *testing.T) {
	content, mi := testTorrent(t, 2*BlockSize, 2*BlockSize)
	// Writing the piece waits for the gate: completion (which closes
	// connections to seeds) must not race the cancels checked here.
	gate := make(chan struct{})
	var st *gatedStorage
	s, _ := pipeSwarm(t, mi, content, false, func(c *Config) {
		st = &gatedStorage{memStorage: c.Storage.(*memStorage), gate: gate}
		c.Storage = st
	})
	a := dialPipe(t, s, "10.1.0.1:6881", fastExt, 1).follow()
	a.send(peerwire.Message{ID: peerwire.HaveAll}, peerwire.Message{ID: peerwire.Unchoke})
	for range 2 {
		a.expect("request to A", is(peerwire.Request), nil)
	}
	b := dialPipe(t, s, "10.1.0.2:6881", fastExt, 1).follow()
	b.send(peerwire.Message{ID: peerwire.HaveAll}, peerwire.Message{ID: peerwire.Unchoke})
	for range 2 {
		b.expect("end-game duplicate to B", is(peerwire.Request), nil)
	}
	a.send(peerwire.Message{ID: peerwire.Piece, Index: 0, Begin: 0, Block: content[:BlockSize]})
	c := b.expect("cancel to B", is(peerwire.Cancel), nil)
	if c.Index != 0 || c.Begin != 0 {
		t.Fatalf("B told to cancel %d+%d, want 0+0 (the block A sent)", c.Index, c.Begin)
	}
	b.send(peerwire.Message{ID: peerwire.Piece, Index: 0, Begin: BlockSize, Block: content[BlockSize:]})
	c = a.expect("cancel to A", is(peerwire.Cancel), nil)
	if c.Begin != BlockSize {
		t.Fatalf("A told to cancel %d+%d, want 0+16384 (the block B sent)", c.Index, c.Begin)
	}
	close(gate)
	deadline := time.Now().Add(5 * time.Second)
	for !s.Complete() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !bytes.Equal(st.data, content) {
		t.Fatal("end game did not complete the piece")
	}
}

// gatedStorage writes a piece only once gate is closed.
type gatedStorage struct {
	*memStorage
	gate chan struct{}
}

func (g *gatedStorage) WritePiece(i int, b []byte, skip []bool) error {
	<-g.gate
	return g.memStorage.WritePiece(i, b, skip)
}

// TestPipeSmartBan: a piece assembled from two peers fails its hash; once
// it verifies from good data, the peer whose block differed is banned and
// dropped, and the other stays.
func TestPipeSmartBan(t *testing.T) {
	// Two pieces, of which the peers have only the first: the torrent
	// stays incomplete, so no connection closes as seed-to-seed.
	content, mi := testTorrent(t, 5*BlockSize, 4*BlockSize)
	s, st := pipeSwarm(t, mi, content, false)
	first := peerwire.Message{ID: peerwire.Bitfield, Bitfield: []byte{0x80}}
	serve := func(r *remote, m peerwire.Message, corrupt bool) {
		blk := slices.Clone(content[m.Begin : m.Begin+m.Length])
		if corrupt {
			blk[0] ^= 0xff
		}
		r.send(peerwire.Message{ID: peerwire.Piece, Index: m.Index, Begin: m.Begin, Block: blk})
	}
	good := dialPipe(t, s, "10.1.0.1:6881", fastExt, 2).follow()
	good.send(first, peerwire.Message{ID: peerwire.Unchoke})
	var reqs []peerwire.Message
	for range 4 {
		reqs = append(reqs, good.expect("request to the good peer", is(peerwire.Request), nil))
	}
	bad := dialPipe(t, s, "10.1.0.2:6881", fastExt, 2).follow()
	bad.send(first)
	// The good peer sends blocks 0 and 1, chokes us (so that nothing more
	// goes to it) and rejects 2 and 3 ...
	for _, m := range reqs {
		if m.Begin < 2*BlockSize {
			serve(good, m, false)
		}
	}
	good.send(peerwire.Message{ID: peerwire.Choke})
	for _, m := range reqs {
		if m.Begin >= 2*BlockSize {
			good.send(peerwire.Message{ID: peerwire.Reject, Index: m.Index, Begin: m.Begin, Length: m.Length})
		}
	}
	// ... which go to the bad peer, who corrupts block 2.
	bad.send(peerwire.Message{ID: peerwire.Unchoke})
	for range 2 {
		m := bad.expect("request to the bad peer", is(peerwire.Request), nil)
		serve(bad, m, m.Begin == 2*BlockSize)
	}
	// The piece fails and is fetched again; both serve honestly now, from
	// whichever they are asked.
	deadline := time.Now().Add(10 * time.Second)
	for s.Stats().HashFails == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if s.Stats().HashFails != 1 {
		t.Fatalf("%d hash failures, want 1", s.Stats().HashFails)
	}
	good.send(peerwire.Message{ID: peerwire.Unchoke})
	stop := make(chan struct{})
	defer close(stop)
	for _, r := range []*remote{good, bad} {
		go func() {
			for {
				select {
				case <-stop:
					return
				case m, ok := <-r.msgs:
					if !ok {
						return
					}
					if m.ID == peerwire.Request && !m.Keepalive {
						serve(r, m, false)
					}
				}
			}
		}()
	}
	for s.Stats().PiecesHave == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s.Stats().PiecesHave != 1 || !bytes.Equal(st.data[:4*BlockSize], content[:4*BlockSize]) {
		t.Fatal("the piece did not verify after the retry")
	}
	for time.Now().Before(deadline) && s.Stats().Peers != 1 {
		time.Sleep(10 * time.Millisecond)
	}
	stats := s.Stats()
	if stats.Banned != 1 || stats.Peers != 1 || stats.PeerList[0].Addr != "10.1.0.1:6881" {
		t.Fatalf("banned %d, peers %v; want the bad peer (10.1.0.2) banned and dropped, the good one kept", stats.Banned, stats.PeerList)
	}
	// The banned address is refused when it comes back.
	dialPipe(t, s, "10.1.0.2:6881", fastExt, 2).follow().expectClosed("a banned peer's new connection", 5*time.Second)
}

// TestPipeEviction: a full torrent refuses newcomers while its
// connections are young; once they have been idle for EvictAfter, a
// newcomer from a new address takes the slot of an idle one (a second
// connection from one address first); an address that lost a slot may not
// take one back, and a connection that moves data is never the one to go.
func TestPipeEviction(t *testing.T) {
	content, mi := testTorrent(t, 4*BlockSize, 2*BlockSize)
	// EvictAfter is long enough that the newcomer refused for coming
	// while every connection is young still comes in time when a loaded
	// machine runs this test seconds late; the waits for connections to
	// grow old are each longer than it.
	const evictAfter = 2 * time.Second
	s, _ := pipeSwarm(t, mi, content, true, func(c *Config) {
		c.MaxPeers, c.MaxPeersPerIP, c.Timing.EvictAfter = 3, 2, evictAfter
	})
	n := mi.Info.NumPieces()
	connected := func(addr string) bool {
		for _, p := range s.Stats().PeerList {
			if p.Addr == addr {
				return true
			}
		}
		return false
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 15 s (peers %v)", what, s.Stats().PeerList)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	useful := dialPipe(t, s, "10.2.0.9:1", fastExt, n).follow()
	dialPipe(t, s, "10.2.0.1:1", fastExt, n).follow()
	dialPipe(t, s, "10.2.0.1:2", fastExt, n).follow()
	waitFor("three connections", func() bool { return s.Stats().Peers == 3 })

	dialPipe(t, s, "10.2.0.2:1", fastExt, n).follow().expectClosed("a newcomer while every connection is young", 5*time.Second)

	// The useful peer downloads now and then; the other two stay idle.
	useful.send(peerwire.Message{ID: peerwire.Interested})
	useful.expect("unchoke", is(peerwire.Unchoke), nil)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			useful.send(peerwire.Message{ID: peerwire.Request, Index: uint32(i % n), Begin: 0, Length: BlockSize})
		}
	}()
	time.Sleep(evictAfter + 200*time.Millisecond)

	dialPipe(t, s, "10.2.0.3:1", fastExt, n).follow()
	waitFor("the newcomer admitted", func() bool { return connected("10.2.0.3:1") })
	if st := s.Stats(); st.Evicted != 1 || st.Peers != 3 || connected("10.2.0.1:1") && connected("10.2.0.1:2") {
		t.Fatalf("evicted %d, peers %v; want one of the two 10.2.0.1 connections replaced", st.Evicted, st.PeerList)
	}
	// 10.2.0.1 lost a slot: it may not take one back, even once the
	// others are old enough.
	time.Sleep(evictAfter + 100*time.Millisecond)
	dialPipe(t, s, "10.2.0.1:3", fastExt, n).follow().expectClosed("a newcomer from an evicted address", 5*time.Second)
	// A fresh address may; the connection that moves data stays.
	dialPipe(t, s, "10.2.0.4:1", fastExt, n).follow()
	waitFor("a second newcomer admitted", func() bool { return connected("10.2.0.4:1") })
	if !connected("10.2.0.9:1") || s.Stats().Evicted != 2 {
		t.Fatalf("evicted %d, peers %v; want the idle ones replaced, the downloading one kept", s.Stats().Evicted, s.Stats().PeerList)
	}
}

// waitQueued waits (at most 5 s) until a block request for block b of
// piece 0 is queued for upload to the swarm's one peer.
func waitQueued(t *testing.T, s *Swarm, b uint32) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		s.mu.Lock()
		found := false
		for _, p := range s.peers {
			p.q.mu.Lock()
			for _, u := range p.q.uploads {
				found = found || (u.index == 0 && u.begin == b*BlockSize)
			}
			p.q.mu.Unlock()
		}
		s.mu.Unlock()
		if found {
			return
		}
	}
	t.Fatalf("block %d was never queued for upload", b)
}
