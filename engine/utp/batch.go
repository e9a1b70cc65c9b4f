package utp

import (
	"net/netip"
	"sync"
)

// SegmentWriter is a Transport that can also send several packets to one
// address in one call: b holds them back to back, each size bytes but
// the last, which may be shorter (UDP generic segmentation offload on
// Linux). The kernel then walks its network stack once for the lot
// rather than once per packet, which is most of uTP's CPU when it sends
// fast. A connection whose segmented send fails sends packet by packet
// from then on.
type SegmentWriter interface {
	WriteSegments(b []byte, size int, addr netip.AddrPort) error
}

// maxSegments and maxBatchBytes bound one segmented send (the kernel's
// limits are 64 segments, or 128 on recent ones, and an IP datagram's
// 64 KiB).
const (
	maxSegments   = 64
	maxBatchBytes = 60000
)

// batchPool holds the buffers of batches being gathered: a connection
// holds one only during a flush.
var batchPool = sync.Pool{New: func() any { return new([maxBatchBytes]byte) }}

// sendBatch gathers the packets one flush sends to the peer, so that
// they leave in one segmented send. Only ordinary packets of one size
// (the last may be shorter) gather; any other packet sends the batch
// first, so the order on the wire is the order of the sends.
type sendBatch struct {
	on     bool // a flush is gathering
	broken bool // a segmented send failed: packet by packet from now
	buf    []byte
	start  int // where the last packet added begins
	size   int // every packet's size but the last's
	n      int // packets gathered
	short  bool
}

// add appends the packet of header h and payload to the batch if it fits
// and reports whether it did.
func (b *sendBatch) add(seg SegmentWriter, h Header, payload []byte) bool {
	if !b.on || seg == nil {
		return false
	}
	size := h.Len() + len(payload)
	if b.n > 0 && (b.short || size > b.size || b.n == maxSegments || len(b.buf)+size > maxBatchBytes) {
		return false
	}
	if b.buf == nil {
		b.buf = batchPool.Get().(*[maxBatchBytes]byte)[:0]
	}
	b.start = len(b.buf)
	b.buf = h.Append(b.buf)
	b.buf = append(b.buf, payload...)
	if b.n == 0 {
		b.size = size
	} else if size < b.size {
		b.short = true
	}
	b.n++
	return true
}

// sendBatchLocked sends the packets gathered, if any, and empties the
// batch.
func (c *Conn) sendBatchLocked() {
	b := &c.batch
	if b.n == 0 {
		return
	}
	buf, size, n := b.buf, b.size, b.n
	b.buf, b.n, b.short, b.start = nil, 0, false, 0
	defer batchPool.Put((*[maxBatchBytes]byte)(buf[:maxBatchBytes]))
	if n == 1 {
		c.sendErrLocked(c.s.send(buf, c.remote))
		return
	}
	c.s.stats.packetsOut.Add(uint64(n))
	err := c.s.seg.WriteSegments(buf, size, c.remote)
	if err == nil {
		return
	}
	// The path or the system refuses segments (a packet larger than the
	// device's MTU, a device without checksum offload): send one by one.
	c.s.logf("utp: %v: segmented send of %d packets failed: %v", c, n, err)
	b.broken, b.on = true, false
	c.s.stats.packetsOut.Add(^uint64(n - 1))
	for len(buf) > 0 {
		p := buf[:min(size, len(buf))]
		buf = buf[len(p):]
		err := c.s.send(p, c.remote)
		c.sendErrLocked(err)
		if err != nil && c.state == stateClosed {
			return
		}
	}
}
