package swarm

import (
	"slices"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/bitfield"
)

// countingBuffers is a pieceBuffers with a budget of limit bytes that
// counts what is out (the picker's tests need no shared PieceMemory).
type countingBuffers struct{ limit, used int }

func (c *countingBuffers) get(size int, _ chan<- struct{}) []byte {
	if c.used+size > c.limit {
		return nil
	}
	c.used += size
	return make([]byte, size)
}

func (c *countingBuffers) put(b []byte) { c.used -= cap(b) }

// pickerCase describes a torrent state; the picker is built from it.
type pickerCase struct {
	pieces, pieceLen int
	have             []int // verified pieces
	avail            []int // other peers having each piece (len pieces)
	memory           int   // budget in bytes (0: plenty)
}

func (c pickerCase) build(t *testing.T) (*picker, *countingBuffers) {
	t.Helper()
	have := bitfield.New(c.pieces)
	for _, i := range c.have {
		have.Set(i)
	}
	mem := &countingBuffers{limit: c.memory}
	if mem.limit == 0 {
		mem.limit = 1 << 30
	}
	pk := newPicker(c.pieces, c.pieceLen, int64(c.pieces*c.pieceLen), have, mem, nil, 42)
	for i, n := range c.avail {
		for range n {
			pk.gotHave(i)
		}
	}
	return pk, mem
}

// peerWith returns a peer bitfield of n pieces with the given ones set.
func peerWith(n int, pieces ...int) bitfield.Bitfield {
	f := bitfield.New(n)
	for _, i := range pieces {
		f.Set(i)
	}
	return f
}

