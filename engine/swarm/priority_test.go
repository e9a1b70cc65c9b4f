package swarm

import (
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/bitfield"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// layoutInfo returns an info of files of the given lengths (a negative
// length: a pad file of that many bytes) in pieces of pl bytes; its
// piece hashes are not meaningful.
func layoutInfo(pl int64, lengths ...int64) *metainfo.Info {
	info := &metainfo.Info{Name: "t", PieceLength: pl, MultiFile: true}
	for i, n := range lengths {
		f := metainfo.File{Path: []string{string(rune('a' + i))}, Length: n, Offset: info.TotalLength}
		if n < 0 {
			f.Length, f.Pad = -n, true
		}
		info.Files = append(info.Files, f)
		info.TotalLength += f.Length
	}
	pieces := (info.TotalLength + pl - 1) / pl
	info.Pieces = make([]byte, 20*pieces)
	return info
}

// TestLayoutOf: each piece takes the highest priority of the files with
// bytes in it; pieces holding bytes of a skipped file are marked;
// pad-only pieces are wanted only when nothing is skipped; pad and empty
// files do not count; a list of the wrong length means all Normal.
func TestLayoutOf(t *testing.T) {
	const S, N, H = Skip, Normal, High
	for _, tc := range []struct {
		name      string
		info      *metainfo.Info
		files     []Priority
		prio      []Priority // nil: all Normal
		skipBytes []int
	}{
		{"all normal", layoutInfo(10, 15, 15), []Priority{N, N}, nil, nil},
		{"nil list", layoutInfo(10, 15, 15), nil, nil, nil},
		{"wrong length", layoutInfo(10, 15, 15), []Priority{S}, nil, nil},
		{
			// pieces: [a0-9] [a10-14 b0-4] [b5-14]
			"boundary shared by a skipped and a wanted file", layoutInfo(10, 15, 15),
			[]Priority{S, N}, []Priority{S, N, N}, []int{0, 1},
		},
		{
			"a high file lifts the shared piece", layoutInfo(10, 15, 15),
			[]Priority{N, H}, []Priority{N, H, H}, nil,
		},
		{
			// pieces: [a0-9] [a10-11 b c0-5] [c6-9 d0-5] [d6-9]
			"a small skipped file inside one piece", layoutInfo(10, 12, 2, 10, 10),
			[]Priority{N, S, S, N}, []Priority{N, N, N, N}, []int{1, 2},
		},
		{
			"everything skipped", layoutInfo(10, 15, 15),
			[]Priority{S, S}, []Priority{S, S, S}, []int{0, 1, 2},
		},
		{
			// pieces: [a0-9] [pad] [b0-9]; the pad's priority is ignored
			"pad-only piece with nothing skipped", layoutInfo(10, 10, -10, 10),
			[]Priority{H, S, N}, []Priority{H, N, N}, nil,
		},
		{
			"pad-only piece with a file skipped", layoutInfo(10, 10, -10, 10),
			[]Priority{S, N, N}, []Priority{S, S, N}, []int{0},
		},
		{
			// pieces: [a0-9] [b0-9]; the empty file sits on the boundary
			"an empty file counts for nothing", layoutInfo(10, 10, 0, 10),
			[]Priority{N, S, N}, nil, nil,
		},
		{
			"out-of-range values are clamped", layoutInfo(10, 10, 10),
			[]Priority{-7, 9}, []Priority{S, H}, []int{0},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lay := layoutOf(tc.info, tc.files)
			if !slices.Equal(lay.prio, tc.prio) {
				t.Errorf("piece priorities %v, want %v", lay.prio, tc.prio)
			}
			var got []int
			for i := range tc.info.NumPieces() {
				if lay.skipBytes.Has(i) {
					got = append(got, i)
				}
			}
			if !slices.Equal(got, tc.skipBytes) {
				t.Errorf("pieces with skipped bytes %v, want %v", got, tc.skipBytes)
			}
			if (lay.skip != nil) != (len(tc.skipBytes) > 0) {
				t.Errorf("skip mask %v with pieces of skipped bytes %v", lay.skip, tc.skipBytes)
			}
		})
	}
}

