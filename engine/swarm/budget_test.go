package swarm

import (
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/peerwire"
)

// TestSendQueueBudgets: messages, blocks and metadata pieces each stop at
// their budget; the writer takes bounded batches and the budget comes
// back only once a batch is sent.
func TestSendQueueBudgets(t *testing.T) {
	q := newSendQueue(0)
	have := peerwire.Message{ID: peerwire.Have, Index: 1}
	n := 0
	for q.message(have) {
		n++
	}
	if want := maxQueuedMessages / 9; n != want {
		t.Fatalf("%d haves queued, want %d (the message budget)", n, want)
	}
	ups := 0
	for q.upload(uploadReq{0, uint32(ups * BlockSize), BlockSize}) {
		ups++
	}
	if want := maxQueuedData / (13 + BlockSize); ups != want {
		t.Fatalf("%d blocks queued, want %d (the data budget)", ups, want)
	}
	if q.metadata(newMetaReq(1, 0, make([]byte, 20000))) {
		t.Fatal("a metadata piece was queued past the data budget")
	}

	var b batch
	q.take(&b, nil)
	if len(b.msgs) != n*9 {
		t.Fatalf("took %d message bytes, want all %d", len(b.msgs), n*9)
	}
	if size := b.dataBytes; size > writeBatch || len(b.uploads) == 0 {
		t.Fatalf("took %d blocks, %d bytes: want a batch of at most %d", len(b.uploads), size, writeBatch)
	}
	if q.message(have) {
		t.Fatal("the message budget came back before the batch was sent")
	}
	q.sent(&b)
	if !q.message(have) || !q.upload(uploadReq{1, 0, BlockSize}) {
		t.Fatal("the budget did not come back after the batch was sent")
	}
	q.cancelUpload(1, 0, BlockSize)
	dropped := q.dropUploads()
	if len(dropped) != ups-len(b.uploads) {
		t.Fatalf("dropped %d blocks, want %d (the cancelled one gone)", len(dropped), ups-len(b.uploads))
	}
	if msgs, data := q.queued(); msgs != 9 || data != 0 {
		t.Fatalf("after dropping: %d message bytes, %d data bytes queued", msgs, data)
	}

	// A bitfield is allowed on top of the message budget.
	q2 := newSendQueue(8 * maxQueuedMessages)
	if !q2.message(peerwire.Message{ID: peerwire.Bitfield, Bitfield: make([]byte, maxQueuedMessages)}) {
		t.Fatal("a large bitfield was refused")
	}
}

// TestMetaReqWireLen: a queued metadata piece counts exactly the bytes it
// becomes on the wire.
func TestMetaReqWireLen(t *testing.T) {
	info := []byte(strings.Repeat("x", 40000))
	for piece := range 3 {
		m := newMetaReq(3, piece, info)
		if got := peerwire.EncodedLen(m.message()); got != m.wireLen() {
			t.Fatalf("piece %d: counted %d bytes, sends %d", piece, m.wireLen(), got)
		}
	}
}

// TestPieceMemory: the budget is never exceeded, buffers are reused, and
// a refused swarm is woken when memory is given back.
func TestPieceMemory(t *testing.T) {
	m := NewPieceMemory(3 << 20)
	wake := make(chan struct{}, 1)
	var bufs [][]byte
	for {
		b := m.get(1<<20, wake)
		if b == nil {
			break
		}
		bufs = append(bufs, b)
	}
	if len(bufs) != 3 || m.InUse() != 3<<20 {
		t.Fatalf("%d buffers, %d bytes in use; want 3 of 1 MiB", len(bufs), m.InUse())
	}
	select {
	case <-wake:
		t.Fatal("woken before anything was given back")
	default:
	}
	m.put(bufs[0])
	select {
	case <-wake:
	default:
		t.Fatal("a refused swarm was not woken when memory came back")
	}
	again := m.get(1<<20, nil)
	if again == nil || &again[:1][0] != &bufs[0][:1][0] {
		t.Fatal("a given-back buffer was not reused")
	}
	// A smaller piece may not make the budget leak: kept buffers of
	// other sizes are dropped to make room.
	m.put(again)
	m.put(bufs[1])
	small := m.get(100<<10, nil)
	if small == nil || m.InUse() != 1<<20+100<<10 {
		t.Fatalf("small buffer %v, in use %d", small != nil, m.InUse())
	}
}