// TestPickerNext drives the picker through tables of torrent states and
// checks each answer against what the rules say it must be.
func TestPickerNext(t *testing.T) {
	now := time.Unix(1000, 0)
	cases := []struct {
		name  string
		c     pickerCase
		peer  []int // pieces the peer has (nil with all)
		all   bool
		steps int // calls to next
		check func(t *testing.T, pk *picker, got []block, ok []bool)
	}{
		{
			name: "blocks of a started piece come before a new piece",
			c:    pickerCase{pieces: 8, pieceLen: 4 * BlockSize, have: []int{0, 1, 2, 3}},
			all:  true, steps: 4,
			check: func(t *testing.T, pk *picker, got []block, ok []bool) {
				for i, b := range got {
					if !ok[i] || b.piece != got[0].piece || b.begin != i*BlockSize {
						t.Fatalf("step %d: %v (first %v); want the blocks of one piece in order", i, b, got[0])
					}
				}
			},
		},
		{
			name: "rarest first once we have four pieces",
			c: pickerCase{pieces: 6, pieceLen: BlockSize, have: []int{0, 1, 2, 3},
				avail: []int{0, 0, 0, 0, 5, 1}},
			all: true, steps: 2,
			check: func(t *testing.T, pk *picker, got []block, ok []bool) {
				if !ok[0] || got[0].piece != 5 || !ok[1] || got[1].piece != 4 {
					t.Fatalf("got %v; want piece 5 (1 peer has it) before piece 4 (5 peers)", got)
				}
			},
		},
		{
			name: "only pieces the peer has",
			c:    pickerCase{pieces: 10, pieceLen: BlockSize},
			peer: []int{7}, steps: 2,
			check: func(t *testing.T, pk *picker, got []block, ok []bool) {
				if !ok[0] || got[0].piece != 7 {
					t.Fatalf("first: %v %v; want piece 7, the only one the peer has", got[0], ok[0])
				}
				if ok[1] {
					t.Fatalf("second: %v; want nothing more (no end game with 9 pieces unstarted)", got[1])
				}
			},
		},
		{
			name: "end game: a duplicate of a block another peer has outstanding",
			c:    pickerCase{pieces: 2, pieceLen: BlockSize, have: []int{0}},
			all:  true, steps: 3,
			check: func(t *testing.T, pk *picker, got []block, ok []bool) {
				// Step 0 starts piece 1; the same peer may not get it
				// twice (its own request is in reqs below), so steps 1
				// and 2 come from the end game only for others.
				if !ok[0] || got[0] != (block{1, 0}) {
					t.Fatalf("first: %v; want block 1/0", got[0])
				}
				other, ok2 := pk.next(now, true, bitfield.Bitfield{}, map[block]time.Time{})
				if !ok2 || other != (block{1, 0}) || pk.active[1].inflight[0] != 2 {
					t.Fatalf("another peer: %v %v inflight %d; want a duplicate of 1/0 in the end game", other, ok2, pk.active[1].inflight[0])
				}
				if third, ok3 := pk.next(now, true, bitfield.Bitfield{}, map[block]time.Time{}); ok3 {
					t.Fatalf("a third request for %v; at most two copies of a block", third)
				}
			},
		},
		{
			name: "memory budget: no new piece without a buffer",
			c:    pickerCase{pieces: 8, pieceLen: 2 * BlockSize, have: []int{0, 1, 2, 3}, memory: 2 * BlockSize},
			all:  true, steps: 3,
			check: func(t *testing.T, pk *picker, got []block, ok []bool) {
				if !ok[0] || !ok[1] || got[0].piece != got[1].piece {
					t.Fatalf("first two: %v %v; want both blocks of one piece", got, ok)
				}
				if ok[2] || !pk.starved {
					t.Fatalf("third: %v %v starved %v; want nothing (budget of one piece) and starved set", got[2], ok[2], pk.starved)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pk, _ := tc.c.build(t)
			f := bitfield.Bitfield{}
			if !tc.all {
				f = peerWith(tc.c.pieces, tc.peer...)
			}
			reqs := map[block]time.Time{}
			var got []block
			var oks []bool
			for range tc.steps {
				b, ok := pk.next(now, tc.all, f, reqs)
				if ok {
					reqs[b] = now
				}
				got, oks = append(got, b), append(oks, ok)
			}
			tc.check(t, pk, got, oks)
		})
	}
}

// TestPickerLifecycle: a piece's blocks are requested, one is given back
// (reject or timeout) and requested again, the piece completes, is
// verified, and its memory returns to the budget; a failed piece is
// downloaded again.
func TestPickerLifecycle(t *testing.T) {
	now := time.Unix(1000, 0)
	pk, mem := pickerCase{pieces: 1, pieceLen: 3 * BlockSize, memory: 3 * BlockSize}.build(t)
	reqs := map[block]time.Time{}
	var bs []block
	for range 3 {
		b, ok := pk.next(now, true, bitfield.Bitfield{}, reqs)
		if !ok {
			t.Fatalf("only %d blocks handed out of 3", len(bs))
		}
		reqs[b] = now
		bs = append(bs, b)
	}
	if mem.used != 3*BlockSize {
		t.Fatalf("%d bytes in use, want one piece", mem.used)
	}
	pk.unrequest(bs[1])
	delete(reqs, bs[1])
	b, ok := pk.next(now, true, bitfield.Bitfield{}, reqs)
	if !ok || b != bs[1] {
		t.Fatalf("after giving back %v: next is %v %v", bs[1], b, ok)
	}
	pp := pk.active[0]
	for i := range pp.nBlocks {
		pp.received[i] = true
		pp.inflight[i] = 0
	}
	pp.nRecv = pp.nBlocks
	pk.finish(pp)
	if !pk.hashing.Has(0) || pk.active[0] != nil {
		t.Fatal("a finished piece is not being verified")
	}
	pk.verified(0, false, false) // failed: wanted again
	pk.release(pp)
	if mem.used != 0 || !pk.wanted(0) {
		t.Fatalf("after a failed hash: %d bytes in use, wanted %v", mem.used, pk.wanted(0))
	}
	if b, ok := pk.next(now, true, bitfield.Bitfield{}, map[block]time.Time{}); !ok || b.piece != 0 {
		t.Fatalf("a failed piece is not requested again: %v %v", b, ok)
	}
	pp = pk.active[0]
	pk.finish(pp)
	pk.verified(0, true, true)
	pk.release(pp)
	if !pk.complete() || pk.left() != 0 || mem.used != 0 {
		t.Fatalf("complete %v, left %d, memory %d", pk.complete(), pk.left(), mem.used)
	}
}

// TestPickerInteresting: a peer is interesting when it has a piece we
// lack.
func TestPickerInteresting(t *testing.T) {
	for _, tc := range []struct {
		have, peer []int
		all, want  bool
	}{
		{have: nil, peer: nil, want: false},
		{have: nil, peer: []int{3}, want: true},
		{have: []int{3}, peer: []int{3}, want: false},
		{have: []int{0, 1, 2, 3, 4, 5, 6, 7, 8}, all: true, want: true},
		{have: []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, all: true, want: false},
	} {
		pk, _ := pickerCase{pieces: 10, pieceLen: BlockSize, have: tc.have}.build(t)
		if got := pk.interesting(tc.all, peerWith(10, tc.peer...)); got != tc.want {
			t.Errorf("have %v, peer %v (all %v): interesting %v, want %v", tc.have, tc.peer, tc.all, got, tc.want)
		}
	}
}

// TestPickerOrderThrottle: the rarest-first order of a very large torrent
// is rebuilt at most once a second of the time passed in.
func TestPickerOrderThrottle(t *testing.T) {
	pk, _ := pickerCase{pieces: 1<<14 + 1, pieceLen: BlockSize}.build(t)
	t0 := time.Unix(1000, 0)
	pk.rebuildOrder(t0)
	pk.gotHave(5)
	pk.rebuildOrder(t0.Add(500 * time.Millisecond))
	if !pk.orderDirty {
		t.Fatal("order rebuilt within a second")
	}
	pk.rebuildOrder(t0.Add(1500 * time.Millisecond))
	if pk.orderDirty {
		t.Fatal("order not rebuilt after a second")
	}
}

// TestPickerSkipsPad: blocks wholly inside pad files are never requested
// (they are zeros, marked received when the piece starts); a block that
// mixes padding and data is; a piece of nothing but padding still asks
// for one block, so that it completes through an arriving block.
func TestPickerSkipsPad(t *testing.T) {
	now := time.Unix(1000, 0)
	const pieceLen = 4 * BlockSize
	// Piece 0: data in block 0 and half of block 1, padding after.
	// Piece 1: all padding.
	pad := func(off, n int64) bool {
		return off >= BlockSize+BlockSize/2 && off+n <= 2*pieceLen
	}
	for _, tc := range []struct {
		piece int
		want  []int // blocks requested, in order
	}{
		{0, []int{0, 1}},
		{1, []int{3}},
	} {
		c := pickerCase{pieces: 2, pieceLen: pieceLen, have: []int{1 - tc.piece}}
		pk, _ := c.build(t)
		pk.pad = pad
		reqs := map[block]time.Time{}
		var got []int
		for range 8 {
			b, ok := pk.next(now, true, bitfield.Bitfield{}, reqs)
			if !ok {
				break
			}
			reqs[b] = now
			got = append(got, b.begin/BlockSize)
		}
		if !slices.Equal(got, tc.want) {
			t.Fatalf("piece %d: requested blocks %v, want %v", tc.piece, got, tc.want)
		}
		pp := pk.active[tc.piece]
		if pp == nil || pp.nRecv != pp.nBlocks-len(tc.want) {
			t.Fatalf("piece %d: %v received before any block arrived", tc.piece, pp)
		}
	}
}
