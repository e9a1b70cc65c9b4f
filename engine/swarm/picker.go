package swarm

import (
	"math/rand/v2"
	"slices"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/bitfield"
)

// BlockSize is the size of a request: 16 KiB, as every client uses.
const BlockSize = 16 << 10

// block names one block of one piece.
type block struct {
	piece int
	begin int // byte offset inside the piece
}

// partial is a piece being downloaded: its buffer and the state of each
// block. The swarm's mutex guards it.
type partial struct {
	index    int
	buf      []byte
	size     int      // bytes in this piece
	received []bool   // per block
	inflight []uint8  // outstanding requests per block, over all peers
	from     []peerID // who sent each received block (for banning)
	nRecv    int
	nBlocks  int
	cursor   int  // blocks before it are requested or received
	inOpen   bool // listed in picker.open
}

// blockLen returns the length of block b of this piece.
func (p *partial) blockLen(b int) int {
	if b == p.nBlocks-1 {
		return p.size - b*BlockSize
	}
	return BlockSize
}

// picker decides which blocks to request from whom. It is a pure unit: no
// locks, no I/O, no clock (callers pass the time), and its randomness comes
// from a seed, so tests can drive it through tables. The swarm owns it and
// guards it with its mutex.
type picker struct {
	numPieces   int
	pieceLength int
	totalLength int64

	have    bitfield.Bitfield // verified pieces, whole on disk
	hashing bitfield.Bitfield // complete, being verified and written
	avail   []uint16          // peers (not counting have-all seeds) having each piece
	active  map[int]*partial  // pieces being downloaded
	open    []*partial        // active pieces with blocks not yet requested
	nHave   int               // pieces set in have
	nHash   int               // pieces set in hashing
	// partial holds the verified pieces of which only the bytes of
	// wanted files are on disk (they also hold bytes of skipped files):
	// not needed, but not ours to upload either. Disjoint from have.
	partial  bitfield.Bitfield
	nPartial int
	// prio is each piece's priority (nil: all Normal); need holds the
	// pieces of priority Normal or more that are neither in have nor in
	// partial: what is left to download.
	prio      []Priority
	need      bitfield.Bitfield
	nNeed     int
	nHighLeft int // needed pieces of priority High
	nNeedHash int // needed pieces being verified
	// order lists pieces rarest first (random among equals); it is rebuilt
	// lazily after availability changes.
	order      []int32
	orderDirty bool
	orderBuilt time.Time
	// maxActive bounds the pieces in memory at once (besides the memory
	// budget, which mem enforces).
	maxActive int
	rng       *rand.Rand
	mem       pieceBuffers
	wake      chan<- struct{}
	// starved is set while the last new piece could not start for lack
	// of memory.
	starved bool
	// pad, when set, reports whether the n bytes at offset off of the
	// torrent lie wholly in BEP 47 pad files: zeros no peer is asked for.
	pad func(off, n int64) bool
}

// pieceBuffers hands out piece buffers within a memory budget.
// *PieceMemory is the real one; wake receives a value when memory is given
// back after get returned nil.
type pieceBuffers interface {
	get(size int, wake chan<- struct{}) []byte
	put(b []byte)
}

// maxActivePieces bounds the pieces one torrent downloads at once.
const maxActivePieces = 1024

// newPicker returns a picker for a torrent of numPieces pieces of
// pieceLength bytes (total bytes in all), having the pieces in have, with
// piece buffers from mem (wake is told when mem frees some after a
// refusal) and randomness from seed.
func newPicker(numPieces, pieceLength int, total int64, have bitfield.Bitfield, mem pieceBuffers, wake chan<- struct{}, seed uint64) *picker {
	p := &picker{
		numPieces:   numPieces,
		pieceLength: pieceLength,
		totalLength: total,
		have:        have,
		hashing:     bitfield.New(numPieces),
		avail:       make([]uint16, numPieces),
		active:      make(map[int]*partial),
		orderDirty:  true,
		maxActive:   maxActivePieces,
		nHave:       have.Count(),
		partial:     bitfield.New(numPieces),
		need:        bitfield.New(numPieces),
		rng:         rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		mem:         mem,
		wake:        wake,
	}
	p.recount()
	return p
}

// priority returns piece i's priority.
func (pk *picker) priority(i int) Priority {
	if pk.prio == nil {
		return Normal
	}
	return pk.prio[i]
}