// TestHashPoolBounded: however many pieces are queued, at most the pool's
// workers run at once, every job runs, and no worker is left once the
// queue is empty.
func TestHashPoolBounded(t *testing.T) {
	pool := NewHashPool(2)
	var mu sync.Mutex
	running, most := 0, 0
	gate := make(chan struct{})
	var jobs sync.WaitGroup
	for range 20 {
		jobs.Add(1)
		pool.submit(hashJob{run: func() {
			defer jobs.Done()
			mu.Lock()
			running++
			most = max(most, running)
			mu.Unlock()
			<-gate
			mu.Lock()
			running--
			mu.Unlock()
		}})
	}
	if n := pool.Running(); n != 2 {
		t.Fatalf("%d workers for 20 queued pieces, want 2", n)
	}
	close(gate)
	jobs.Wait()
	if most > 2 {
		t.Fatalf("%d pieces verified at once by a pool of 2", most)
	}
	deadline := time.Now().Add(5 * time.Second)
	for pool.Running() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d workers still running with nothing queued", pool.Running())
		}
		time.Sleep(time.Millisecond)
	}
}

// TestConnLimitPerAddress: the process-wide limit counts per address and
// in total, and bounds handshakes in progress per address.
func TestConnLimitPerAddress(t *testing.T) {
	l := NewConnLimit(5)
	l.SetMaxPerIP(2)
	a, b := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	if l.acquire(a) != admitted || l.acquire(a) != admitted {
		t.Fatal("two connections from one address refused")
	}
	if l.acquire(a) != admitAddrFull {
		t.Fatal("a third connection from one address admitted")
	}
	for range 3 {
		if l.acquire(b) == admitted {
			continue
		}
	}
	l.release(a)
	if l.InUse() != 3 || len(l.perIP) != 2 {
		t.Fatalf("%d in use, %d addresses counted", l.InUse(), len(l.perIP))
	}
	l.release(a)
	l.release(b)
	l.release(b)
	if l.InUse() != 0 || len(l.perIP) != 0 {
		t.Fatalf("after releasing all: %d in use, %d addresses remembered", l.InUse(), len(l.perIP))
	}
	n := 0
	for l.BeginHandshake(a) {
		n++
	}
	if n != DefaultMaxHandshakesPerIP {
		t.Fatalf("%d handshakes from one address, want %d", n, DefaultMaxHandshakesPerIP)
	}
	for range n {
		l.EndHandshake(a)
	}
	if len(l.handshakesFor) != 0 {
		t.Fatal("handshake counts kept after they ended")
	}
}

// TestMetadataBudget: metadata pieces stop at their own budget, well
// within the data budget, and it comes back once a batch is sent.
func TestMetadataBudget(t *testing.T) {
	q := newSendQueue(0)
	m := newMetaReq(1, 0, make([]byte, 2600)) // a small info dictionary's only piece
	n := 0
	for q.metadata(m) {
		n++
	}
	if want := maxQueuedMetadata / m.wireLen(); n != want {
		t.Fatalf("%d metadata pieces queued, want %d (the metadata budget)", n, want)
	}
	if _, data := q.queued(); data > maxQueuedMetadata {
		t.Fatalf("%d data bytes queued past the metadata budget %d", data, maxQueuedMetadata)
	}
	if !q.upload(uploadReq{0, 0, BlockSize}) {
		t.Fatal("a block was refused with only metadata queued")
	}
	var b batch
	q.take(&b, nil)
	q.sent(&b)
	if !q.metadata(m) {
		t.Fatal("the metadata budget did not come back after a batch was sent")
	}
}
