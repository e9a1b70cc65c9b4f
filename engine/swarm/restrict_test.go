package swarm

import (
	"bytes"
	"io"
	"sync"
	"testing"

	"github.com/swarmdrop/swarmdrop/engine/bitfield"
	"github.com/swarmdrop/swarmdrop/engine/peerwire"
)

// readLog is a Storage that records which pieces uploads read.
type readLog struct {
	Storage
	pl    int64
	mu    sync.Mutex
	reads map[int64]int
}

func (r *readLog) ReadAt(b []byte, off int64) (int, error) {
	r.mu.Lock()
	r.reads[off/r.pl]++
	r.mu.Unlock()
	return r.Storage.ReadAt(b, off)
}

func (r *readLog) read(piece int64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reads[piece]
}

// TestPipeRestrictUploads: under RestrictUploads, a newcomer is told of
// the allowed pieces only; a request for another piece is rejected (fast
// extension) or dropped (without), counted, and never read from
// storage, while the allowed pieces are served.
func TestPipeRestrictUploads(t *testing.T) {
	content, mi := testTorrent(t, 8*BlockSize, 2*BlockSize)
	var log *readLog
	s, _ := pipeSwarm(t, mi, content, true, func(c *Config) {
		log = &readLog{Storage: c.Storage, pl: mi.Info.PieceLength, reads: map[int64]int{}}
		c.Storage = log
	})
	allowed := bitfield.New(4)
	allowed.Set(0)
	allowed.Set(2)
	s.RestrictUploads(allowed)

	r := dialPipe(t, s, "10.1.0.1:6881", fastExt, mi.Info.NumPieces()).follow()
	bf := r.expect("bitfield", func(m peerwire.Message) bool {
		return is(peerwire.Bitfield)(m) || is(peerwire.HaveAll)(m) || is(peerwire.HaveNone)(m)
	}, nil)
	if bf.ID != peerwire.Bitfield || !bytes.Equal(bf.Bitfield, []byte{0xa0}) {
		t.Fatalf("newcomer told %v %x, want the bitfield of pieces 0 and 2", bf.ID, bf.Bitfield)
	}
	r.send(peerwire.Message{ID: peerwire.Interested})
	r.expect("unchoke", is(peerwire.Unchoke), nil)
	r.send(peerwire.Message{ID: peerwire.Request, Index: 1, Begin: 0, Length: BlockSize},
		peerwire.Message{ID: peerwire.Request, Index: 2, Begin: BlockSize, Length: BlockSize})
	var before []peerwire.Message
	rej := r.expect("reject of piece 1", is(peerwire.Reject), &before)
	if rej.Index != 1 || rej.Begin != 0 || rej.Length != BlockSize {
		t.Fatalf("rejected %d+%d/%d, want 1+0/16384", rej.Index, rej.Begin, rej.Length)
	}
	got := r.expect("block 2+16384", isBlock(2, BlockSize), &before)
	if !bytes.Equal(got.Block, content[5*BlockSize:6*BlockSize]) {
		t.Fatal("wrong bytes for an allowed piece")
	}
	for _, m := range before {
		if m.ID == peerwire.Piece {
			t.Fatalf("sent block %d+%d of a piece not allowed", m.Index, m.Begin)
		}
	}

	// Without the fast extension the request is dropped; the next one is
	// served, and the connection stays.
	r2 := dialPipe(t, s, "10.1.0.2:6881", plain, mi.Info.NumPieces()).follow()
	r2.send(peerwire.Message{ID: peerwire.Interested})
	r2.expect("unchoke", is(peerwire.Unchoke), nil)
	r2.send(peerwire.Message{ID: peerwire.Request, Index: 3, Begin: 0, Length: BlockSize},
		peerwire.Message{ID: peerwire.Request, Index: 0, Begin: 0, Length: BlockSize})
	before = nil
	r2.expect("block 0+0", isBlock(0, 0), &before)
	for _, m := range before {
		if m.ID == peerwire.Piece || m.ID == peerwire.Reject {
			t.Fatalf("peer without fast extension got %v for %d+%d", m.ID, m.Index, m.Begin)
		}
	}
	if n := s.Stats().Refused; n != 2 {
		t.Fatalf("Stats.Refused = %d, want 2", n)
	}
	if log.read(1) != 0 || log.read(3) != 0 {
		t.Fatalf("pieces not allowed read from storage: piece 1 %d times, piece 3 %d times", log.read(1), log.read(3))
	}
	if log.read(0) == 0 || log.read(2) == 0 {
		t.Fatal("allowed pieces never read")
	}
}

// TestPipeRestrictQueued: blocks queued before the restriction are
// dropped unread, and rejected to a peer with the fast extension.
func TestPipeRestrictQueued(t *testing.T) {
	content, mi := testTorrent(t, 8*BlockSize, 4*BlockSize)
	var log *readLog
	s, _ := pipeSwarm(t, mi, content, true, func(c *Config) {
		log = &readLog{Storage: c.Storage, pl: mi.Info.PieceLength, reads: map[int64]int{}}
		c.Storage = log
	})
	r := dialPipe(t, s, "10.1.0.1:6881", fastExt, mi.Info.NumPieces())
	r.send(peerwire.Message{ID: peerwire.Interested})
	for {
		m, err := r.r.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if m.ID == peerwire.Unchoke {
			break
		}
	}
	// Block 0 of piece 0 is being written (its header read, its bytes
	// not): the writer waits while blocks of piece 1 and 0 queue behind.
	req := func(i, b uint32) peerwire.Message {
		return peerwire.Message{ID: peerwire.Request, Index: i, Begin: b * BlockSize, Length: BlockSize}
	}
	r.send(req(0, 0))
	if _, err := io.ReadFull(r.c, make([]byte, 13)); err != nil {
		t.Fatal(err)
	}
	r.send(req(1, 0), req(1, 1), req(0, 1))
	waitQueued(t, s, 1)
	allowed := bitfield.New(2)
	allowed.Set(0)
	s.RestrictUploads(allowed)
	if _, err := io.ReadFull(r.c, make([]byte, BlockSize)); err != nil {
		t.Fatal(err)
	}
	r.follow()
	var before []peerwire.Message
	r.expect("block 0+1", isBlock(0, BlockSize), &before)
	rejects := 0
	for _, m := range before {
		switch {
		case m.ID == peerwire.Piece:
			t.Fatalf("sent block %d+%d queued before the restriction", m.Index, m.Begin)
		case m.ID == peerwire.Reject && m.Index == 1:
			rejects++
		}
	}
	if rejects != 2 {
		t.Fatalf("%d rejects for the queued blocks of piece 1, want 2", rejects)
	}
	if log.read(1) != 0 {
		t.Fatalf("piece 1 read %d times after its restriction", log.read(1))
	}
	s.UnrestrictUploads()
	r.send(req(1, 0))
	r.expect("block 1+0 once lifted", isBlock(1, 0), nil)
}