// TestLostBytes: a piece written without a file's bytes lacks them once
// that file is wanted again, not when another file changes.
func TestLostBytes(t *testing.T) {
	info := layoutInfo(10, 15, 15, 15) // [a] [a b] [b] [b c] [c]
	old := layoutOf(info, []Priority{Skip, Normal, Skip})
	for _, tc := range []struct {
		files []Priority
		piece int
		want  bool
	}{
		{[]Priority{Normal, Normal, Skip}, 1, true},
		{[]Priority{Normal, Normal, Skip}, 3, false},
		{[]Priority{Skip, Skip, Skip}, 1, false},
		{[]Priority{Skip, Normal, High}, 3, true},
		{nil, 1, true},
	} {
		got := lostBytes(info, tc.piece, old, layoutOf(info, tc.files))
		if got != tc.want {
			t.Errorf("files %v, piece %d: lost %v, want %v", tc.files, tc.piece, got, tc.want)
		}
		want := []int(nil)
		for p := range info.NumPieces() {
			if lostBytes(info, p, old, layoutOf(info, tc.files)) {
				want = append(want, p)
			}
		}
		// unskippedPieces lists every piece of a file wanted again,
		// the partly kept ones among them included.
		for _, p := range want {
			if !slices.Contains(unskippedPieces(info, old, layoutOf(info, tc.files)), p) {
				t.Errorf("files %v: piece %d lacks bytes but is not among the unskipped pieces", tc.files, p)
			}
		}
	}
}