// setPriorities sets each piece's priority (nil: all Normal). Pieces
// being downloaded that are no longer wanted are the caller's to
// abandon.
func (pk *picker) setPriorities(prio []Priority) {
	pk.prio = prio
	pk.recount()
}

// setPartial marks pieces as verified but only partly kept (pieces
// already in have are left alone).
func (pk *picker) setPartial(f bitfield.Bitfield) {
	for i := range min(f.Len(), pk.numPieces) {
		if f.Has(i) && !pk.have.Has(i) && !pk.partial.Has(i) {
			pk.partial.Set(i)
			pk.nPartial++
		}
	}
	pk.recount()
}

// dropPartial forgets that piece i is partly kept, so that it is
// downloaded again if wanted (the bytes it lacks became wanted).
func (pk *picker) dropPartial(i int) {
	if !pk.partial.Has(i) {
		return
	}
	pk.partial.Clear(i)
	pk.nPartial--
	if pk.priority(i) >= Normal && !pk.have.Has(i) && !pk.need.Has(i) {
		pk.need.Set(i)
		pk.nNeed++
		if pk.priority(i) == High {
			pk.nHighLeft++
		}
		if pk.hashing.Has(i) {
			pk.nNeedHash++
		}
	}
}

// recount rebuilds need and its counters from the priorities, have,
// partial and hashing.
func (pk *picker) recount() {
	pk.nNeed, pk.nHighLeft, pk.nNeedHash = 0, 0, 0
	for i := range pk.numPieces {
		pr := pk.priority(i)
		if pr < Normal || pk.have.Has(i) || pk.partial.Has(i) {
			pk.need.Clear(i)
			continue
		}
		pk.need.Set(i)
		pk.nNeed++
		if pr == High {
			pk.nHighLeft++
		}
		if pk.hashing.Has(i) {
			pk.nNeedHash++
		}
	}
}

func (pk *picker) pieceSize(i int) int {
	if i == pk.numPieces-1 {
		return int(pk.totalLength - int64(i)*int64(pk.pieceLength))
	}
	return pk.pieceLength
}

// wanted reports whether piece i is needed and not being verified.
func (pk *picker) wanted(i int) bool { return pk.need.Has(i) && !pk.hashing.Has(i) }

// done reports whether every wanted piece is verified (whole, or partly
// kept when it also holds bytes of skipped files).
func (pk *picker) done() bool { return pk.nNeed == 0 }

// complete reports whether every piece is verified and whole on disk.
func (pk *picker) complete() bool { return pk.nHave == pk.numPieces }

// left returns the bytes of the wanted pieces not yet verified.
func (pk *picker) left() int64 {
	var n int64
	for i := 0; i < pk.numPieces; i++ {
		if pk.need.Has(i) {
			n += int64(pk.pieceSize(i))
		}
	}
	return n
}

// leftAll returns the bytes of the pieces not whole on disk, wanted or
// not: what trackers are told is left.
func (pk *picker) leftAll() int64 {
	var n int64
	for i := 0; i < pk.numPieces; i++ {
		if !pk.have.Has(i) {
			n += int64(pk.pieceSize(i))
		}
	}
	return n
}

// gotHave records that a peer has piece i.
func (pk *picker) gotHave(i int) {
	if pk.avail[i] < 0xffff {
		pk.avail[i]++
	}
	pk.orderDirty = true
}

// lostHave records that a peer having piece i went away.
func (pk *picker) lostHave(i int) {
	if pk.avail[i] > 0 {
		pk.avail[i]--
	}
	pk.orderDirty = true
}

// rebuildOrder sorts pieces rarest first, at most once per second for
// large torrents (sorting millions of pieces on every have would cost more
// than the order is worth).
func (pk *picker) rebuildOrder(now time.Time) {
	if !pk.orderDirty && pk.order != nil {
		return
	}
	if pk.order != nil && pk.numPieces > 1<<14 && now.Sub(pk.orderBuilt) < time.Second {
		return
	}
	if pk.order == nil {
		pk.order = make([]int32, pk.numPieces)
		for i := range pk.order {
			pk.order[i] = int32(i)
		}
	}
	// Shuffle first so that equal availability gives a random order.
	pk.rng.Shuffle(len(pk.order), func(i, j int) { pk.order[i], pk.order[j] = pk.order[j], pk.order[i] })
	slices.SortStableFunc(pk.order, func(a, b int32) int { return int(pk.avail[a]) - int(pk.avail[b]) })
	pk.orderDirty = false
	pk.orderBuilt = now
}

