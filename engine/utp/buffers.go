package utp

import (
	"sync"
	"time"
)

// chunkSize is the size of the pooled blocks byteQueue stores bytes in.
const chunkSize = 16 << 10

var chunkPool = sync.Pool{New: func() any { return new([chunkSize]byte) }}

// chunk is a pooled block holding bytes [r, w).
type chunk struct {
	buf  *[chunkSize]byte
	r, w int
}

// byteQueue is a FIFO of bytes kept in pooled blocks, so its memory
// follows what it holds: the unsent bytes of a connection, or the
// received bytes the application has not read yet. The zero value is an
// empty queue. Not safe for concurrent use.
type byteQueue struct {
	chunks []chunk
	n      int
}

// Len is the number of bytes queued.
func (q *byteQueue) Len() int { return q.n }

// Mem is the memory the queue holds, in bytes.
func (q *byteQueue) Mem() int { return len(q.chunks) * chunkSize }

// Write appends b.
func (q *byteQueue) Write(b []byte) {
	q.n += len(b)
	for len(b) > 0 {
		if len(q.chunks) == 0 || q.chunks[len(q.chunks)-1].w == chunkSize {
			q.chunks = append(q.chunks, chunk{buf: chunkPool.Get().(*[chunkSize]byte)})
		}
		c := &q.chunks[len(q.chunks)-1]
		n := copy(c.buf[c.w:], b)
		c.w += n
		b = b[n:]
	}
}

// Read moves up to len(p) bytes into p and returns how many.
func (q *byteQueue) Read(p []byte) int {
	done := 0
	for done < len(p) && len(q.chunks) > 0 {
		c := &q.chunks[0]
		n := copy(p[done:], c.buf[c.r:c.w])
		c.r += n
		done += n
		if c.r == c.w {
			q.popFront()
		}
	}
	q.n -= done
	return done
}

// popFront returns the first block to the pool.
func (q *byteQueue) popFront() {
	chunkPool.Put(q.chunks[0].buf)
	q.chunks[0] = chunk{}
	q.chunks = q.chunks[1:]
	if len(q.chunks) == 0 {
		q.chunks = q.chunks[:0:0] // let the backing array go
	}
}

// Reset empties the queue and returns its blocks to the pool.
func (q *byteQueue) Reset() {
	for len(q.chunks) > 0 {
		q.popFront()
	}
	q.n = 0
}

// packetPool holds payload buffers for packets of common sizes.
var packetPool = sync.Pool{New: func() any { return new([maxPooledPayload]byte) }}

// maxPooledPayload is the largest payload stored in a pooled buffer;
// larger ones (from peers with a large MTU) get their own allocation.
const maxPooledPayload = 2048

// payloadBuf returns a buffer of n bytes, pooled when n is small enough.
func payloadBuf(n int) []byte {
	if n <= maxPooledPayload {
		return packetPool.Get().(*[maxPooledPayload]byte)[:n:maxPooledPayload]
	}
	return make([]byte, n)
}

// freePayload returns b to the pool if it came from there.
func freePayload(b []byte) {
	if cap(b) == maxPooledPayload {
		packetPool.Put((*[maxPooledPayload]byte)(b[:maxPooledPayload]))
	}
}

// outPacket is a DATA or FIN packet sent and not yet acknowledged.
type outPacket struct {
	typ        Type
	seq        uint16
	payload    []byte
	size       int // bytes on the wire when last sent, headers included
	sentAt     time.Time
	sends      int  // transmissions so far
	needResend bool // declared lost by a timeout; not counted in flight
	probe      bool // a path MTU probe (sent with don't-fragment)
}

// outPacketPool holds the records of packets no longer in flight.
var outPacketPool = sync.Pool{New: func() any { return new(outPacket) }}

// newOutPacket returns a zero packet record.
func newOutPacket() *outPacket { return outPacketPool.Get().(*outPacket) }

// freeOutPacket returns p and its payload to their pools: p was taken
// out of the ring, and nothing refers to it any more.
func freeOutPacket(p *outPacket) {
	freePayload(p.payload)
	*p = outPacket{}
	outPacketPool.Put(p)
}

// outRing holds the packets in flight, indexed by sequence number. Its
// size is a power of two that grows up to maxOutRing; the range of live
// sequence numbers is always smaller than its size.
type outRing struct {
	slots []*outPacket
	count int
}

// maxOutRing bounds the packets in flight of one connection.
const maxOutRing = 1 << 13

func (r *outRing) at(seq uint16) *outPacket {
	if len(r.slots) == 0 {
		return nil
	}
	return r.slots[int(seq)&(len(r.slots)-1)]
}

// fits reports whether a packet can be stored at seq while the oldest
// unacknowledged one is first.
func (r *outRing) fits(first, seq uint16) bool {
	return seqDiff(seq, first) < maxOutRing
}

// put stores p at seq; first is the oldest sequence number still stored.
// The caller checked fits.
func (r *outRing) put(first, seq uint16, p *outPacket) {
	span := seqDiff(seq, first) + 1
	if span > len(r.slots) {
		size := max(len(r.slots), 64)
		for size < span {
			size *= 2
		}
		old := r.slots
		r.slots = make([]*outPacket, size)
		// Every live sequence number is in [first, first+len(old)).
		for k := range len(old) {
			s := first + uint16(k)
			if p := old[int(s)&(len(old)-1)]; p != nil {
				r.slots[int(s)&(size-1)] = p
			}
		}
	}
	r.slots[int(seq)&(len(r.slots)-1)] = p
	r.count++
}

// remove takes the packet at seq out of the ring and returns it, or nil.
func (r *outRing) remove(seq uint16) *outPacket {
	if len(r.slots) == 0 {
		return nil
	}
	i := int(seq) & (len(r.slots) - 1)
	p := r.slots[i]
	if p != nil {
		r.slots[i] = nil
		r.count--
	}
	return p
}

// reorderBuf holds packets that arrived ahead of a gap, indexed by
// sequence number, at most len(slots) after the last in-order one. Each
// payload is its own allocation, so that memory follows the bytes held.
type reorderBuf struct {
	slots [][]byte // nil where nothing arrived
	count int
	bytes int // payload bytes held
}

func (r *reorderBuf) init(size int) {
	n := 16
	for n < size {
		n *= 2
	}
	r.slots = make([][]byte, n)
}

func (r *reorderBuf) holds(seq uint16) bool {
	return r.count > 0 && r.slots[int(seq)&(len(r.slots)-1)] != nil
}

func (r *reorderBuf) put(seq uint16, payload []byte) {
	r.slots[int(seq)&(len(r.slots)-1)] = append(make([]byte, 0, len(payload)), payload...)
	r.count++
	r.bytes += len(payload)
}

// take removes and returns the payload at seq; ok is false if absent.
func (r *reorderBuf) take(seq uint16) (b []byte, ok bool) {
	if r.count == 0 {
		return nil, false
	}
	i := int(seq) & (len(r.slots) - 1)
	b = r.slots[i]
	if b == nil {
		return nil, false
	}
	r.slots[i] = nil
	r.count--
	r.bytes -= len(b)
	return b, true
}

// reset drops every held payload.
func (r *reorderBuf) reset() {
	if r.count > 0 {
		clear(r.slots)
	}
	r.count, r.bytes = 0, 0
}