// TestPickerPriorities drives the picker with piece priorities: pieces
// of skipped files are never started, High pieces come first, a peer
// with only skipped pieces is not interesting, the end game and
// completion count wanted pieces only, and partly kept pieces are not
// needed until dropped.
func TestPickerPriorities(t *testing.T) {
	now := time.Unix(1000, 0)
	const S, N, H = Skip, Normal, High
	for _, tc := range []struct {
		name  string
		c     pickerCase
		prio  []Priority
		peer  []int // nil: has everything
		steps int
		want  []int // pieces started, in order (-1: nothing)
		// anyOrder: equally rare pieces come in a random order
		anyOrder bool
	}{
		{
			name: "skipped pieces are never started",
			c:    pickerCase{pieces: 4, pieceLen: BlockSize, have: []int{}},
			prio: []Priority{S, N, S, N}, steps: 3, want: []int{1, 3, -1},
		},
		{
			name: "high pieces first, even when common",
			c: pickerCase{pieces: 6, pieceLen: BlockSize, have: []int{0, 1, 2, 3},
				avail: []int{0, 0, 0, 0, 1, 9}},
			prio: []Priority{N, N, N, N, N, H}, steps: 2, want: []int{5, 4},
		},
		{
			name: "high pieces first while we have none",
			c:    pickerCase{pieces: 8, pieceLen: BlockSize},
			prio: []Priority{N, N, N, N, N, N, H, H}, steps: 2, want: []int{6, 7}, anyOrder: true,
		},
		{
			name: "a high piece the peer lacks does not block normal ones",
			c:    pickerCase{pieces: 4, pieceLen: BlockSize, have: []int{0}},
			prio: []Priority{N, H, N, S}, peer: []int{2, 3}, steps: 2, want: []int{2, -1},
		},
		{
			name: "no end game duplicates for skipped pieces",
			c:    pickerCase{pieces: 3, pieceLen: BlockSize, have: []int{0}},
			prio: []Priority{N, N, S}, steps: 3, want: []int{1, -1, -1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pk, _ := tc.c.build(t)
			pk.setPriorities(tc.prio)
			all := tc.peer == nil
			f := peerWith(tc.c.pieces, tc.peer...)
			reqs := map[block]time.Time{}
			var got []int
			for range tc.steps {
				b, ok := pk.next(now, all, f, reqs)
				if !ok {
					got = append(got, -1)
					continue
				}
				reqs[b] = now
				got = append(got, b.piece)
			}
			if tc.anyOrder {
				slices.Sort(got)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("started %v, want %v", got, tc.want)
			}
		})
	}

	t.Run("interest and completion count wanted pieces", func(t *testing.T) {
		pk, _ := pickerCase{pieces: 4, pieceLen: BlockSize, have: []int{1}}.build(t)
		pk.setPriorities([]Priority{S, N, S, N})
		if pk.interesting(false, peerWith(4, 0, 1, 2)) {
			t.Error("a peer with only skipped pieces and one we have is interesting")
		}
		if !pk.interesting(false, peerWith(4, 3)) || !pk.interesting(true, bitfield.Bitfield{}) {
			t.Error("a peer with a wanted piece is not interesting")
		}
		if pk.done() || pk.left() != BlockSize || pk.leftAll() != 3*BlockSize {
			t.Fatalf("done %v, left %d, left in all %d", pk.done(), pk.left(), pk.leftAll())
		}
		b, _ := pk.next(now, true, bitfield.Bitfield{}, map[block]time.Time{})
		pp := pk.active[b.piece]
		pp.received[0], pp.nRecv = true, 1
		pk.finish(pp)
		if pk.endgame() != true {
			t.Error("not in the end game with the only wanted piece being verified")
		}
		pk.verified(3, true, true)
		pk.release(pp)
		if !pk.done() || pk.complete() || pk.interesting(true, bitfield.Bitfield{}) {
			t.Fatalf("done %v complete %v after every wanted piece", pk.done(), pk.complete())
		}
		pk.setPriorities(nil) // everything wanted again
		if pk.done() || pk.nNeed != 2 || !pk.interesting(false, peerWith(4, 0)) {
			t.Fatalf("done %v, %d needed after wanting everything", pk.done(), pk.nNeed)
		}
	})

	t.Run("partly kept pieces", func(t *testing.T) {
		pk, _ := pickerCase{pieces: 3, pieceLen: BlockSize}.build(t)
		pk.setPriorities([]Priority{N, N, S})
		part := bitfield.New(3)
		part.Set(1)
		pk.setPartial(part)
		if pk.need.Has(1) || pk.nNeed != 1 || pk.have.Has(1) {
			t.Fatalf("a partly kept piece: needed %v (%d needed), had %v", pk.need.Has(1), pk.nNeed, pk.have.Has(1))
		}
		b, ok := pk.next(now, true, bitfield.Bitfield{}, map[block]time.Time{})
		if !ok || b.piece != 0 {
			t.Fatalf("started %v %v, want piece 0", b, ok)
		}
		pp := pk.active[0]
		pk.finish(pp)
		pk.verified(0, true, false) // written without a skipped file's bytes
		pk.release(pp)
		if !pk.partial.Has(0) || pk.have.Has(0) || !pk.done() || pk.nPartial != 2 {
			t.Fatalf("after a partial write: partial %v have %v done %v", pk.partial.Has(0), pk.have.Has(0), pk.done())
		}
		pk.dropPartial(0)
		if pk.partial.Has(0) || !pk.need.Has(0) || pk.done() {
			t.Fatalf("after dropping: partial %v needed %v done %v", pk.partial.Has(0), pk.need.Has(0), pk.done())
		}
		pk.verified(0, false, false) // not hashing: counters must not move
		if pk.nNeed != 1 {
			t.Fatalf("%d needed", pk.nNeed)
		}
	})
}

// multiTorrent returns random content of files of the given lengths and
// its info, in pieces of pl bytes.
func multiTorrent(t *testing.T, pl int64, lengths ...int64) ([]byte, *metainfo.MetaInfo) {
	t.Helper()
	info := layoutInfo(pl, lengths...)
	content := make([]byte, info.TotalLength)
	rand.Read(content)
	info.Pieces = info.Pieces[:0]
	for off := int64(0); off < info.TotalLength; off += pl {
		h := sha1.Sum(content[off:min(off+pl, info.TotalLength)])
		info.Pieces = append(info.Pieces, h[:]...)
	}
	mi, err := metainfo.New(info)
	if err != nil {
		t.Fatal(err)
	}
	return content, mi
}