// has reports whether a peer advertising f (or everything, when all is
// set) has piece i.
func peerHas(all bool, f bitfield.Bitfield, i int) bool { return all || f.Has(i) }

// start begins downloading piece i, or returns nil when the memory budget
// has no room for it.
func (pk *picker) start(i int) *partial {
	size := pk.pieceSize(i)
	n := (size + BlockSize - 1) / BlockSize
	buf := pk.mem.get(size, pk.wake)
	pk.starved = buf == nil
	if buf == nil {
		return nil
	}
	p := &partial{
		index: i, buf: buf, size: size, nBlocks: n,
		received: make([]bool, n), inflight: make([]uint8, n), from: make([]peerID, n),
	}
	pk.active[i] = p
	return p
}

// fillPad marks the blocks of a new piece that lie wholly in pad files
// as received zeros, so that nobody is asked for them, and returns the
// first block to request. One block is always left to request (a piece
// of nothing but padding is still fetched once), so that a piece always
// completes through a block that arrives.
func (pk *picker) fillPad(pp *partial) int {
	if pk.pad == nil {
		return 0
	}
	first := -1
	base := int64(pp.index) * int64(pk.pieceLength)
	for b := range pp.nBlocks {
		n := pp.blockLen(b)
		if !pk.pad(base+int64(b*BlockSize), int64(n)) {
			if first < 0 {
				first = b
			}
			continue
		}
		if first < 0 && b == pp.nBlocks-1 {
			first = b // all padding: fetch the last block
			break
		}
		clear(pp.buf[b*BlockSize : b*BlockSize+n])
		pp.received[b] = true
		pp.nRecv++
	}
	return first
}

// release gives a piece's buffer back to the memory budget.
func (pk *picker) release(pp *partial) {
	pk.mem.put(pp.buf)
	pp.buf = nil
}

// dropActive abandons every piece being downloaded (their received blocks
// are lost) and gives their memory back; outstanding requests for them
// are ignored when they come back.
func (pk *picker) dropActive() {
	for i, pp := range pk.active {
		pk.release(pp)
		delete(pk.active, i)
	}
	pk.open = pk.open[:0]
}

// pickNew chooses a piece to start for a peer: pieces of High priority
// first (rarest first among them); else random while we have fewer than
// four pieces (to get something to trade quickly), rarest first after.
// Pieces of skipped files only are never started. It returns -1 when the
// peer has nothing we can start.
func (pk *picker) pickNew(now time.Time, all bool, f bitfield.Bitfield) int {
	if len(pk.active)+pk.nHash >= pk.maxActive || pk.nNeed == 0 {
		return -1
	}
	if pk.nHighLeft > 0 {
		pk.rebuildOrder(now)
		if i := pk.scan(all, f, High); i >= 0 {
			return i
		}
	}
	if pk.nHave+pk.nPartial < 4 {
		// A few random probes, then fall through to the ordered scan.
		for range 16 {
			i := pk.rng.IntN(pk.numPieces)
			if pk.wanted(i) && pk.active[i] == nil && peerHas(all, f, i) {
				return i
			}
		}
	}
	pk.rebuildOrder(now)
	return pk.scan(all, f, Normal)
}

// scan returns the first piece in rarest-first order that is wanted, of
// priority level or more, not started, and that the peer has; -1 if none.
func (pk *picker) scan(all bool, f bitfield.Bitfield, level Priority) int {
	for _, i32 := range pk.order {
		i := int(i32)
		if pk.wanted(i) && pk.active[i] == nil && peerHas(all, f, i) && pk.priority(i) >= level {
			return i
		}
	}
	return -1
}

// interesting reports whether a peer has any piece we still want.
func (pk *picker) interesting(all bool, f bitfield.Bitfield) bool {
	if all {
		return pk.nNeed > 0
	}
	fb, nb := f.Bytes(), pk.need.Bytes()
	for i := range fb {
		if fb[i]&nb[i] != 0 {
			return true
		}
	}
	return false
}

