package swarm

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/peerwire"
)

// writeBufs holds the buffers blocks and metadata pieces are read into for
// one write; a peer holds one only while it writes, so idle connections
// cost none.
var writeBufs = sync.Pool{New: func() any {
	b := make([]byte, 0, writeBatch+BlockSize+1024)
	return &b
}}

// maxSpare is the largest message buffer a writer keeps between writes.
const maxSpare = 16 << 10

// writeLoop sends queued messages, requested blocks and metadata pieces
// until the connection ends, one bounded batch per system call (see
// sendQueue.take), and a keep-alive when nothing was sent for a while.
func (p *peer) writeLoop(ctx context.Context) {
	t := p.s.cfg.Timing
	var (
		b     batch
		spare []byte
		vec   [2][]byte
	)
	ka := time.NewTimer(t.KeepAliveEvery)
	defer ka.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-ctx.Done():
			return
		case <-ka.C:
			p.q.keepAlive()
		case <-p.q.wake:
		}
		for {
			p.q.take(&b, spare)
			if b.empty() {
				spare = b.msgs
				break
			}
			bufs := net.Buffers(vec[:0])
			if len(b.msgs) > 0 {
				bufs = append(bufs, b.msgs)
			}
			var data *[]byte
			payload, err := p.readBatch(&b, &data)
			if err != nil {
				p.fail(err)
				return
			}
			if data != nil {
				bufs = append(bufs, *data)
			}
			if err := p.s.cfg.OwnUpLimit.Wait(ctx, payload); err != nil {
				return
			}
			if err := p.s.cfg.UpLimit.Wait(ctx, payload); err != nil {
				return
			}
			p.conn.SetWriteDeadline(time.Now().Add(t.WriteTimeout))
			_, err = bufs.WriteTo(p.conn)
			if data != nil {
				*data = (*data)[:0]
				writeBufs.Put(data)
			}
			if err != nil {
				p.fail(err)
				return
			}
			if p.s.cfg.Logf != nil {
				p.logUploads(b.uploads)
			}
			p.q.sent(&b)
			if payload > 0 {
				p.upTotal.Add(int64(payload))
				p.lastUpload.Store(time.Now().UnixNano())
			}
			if cap(b.msgs) <= maxSpare {
				spare = b.msgs
			} else {
				spare = nil
			}
			ka.Reset(t.KeepAliveEvery)
		}
	}
}

// logUploads writes a debugging line per block sent, "uploaded piece P
// block B to ADDR"; benchmarks count them (make bench-swarm: how evenly a
// seeder gives out pieces).
func (p *peer) logUploads(ups []uploadReq) {
	for _, u := range ups {
		p.s.logf("uploaded piece %d block %d to %s", u.index, u.begin/BlockSize, p.addr)
	}
}

// readBatch reads the batch's blocks from storage and encodes its metadata
// pieces into a pooled buffer (set in *data when there are any) and
// returns the block payload bytes.
func (p *peer) readBatch(b *batch, data **[]byte) (int, error) {
	if len(b.uploads) == 0 && len(b.metas) == 0 {
		return 0, nil
	}
	bp := writeBufs.Get().(*[]byte)
	buf := (*bp)[:0]
	payload := 0
	for _, u := range b.uploads {
		if !p.s.uploadAllowed(int(u.index)) {
			continue // restricted after it was queued: never read
		}
		buf = slices.Grow(buf, 13+int(u.length))
		buf = peerwire.AppendPieceHeader(buf, u.index, u.begin, int(u.length))
		start := len(buf)
		buf = buf[:start+int(u.length)]
		if err := p.s.readBlock(u, buf[start:]); err != nil {
			writeBufs.Put(bp)
			return 0, err
		}
		payload += int(u.length)
	}
	for _, m := range b.metas {
		buf = peerwire.AppendMessage(buf, m.message())
	}
	*bp = buf
	*data = bp
	return payload, nil
}

// readBlock reads an uploaded block from storage.
func (s *Swarm) readBlock(u uploadReq, b []byte) error {
	off := int64(u.index)*int64(s.info.PieceLength) + int64(u.begin)
	if _, err := s.storage.ReadAt(b, off); err != nil {
		return fmt.Errorf("reading piece %d for upload: %w", u.index, err)
	}
	return nil
}

// fail closes the connection after a write or read error.
func (p *peer) fail(err error) {
	p.s.mu.Lock()
	p.closeLocked(err)
	p.s.mu.Unlock()
}
