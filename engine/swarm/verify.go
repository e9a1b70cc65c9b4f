package swarm

import (
	"crypto/sha1"
	"net/netip"

	"github.com/swarmdrop/swarmdrop/engine/peerwire"
)

// blockPrint remembers who sent one block of a piece that failed its hash,
// and what the block hashed to, so that when the piece later verifies the
// peers that sent different data can be banned exactly ("smart ban").
type blockPrint struct {
	addr   netip.AddrPort
	remote [20]byte
	sum    [20]byte
}

// maxFailedPieces bounds the fingerprints kept.
const maxFailedPieces = 256

// verify checks a complete piece against its hash and writes it when
// good: whole, or without the bytes of skipped files when it holds some
// (it then counts as partly kept). A HashPool worker runs it.
func (s *Swarm) verify(pp *partial) {
	ok := sha1.Sum(pp.buf) == [20]byte(s.info.PieceHash(pp.index))
	s.mu.Lock()
	lay := s.layout // never modified: replaced whole
	s.mu.Unlock()
	whole := !lay.skipBytes.Has(pp.index)
	var err error
	if ok {
		var skip []bool
		if !whole {
			skip = lay.skip
		}
		// The storage's error names the piece and the file already.
		err = s.storage.WritePiece(pp.index, pp.buf, skip)
	}
	s.mu.Lock()
	wasDone := s.done
	lost := ok && err == nil && !whole && s.layout.gen != lay.gen && lostBytes(s.info, pp.index, lay, s.layout)
	switch {
	case lost:
		// A file it left out became wanted meanwhile: fetched again.
		s.pk.verified(pp.index, false, false)
	case ok && err == nil:
		s.pk.verified(pp.index, true, whole)
		s.pieceVerifiedLocked(pp, whole)
	case ok:
		s.pk.verified(pp.index, false, false)
		s.failLocked(err)
	default:
		s.pk.verified(pp.index, false, false)
		s.pieceFailedLocked(pp)
	}
	s.pk.release(pp)
	// The piece's memory is free again: peers held back by the memory
	// budget can be asked for more now, not at the next tick.
	for _, p := range s.peers {
		if len(p.requests) < p.maxReq {
			s.fillRequestsLocked(p)
		}
	}
	// Completion is told at once, not at the next tick.
	var final Pieces
	tell := s.done && !wasDone && s.cfg.OnHave != nil
	if tell {
		s.haveDirty = false
		final = s.piecesLocked()
	}
	s.mu.Unlock()
	if tell {
		s.cfg.OnHave(final)
	}
}

// pieceVerifiedLocked announces a new piece (unless only partly kept: it
// is not ours to upload) and checks for completion.
func (s *Swarm) pieceVerifiedLocked(pp *partial, whole bool) {
	i := pp.index
	s.haveDirty = true
	if prints, ok := s.failed[i]; ok {
		delete(s.failed, i)
		s.smartBanLocked(pp, prints)
	}
	s.done = s.pk.done()
	for _, p := range s.peers {
		if whole && !p.haveAll && !p.have.Has(i) {
			p.sendLocked(peerwire.Message{ID: peerwire.Have, Index: uint32(i)})
		}
		if p.amInterested && (s.done || !s.pk.interesting(p.haveAll, p.have)) {
			s.updateInterestLocked(p)
		}
		if s.done && (p.haveAll || p.have.Full()) {
			p.closeLocked(errSeedSeed)
		}
	}
}

// pieceFailedLocked handles a piece whose hash did not match: it will be
// fetched again; a peer that sent all of it is banned; otherwise each
// block's fingerprint is kept for smart banning.
func (s *Swarm) pieceFailedLocked(pp *partial) {
	s.stats.wasted += int64(pp.size)
	s.stats.hashFails++
	s.logf("piece %d failed its hash check", pp.index)
	senders := map[peerID]bool{}
	for _, id := range pp.from {
		if id != 0 { // 0: a pad block no peer sent
			senders[id] = true
		}
	}
	if len(senders) == 1 {
		for id := range senders {
			s.banLocked(id)
		}
		return
	}
	if len(s.failed) >= maxFailedPieces {
		return
	}
	prints := make([]blockPrint, pp.nBlocks)
	for b := range pp.nBlocks {
		bp := blockPrint{sum: sha1.Sum(pp.buf[b*BlockSize : b*BlockSize+pp.blockLen(b)])}
		if p := s.peers[pp.from[b]]; p != nil {
			bp.addr, bp.remote = p.addr, p.remoteID
			p.sentBad = true
		}
		prints[b] = bp
	}
	s.failed[pp.index] = prints
}

// smartBanLocked compares the blocks of a piece that failed earlier with
// the verified data and bans whoever sent a block that differs.
func (s *Swarm) smartBanLocked(pp *partial, prints []blockPrint) {
	for b, bp := range prints {
		if b >= pp.nBlocks || bp.addr == (netip.AddrPort{}) {
			continue
		}
		if sha1.Sum(pp.buf[b*BlockSize:b*BlockSize+pp.blockLen(b)]) == bp.sum {
			continue
		}
		s.banAddrLocked(bp.addr, bp.remote)
	}
}

// banLocked bans the peer with connection number id.
func (s *Swarm) banLocked(id peerID) {
	if p := s.peers[id]; p != nil {
		s.banAddrLocked(p.addr, p.remoteID)
	}
}

// banAddrLocked closes connections to a peer that sent bad data and never
// connects to it again.
func (s *Swarm) banAddrLocked(a netip.AddrPort, remote [20]byte) {
	c := s.known[a]
	if c == nil {
		c = &candidate{src: SourceIncoming}
		s.known[a] = c
	}
	if !c.banned {
		s.stats.banned++
		s.logf("banning %s: it sent data that failed the hash check", a)
	}
	c.banned = true
	if s.bannedIDs == nil {
		s.bannedIDs = make(map[[20]byte]bool)
	}
	s.bannedIDs[remote] = true
	for _, p := range s.peers {
		if p.addr == a || p.remoteID == remote {
			p.closeLocked(errBanned)
		}
	}
}