// TestSwarmFilePriorities: a leecher that skips the middle file of three
// downloads only the pieces of the others; the pieces shared with the
// skipped file are verified whole and kept without its bytes, and are not
// advertised. Wanting the file again fetches the rest, shared pieces
// included, and the torrent ends whole.
func TestSwarmFilePriorities(t *testing.T) {
	const pl = 32 << 10
	// Files cross piece boundaries: a ends inside piece 3, b inside 9.
	content, mi := multiTorrent(t, pl, 100_000, 200_000, 150_000)
	info := &mi.Info
	seed := startNode(t, mi, content, true, false, func(c *Config) { c.UpLimit = nil })
	var mu sync.Mutex
	var told []Pieces
	files := []Priority{Normal, Skip, High}
	l := startNode(t, mi, content, false, false, func(c *Config) {
		c.Files = files
		c.OnHave = func(p Pieces) {
			mu.Lock()
			told = append(told, p)
			mu.Unlock()
		}
	})
	l.store.mu.Lock()
	l.store.files = info.Files
	l.store.mu.Unlock()
	l.sw.AddPeers([]netip.AddrPort{seed.addr}, SourceManual)
	waitFor(t, 20*time.Second, "the wanted files", l.sw.Complete)

	lay := layoutOf(info, files)
	st := l.sw.Stats()
	if st.Seed {
		t.Fatal("a torrent with a skipped file counts as a seed")
	}
	have, _ := bitfield.FromBytes(st.Have, info.NumPieces())
	part, _ := bitfield.FromBytes(st.Partial, info.NumPieces())
	for i := range info.NumPieces() {
		switch {
		case lay.prio[i] == Skip && (have.Has(i) || part.Has(i)):
			t.Errorf("piece %d of the skipped file only was downloaded", i)
		case lay.prio[i] != Skip && lay.skipBytes.Has(i) && (!part.Has(i) || have.Has(i)):
			t.Errorf("shared piece %d: partial %v, have %v; want partial", i, part.Has(i), have.Has(i))
		case lay.prio[i] != Skip && !lay.skipBytes.Has(i) && !have.Has(i):
			t.Errorf("piece %d of the wanted files is missing", i)
		}
	}
	a, b, c := info.Files[0], info.Files[1], info.Files[2]
	l.store.mu.Lock()
	got := bytes.Clone(l.store.data)
	l.store.mu.Unlock()
	if !bytes.Equal(got[:a.Length], content[:a.Length]) || !bytes.Equal(got[c.Offset:], content[c.Offset:]) {
		t.Fatal("the wanted files differ")
	}
	if !bytes.Equal(got[b.Offset:b.Offset+b.Length], make([]byte, b.Length)) {
		t.Fatal("bytes of the skipped file were written")
	}
	// A second leecher that knows only l sees the whole pieces only.
	l2 := startNode(t, mi, content, false, false)
	l2.sw.AddPeers([]netip.AddrPort{l.addr}, SourceManual)
	want := float64(have.Count()) / float64(info.NumPieces())
	waitFor(t, 10*time.Second, "a connection to the partial seed", func() bool {
		ps := l2.sw.Stats().PeerList
		return len(ps) == 1 && ps[0].Progress == want
	})
	mu.Lock()
	last := told[len(told)-1]
	mu.Unlock()
	if !last.Done || last.Complete || last.Skip == nil || !last.Skip[1] {
		t.Fatalf("OnHave last told done %v complete %v skip %v", last.Done, last.Complete, last.Skip)
	}

	l.sw.SetFilePriorities(nil)
	if l.sw.Complete() {
		t.Fatal("complete right after wanting the skipped file")
	}
	waitFor(t, 20*time.Second, "the whole torrent", l.sw.Complete)
	l.store.mu.Lock()
	defer l.store.mu.Unlock()
	if !bytes.Equal(l.store.data, content) || !l.sw.Stats().Seed {
		t.Fatalf("after wanting every file: data equal %v, seed %v", bytes.Equal(l.store.data, content), l.sw.Stats().Seed)
	}
}

// waitFor polls cond every 20 ms until it holds, failing t after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v", what, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