// next returns the next block to request from a peer that has the pieces
// in f (or all of them), never one the peer already has outstanding
// (reqs). Blocks of started pieces come first, then a new piece, then, in
// the end game, duplicates of blocks others have outstanding.
func (pk *picker) next(now time.Time, all bool, f bitfield.Bitfield, reqs map[block]time.Time) (block, bool) {
	for i := 0; i < len(pk.open); {
		pp := pk.open[i]
		if !peerHas(all, f, pp.index) {
			i++
			continue
		}
		for pp.cursor < pp.nBlocks && (pp.received[pp.cursor] || pp.inflight[pp.cursor] > 0) {
			pp.cursor++
		}
		if pp.cursor == pp.nBlocks {
			pk.open = append(pk.open[:i], pk.open[i+1:]...)
			pp.inOpen = false
			continue
		}
		b := pp.cursor
		pp.inflight[b]++
		pp.cursor++
		return block{pp.index, b * BlockSize}, true
	}
	if i := pk.pickNew(now, all, f); i >= 0 {
		pp := pk.start(i)
		if pp == nil {
			return block{}, false
		}
		first := pk.fillPad(pp)
		pp.inflight[first]++
		pp.cursor = first + 1
		if pp.nRecv < pp.nBlocks-1 {
			pp.inOpen = true
			pk.open = append(pk.open, pp)
		}
		return block{i, first * BlockSize}, true
	}
	if !pk.endgame() {
		return block{}, false
	}
	for _, pp := range pk.active {
		if !peerHas(all, f, pp.index) {
			continue
		}
		for b := range pp.nBlocks {
			if pp.received[b] || pp.inflight[b] == 0 || pp.inflight[b] >= 2 {
				continue
			}
			k := block{pp.index, b * BlockSize}
			if _, mine := reqs[k]; mine {
				continue
			}
			pp.inflight[b]++
			return k, true
		}
	}
	return block{}, false
}

// endgame reports whether every needed piece is started or being
// verified, so duplicate requests may finish the tail sooner.
func (pk *picker) endgame() bool {
	busy := pk.nNeedHash
	for i := range pk.active {
		if pk.need.Has(i) {
			busy++
		}
	}
	return pk.nNeed-busy <= 0
}

// unrequest gives back one outstanding request of block b.
func (pk *picker) unrequest(b block) {
	pp := pk.active[b.piece]
	if pp == nil {
		return
	}
	bi := b.begin / BlockSize
	if pp.inflight[bi] > 0 {
		pp.inflight[bi]--
	}
	if pp.received[bi] || pp.inflight[bi] > 0 {
		return
	}
	if bi < pp.cursor {
		pp.cursor = bi
	}
	if !pp.inOpen {
		pp.inOpen = true
		pk.open = append(pk.open, pp)
	}
}

// abandon drops active piece i: its received blocks are lost, its memory
// given back; outstanding requests for it are ignored when they come
// back.
func (pk *picker) abandon(i int) {
	pp := pk.active[i]
	if pp == nil {
		return
	}
	pk.unlistOpen(pp)
	delete(pk.active, i)
	pk.release(pp)
}

// unlistOpen removes pp from open.
func (pk *picker) unlistOpen(pp *partial) {
	if !pp.inOpen {
		return
	}
	for i, q := range pk.open {
		if q == pp {
			pk.open = append(pk.open[:i], pk.open[i+1:]...)
			break
		}
	}
	pp.inOpen = false
}

// finish moves a fully received piece from active to hashing.
func (pk *picker) finish(pp *partial) {
	delete(pk.active, pp.index)
	pk.unlistOpen(pp)
	pk.hashing.Set(pp.index)
	pk.nHash++
	if pk.need.Has(pp.index) {
		pk.nNeedHash++
	}
}

// verified records the outcome of hashing piece i: when ok, the piece
// is had, whole or (whole is false) only the bytes of wanted files.
func (pk *picker) verified(i int, ok, whole bool) {
	pk.hashing.Clear(i)
	pk.nHash--
	needed := pk.need.Has(i)
	if needed {
		pk.nNeedHash--
	}
	if !ok {
		return
	}
	switch {
	case whole && !pk.have.Has(i):
		if pk.partial.Has(i) {
			pk.partial.Clear(i)
			pk.nPartial--
		}
		pk.have.Set(i)
		pk.nHave++
	case !whole && !pk.have.Has(i) && !pk.partial.Has(i):
		pk.partial.Set(i)
		pk.nPartial++
	}
	if needed {
		pk.need.Clear(i)
		pk.nNeed--
		if pk.priority(i) == High {
			pk.nHighLeft--
		}
	}
}
