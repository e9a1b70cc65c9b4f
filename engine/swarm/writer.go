package swarm

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/peerwire"
)

// uploadBatch is how many requested blocks the writer reads and sends in
// one system call.
const uploadBatch = 16

// writeLoop sends queued messages and requested blocks until the
// connection ends. Messages are encoded into one buffer and blocks are read
// from storage into another, then sent together with one writev.
func (p *peer) writeLoop(ctx context.Context) {
	var (
		buf   = make([]byte, 0, 16<<10)
		data  []byte
		spare []peerwire.Message
		vec   [uploadBatch + 1][]byte
	)
	ka := time.NewTimer(keepAliveEvery)
	defer ka.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-ctx.Done():
			return
		case <-ka.C:
			p.wmu.Lock()
			p.outbox = append(p.outbox, peerwire.Message{Keepalive: true})
			p.wmu.Unlock()
		case <-p.wake:
		}
		for {
			p.wmu.Lock()
			msgs := p.outbox
			p.outbox = spare[:0]
			n := min(len(p.uploads), uploadBatch)
			var ups [uploadBatch]uploadReq
			copy(ups[:], p.uploads[:n])
			p.uploads = p.uploads[n:]
			if len(p.uploads) == 0 {
				p.uploads = nil
			}
			p.wmu.Unlock()
			if len(msgs) == 0 && n == 0 {
				spare = msgs
				break
			}
			buf = buf[:0]
			for _, m := range msgs {
				buf = peerwire.AppendMessage(buf, m)
			}
			clear(msgs)
			spare = msgs
			bufs := net.Buffers(append(vec[:0], buf))
			var payload int64
			if n > 0 {
				if data == nil {
					data = make([]byte, uploadBatch*(13+BlockSize))
				}
				off := 0
				for _, u := range ups[:n] {
					hdr := peerwire.AppendPieceHeader(data[off:off], u.index, u.begin, int(u.length))
					blk := data[off+len(hdr) : off+len(hdr)+int(u.length)]
					if err := p.s.readBlock(u, blk); err != nil {
						p.fail(err)
						return
					}
					bufs = append(bufs, data[off:off+len(hdr)+int(u.length)])
					off += len(hdr) + int(u.length)
					payload += int64(u.length)
				}
			}
			if err := p.s.cfg.UpLimit.Wait(ctx, int(payload)); err != nil {
				return
			}
			p.conn.SetWriteDeadline(time.Now().Add(time.Minute))
			if _, err := bufs.WriteTo(p.conn); err != nil {
				p.fail(err)
				return
			}
			p.upTotal.Add(payload)
			ka.Reset(keepAliveEvery)
		}
	}
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
