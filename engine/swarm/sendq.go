package swarm

import (
	"errors"
	"sync"

	"github.com/swarmdrop/swarmdrop/engine/peerwire"
)

// What one peer can make us hold for it (the README's Limits section
// states them):
const (
	// maxQueuedMessages bounds the encoded messages queued for one peer,
	// or being written to it: haves, requests, rejects, PEX and other
	// extension messages (besides one bitfield, which is allowed on top).
	maxQueuedMessages = 128 << 10
	// maxQueuedData bounds the blocks and metadata pieces one peer has
	// asked for and not yet received, counted at their size on the wire.
	// They are not held in memory: blocks are read from storage and
	// metadata pieces cut from the info dictionary only when sent,
	// writeBatch bytes at a time. It holds maxUploadQueue full blocks.
	maxQueuedData = 32 << 20
	// maxQueuedMetadata bounds, within maxQueuedData, the metadata pieces
	// one peer has asked for and not yet received (64 full pieces; a
	// downloader asks for a few at a time), so that a flood of requests
	// for a small info dictionary's one piece ends the connection well
	// before maxQueuedData, and its queue of references stays small.
	maxQueuedMetadata = 1 << 20
	// writeBatch bounds the blocks and metadata pieces read for one write.
	writeBatch = 128 << 10
)

// errSendBudget ends a connection whose peer keeps asking while it does
// not read what it asked for.
var errSendBudget = errors.New("peer exceeded its send budget (asking faster than it reads)")

// sendQueue is one peer's outgoing queue, shared by whoever queues (under
// Swarm.mu) and the peer's writer. Messages are encoded when queued, so
// what they cost is exactly their bytes; blocks and metadata pieces are
// kept as references until written. Every kind counts against a budget
// until its write completes, and queueing past a budget fails, which
// closes the connection.
type sendQueue struct {
	mu        sync.Mutex // guards every field but wake
	out       []byte     // encoded messages, in order
	msgBytes  int        // bytes of messages queued or being written
	msgLimit  int
	uploads   []uploadReq // blocks the peer asked for, oldest first
	metas     []metaReq   // metadata pieces the peer asked for
	dataBytes int         // wire bytes of uploads and metas queued or being written
	metaBytes int         // of which metas
	wake      chan struct{}
}

// uploadReq is a block a peer asked for.
type uploadReq struct {
	index, begin, length uint32
}

// metaReq is a metadata piece a peer asked for: data is a slice of the
// info dictionary (never modified), sent with the peer's ut_metadata id.
type metaReq struct {
	extID uint8
	piece int
	total int
	data  []byte
	n     int // bytes on the wire
}

func newMetaReq(extID uint8, piece int, info []byte) metaReq {
	start := piece * peerwire.MetadataPieceSize
	m := metaReq{extID: extID, piece: piece, total: len(info),
		data: info[start:min(start+peerwire.MetadataPieceSize, len(info))]}
	head := peerwire.MetadataMsg{Type: peerwire.MetadataData, Piece: piece, TotalSize: len(info)}
	m.n = peerwire.EncodedLen(peerwire.Message{ID: peerwire.Extended, ExtPayload: head.Encode()}) + len(m.data)
	return m
}

func (m metaReq) message() peerwire.Message {
	mm := peerwire.MetadataMsg{Type: peerwire.MetadataData, Piece: m.piece, TotalSize: m.total, Data: m.data}
	return peerwire.Message{ID: peerwire.Extended, ExtID: m.extID, ExtPayload: mm.Encode()}
}

// wireLen returns the bytes of the message on the wire.
func (m metaReq) wireLen() int { return m.n }

func newSendQueue(numPieces int) sendQueue {
	return sendQueue{msgLimit: maxQueuedMessages + (numPieces+7)/8, wake: make(chan struct{}, 1)}
}

// allow raises the message budget by n bytes (for a burst we send
// ourselves, such as the haves that follow a magnet's metadata).
func (q *sendQueue) allow(n int) {
	q.mu.Lock()
	q.msgLimit += n
	q.mu.Unlock()
}

