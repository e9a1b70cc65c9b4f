package swarm

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/bitfield"
	"github.com/swarmdrop/swarmdrop/engine/peerwire"
)

// errProtocol marks a protocol violation that ends a connection.
var errProtocol = errors.New("protocol violation")

func protocolErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errProtocol, fmt.Sprintf(format, args...))
}

// readLoop reads and handles the peer's messages until the connection
// ends (or ctx does, while it waits for the download rate limit).
func (p *peer) readLoop(ctx context.Context) error {
	s := p.s
	s.mu.Lock()
	n := 0
	if s.pk != nil {
		n = s.pk.numPieces
	}
	s.mu.Unlock()
	r := peerwire.NewReader(p.conn, n)
	known := n > 0
	idle := s.cfg.Timing.IdleTimeout
	for {
		p.conn.SetReadDeadline(time.Now().Add(idle))
		m, err := r.ReadMessage()
		if err != nil {
			return err
		}
		if m.Keepalive {
			continue
		}
		if m.ID == peerwire.Piece {
			if err := s.cfg.OwnDownLimit.Wait(ctx, len(m.Block)); err != nil {
				return err
			}
			if err := s.cfg.DownLimit.Wait(ctx, len(m.Block)); err != nil {
				return err
			}
		}
		if !known {
			s.mu.Lock()
			if s.pk != nil {
				r.SetNumPieces(s.pk.numPieces)
				known = true
			}
			s.mu.Unlock()
		}
		if err := p.handle(m); err != nil {
			return err
		}
	}
}

// handle acts on one message.
func (p *peer) handle(m peerwire.Message) error {
	s := p.s
	switch m.ID {
	case peerwire.Piece:
		return s.onBlock(p, m)
	case peerwire.Port:
		if s.cfg.OnDHTPort != nil && m.Port != 0 {
			s.cfg.OnDHTPort(netip.AddrPortFrom(p.addr.Addr(), m.Port))
		}
		return nil
	case peerwire.Extended:
		return s.onExtended(p, m)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.closed {
		return nil
	}
	switch m.ID {
	case peerwire.Choke:
		p.peerChoking = true
		if !p.fast {
			s.dropRequestsLocked(p)
		}
	case peerwire.Unchoke:
		p.peerChoking = false
		s.fillRequestsLocked(p)
	case peerwire.Interested:
		p.peerInterest = true
		s.unchokeIfRoomLocked(p)
	case peerwire.NotInterested:
		p.peerInterest = false
	case peerwire.Have:
		return s.onHaveLocked(p, int(m.Index))
	case peerwire.Bitfield:
		return s.onBitfieldLocked(p, m.Bitfield)
	case peerwire.HaveAll:
		p.haveAll = true
		if s.pk != nil {
			p.have = bitfield.New(s.pk.numPieces)
			p.have.SetAll()
			s.afterHavesLocked(p)
		}
	case peerwire.HaveNone:
	case peerwire.Request:
		return s.onRequestLocked(p, m)
	case peerwire.Cancel:
		p.q.cancelUpload(m.Index, m.Begin, m.Length)
	case peerwire.Reject:
		s.onRejectLocked(p, m)
	case peerwire.Suggest, peerwire.AllowedFast:
		// Hints we do not need: rarest-first already spreads pieces.
	}
	return nil
}

func (s *Swarm) onHaveLocked(p *peer, i int) error {
	if s.pk == nil {
		return nil // before the metadata: nothing to count yet
	}
	if i < 0 || i >= s.pk.numPieces {
		return protocolErrorf("have %d of %d pieces", i, s.pk.numPieces)
	}
	if p.haveAll || p.have.Has(i) {
		return nil
	}
	p.have.Set(i)
	s.pk.gotHave(i)
	if !p.amInterested && s.pk.wanted(i) && !s.done {
		s.updateInterestLocked(p)
	}
	if s.done && p.have.Full() {
		p.closeLocked(errSeedSeed)
	}
	return nil
}

func (s *Swarm) onBitfieldLocked(p *peer, b []byte) error {
	if s.pk == nil {
		if len(b) > 1<<18 {
			return protocolErrorf("bitfield of %d bytes", len(b))
		}
		p.rawBitfield = append(p.rawBitfield[:0], b...)
		return nil
	}
	f, err := bitfield.FromBytes(b, s.pk.numPieces)
	if err != nil {
		return protocolErrorf("%v", err)
	}
	s.setPeerHaveLocked(p, f)
	return nil
}

// setPeerHaveLocked replaces what p has and updates availability.
func (s *Swarm) setPeerHaveLocked(p *peer, f bitfield.Bitfield) {
	for i := 0; i < s.pk.numPieces; i++ {
		if p.have.Has(i) && !p.haveAll {
			s.pk.lostHave(i)
		}
	}
	p.have = f
	if f.Full() {
		p.haveAll = true
	} else {
		for i := 0; i < s.pk.numPieces; i++ {
			if f.Has(i) {
				s.pk.gotHave(i)
			}
		}
	}
	s.afterHavesLocked(p)
}

// afterHavesLocked updates interest after a peer's pieces changed a lot.
func (s *Swarm) afterHavesLocked(p *peer) {
	if s.done && (p.haveAll || p.have.Full()) {
		p.closeLocked(errSeedSeed)
		return
	}
	s.updateInterestLocked(p)
}

// updateInterestLocked tells p whether we are interested, when that changed.
func (s *Swarm) updateInterestLocked(p *peer) {
	want := s.pk != nil && !s.done && !s.paused && s.err == nil && s.pk.interesting(p.haveAll, p.have)
	if want == p.amInterested {
		return
	}
	p.amInterested = want
	if want {
		p.sendLocked(peerwire.Message{ID: peerwire.Interested})
		s.fillRequestsLocked(p)
	} else {
		p.sendLocked(peerwire.Message{ID: peerwire.NotInterested})
	}
}

// onRequestLocked queues an upload for p, or rejects it. A peer that
// asks past its send budget, or keeps asking while choked, is dropped.
func (s *Swarm) onRequestLocked(p *peer, m peerwire.Message) error {
	reject := func() error {
		p.chokedRequests++
		if p.chokedRequests > maxChokedRequests {
			return errChoked
		}
		if p.fast {
			p.sendLocked(peerwire.Message{ID: peerwire.Reject, Index: m.Index, Begin: m.Begin, Length: m.Length})
		}
		return nil
	}
	if s.pk == nil {
		return reject()
	}
	i := int(m.Index)
	if i >= s.pk.numPieces || m.Length == 0 || m.Length > BlockSize ||
		int64(m.Begin)+int64(m.Length) > int64(s.pk.pieceSize(i)) {
		return protocolErrorf("request %d+%d in piece %d out of range", m.Begin, m.Length, i)
	}
	if p.amChoking || !s.pk.have.Has(i) {
		return reject()
	}
	if !s.uploadAllowed(i) {
		// Advertised once, now held back (RestrictUploads): refused
		// without counting against the peer, which asked in good faith.
		s.stats.refused++
		if p.fast {
			p.sendLocked(peerwire.Message{ID: peerwire.Reject, Index: m.Index, Begin: m.Begin, Length: m.Length})
		}
		return nil
	}
	if !p.q.upload(uploadReq{m.Index, m.Begin, m.Length}) {
		return errSendBudget
	}
	return nil
}

// onRejectLocked gives a rejected request back to the picker.
func (s *Swarm) onRejectLocked(p *peer, m peerwire.Message) {
	b := block{int(m.Index), int(m.Begin)}
	if _, ok := p.requests[b]; !ok {
		return
	}
	delete(p.requests, b)
	p.rejected++
	s.stats.rejected++
	s.logf("peer %s rejected our request %d+%d (%d outstanding, its reqq %d)", p.addr, m.Index, m.Begin, len(p.requests)+1, p.reqq)
	s.unrequestLocked(b)
}

// onBlock stores a received block in its piece and queues the piece for
// verification when complete.
func (s *Swarm) onBlock(p *peer, m peerwire.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.closed || s.pk == nil {
		return nil
	}
	b := block{int(m.Index), int(m.Begin)}
	if _, ok := p.requests[b]; !ok {
		s.stats.wasted += int64(len(m.Block)) // unrequested, or cancelled
		return nil
	}
	delete(p.requests, b)
	pp := s.pk.active[b.piece]
	if pp == nil {
		s.stats.wasted += int64(len(m.Block))
		return nil
	}
	bi := b.begin / BlockSize
	if b.begin%BlockSize != 0 || bi >= pp.nBlocks || len(m.Block) != pp.blockLen(bi) {
		return protocolErrorf("block %d+%d of %d bytes does not match our request", b.piece, b.begin, len(m.Block))
	}
	pp.inflight[bi]--
	if p.slowStart && p.maxReq < maxQueue {
		p.maxReq++ // one more per block: doubles each round trip
	}
	now := time.Now()
	p.lastBlock, p.lastPayload = now, now
	p.downTotal += int64(len(m.Block))
	s.stats.downloaded += int64(len(m.Block))
	if pp.received[bi] {
		s.stats.wasted += int64(len(m.Block))
		s.fillRequestsLocked(p)
		return nil
	}
	copy(pp.buf[b.begin:], m.Block)
	pp.received[bi] = true
	pp.from[bi] = p.id
	pp.nRecv++
	if pp.inflight[bi] > 0 {
		s.cancelOthersLocked(p, b)
	}
	if pp.nRecv == pp.nBlocks {
		s.pk.finish(pp)
		s.hashWG.Add(1)
		s.hashers.submit(hashJob{s: s, pp: pp, run: func() {
			defer s.hashWG.Done()
			s.verify(pp)
		}})
	}
	s.fillRequestsLocked(p)
	return nil
}

// cancelOthersLocked cancels an end-game duplicate of b held by other peers.
func (s *Swarm) cancelOthersLocked(got *peer, b block) {
	pp := s.pk.active[b.piece]
	for _, q := range s.peers {
		if q == got {
			continue
		}
		if _, ok := q.requests[b]; ok {
			if pp != nil {
				pp.inflight[b.begin/BlockSize]--
			}
			s.cancelLocked(q, b, pp)
		}
	}
}

// cancelLocked withdraws our outstanding request b (of piece pp, nil when
// no longer active) from p: forgotten here, a cancel sent.
func (s *Swarm) cancelLocked(p *peer, b block, pp *partial) {
	delete(p.requests, b)
	p.sendLocked(peerwire.Message{ID: peerwire.Cancel, Index: uint32(b.piece), Begin: uint32(b.begin), Length: uint32(blockLenOf(pp, b))})
}

func blockLenOf(pp *partial, b block) int {
	if pp == nil {
		return BlockSize
	}
	return pp.blockLen(b.begin / BlockSize)
}