// message queues ms; it reports false, queueing none of them, when that
// would pass the message budget.
func (q *sendQueue) message(ms ...peerwire.Message) bool {
	n := 0
	for _, m := range ms {
		n += peerwire.EncodedLen(m)
	}
	q.mu.Lock()
	if q.msgBytes+n > q.msgLimit {
		q.mu.Unlock()
		return false
	}
	for _, m := range ms {
		q.out = peerwire.AppendMessage(q.out, m)
	}
	q.msgBytes += n
	q.mu.Unlock()
	q.kick()
	return true
}

// keepAlive queues a keep-alive outside the budget (four bytes, at most
// one per interval).
func (q *sendQueue) keepAlive() {
	q.mu.Lock()
	q.out = peerwire.AppendMessage(q.out, peerwire.Message{Keepalive: true})
	q.msgBytes += 4
	q.mu.Unlock()
}

// upload queues a requested block; false when past the data budget.
func (q *sendQueue) upload(u uploadReq) bool {
	q.mu.Lock()
	n := 13 + int(u.length)
	if q.dataBytes+n > maxQueuedData {
		q.mu.Unlock()
		return false
	}
	q.uploads = append(q.uploads, u)
	q.dataBytes += n
	q.mu.Unlock()
	q.kick()
	return true
}

// metadata queues a metadata piece; false when past the data budget.
func (q *sendQueue) metadata(m metaReq) bool {
	n := m.wireLen()
	q.mu.Lock()
	if q.dataBytes+n > maxQueuedData || q.metaBytes+n > maxQueuedMetadata {
		q.mu.Unlock()
		return false
	}
	q.metas = append(q.metas, m)
	q.dataBytes += n
	q.metaBytes += n
	q.mu.Unlock()
	q.kick()
	return true
}

// cancelUpload removes a queued block the peer no longer wants.
func (q *sendQueue) cancelUpload(index, begin, length uint32) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, u := range q.uploads {
		if u.index == index && u.begin == begin && u.length == length {
			q.uploads = append(q.uploads[:i], q.uploads[i+1:]...)
			q.dataBytes -= 13 + int(u.length)
			return
		}
	}
}

// dropUploads removes every queued block and returns them (a choke).
func (q *sendQueue) dropUploads() []uploadReq {
	q.mu.Lock()
	defer q.mu.Unlock()
	ups := q.uploads
	for _, u := range ups {
		q.dataBytes -= 13 + int(u.length)
	}
	q.uploads = nil
	return ups
}

// batch is what the writer takes for one write.
type batch struct {
	msgs      []byte
	uploads   []uploadReq
	metas     []metaReq
	dataBytes int
}

func (b *batch) empty() bool { return len(b.msgs) == 0 && len(b.uploads) == 0 && len(b.metas) == 0 }

// take moves the queued messages (swapping in spare as the new, empty
// queue buffer) and up to writeBatch bytes of blocks and metadata pieces
// (at least one when any is queued) into b. They still count against
// the budgets until sent is called.
func (q *sendQueue) take(b *batch, spare []byte) {
	q.mu.Lock()
	defer q.mu.Unlock()
	b.msgs, q.out = q.out, spare[:0]
	b.uploads, b.metas, b.dataBytes = b.uploads[:0], b.metas[:0], 0
	n := 0
	for len(q.uploads) > 0 && (n == 0 || n+13+int(q.uploads[0].length) <= writeBatch) {
		u := q.uploads[0]
		q.uploads = q.uploads[1:]
		b.uploads = append(b.uploads, u)
		n += 13 + int(u.length)
	}
	if len(q.uploads) == 0 {
		q.uploads = nil
	}
	for len(q.metas) > 0 && (n == 0 || n+q.metas[0].wireLen() <= writeBatch) {
		m := q.metas[0]
		q.metas[0] = metaReq{}
		q.metas = q.metas[1:]
		b.metas = append(b.metas, m)
		n += m.wireLen()
	}
	if len(q.metas) == 0 {
		q.metas = nil
	}
	b.dataBytes = n
}

// sent gives back the budget of a batch once it is written.
func (q *sendQueue) sent(b *batch) {
	q.mu.Lock()
	q.msgBytes -= len(b.msgs)
	q.dataBytes -= b.dataBytes
	for _, m := range b.metas {
		q.metaBytes -= m.wireLen()
	}
	q.mu.Unlock()
}

// queued returns the bytes counted against the message and data budgets.
func (q *sendQueue) queued() (msgs, data int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.msgBytes, q.dataBytes
}

func (q *sendQueue) kick() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}
