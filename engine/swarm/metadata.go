package swarm

import (
	"crypto/sha1"
	"fmt"
	"slices"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/bitfield"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/peerwire"
)

// metadataFetch collects a magnet link's info dictionary from peers in
// 16 KiB pieces (BEP 9). Each peer is asked for one piece at a time
// (rtorrent drops a second request it receives while answering the first,
// and stops reading the connection), pieces are spread over the peers that
// offer the metadata, a piece unanswered for Timing.MetadataTimeout goes
// to another peer, and a peer that leaves a request unanswered for twice
// that is dropped, to be redialed. The swarm's mutex guards it.
type metadataFetch struct {
	size    int
	data    []byte
	got     []bool
	nGot    int
	offers  map[peerID]*metaAsk // peers that announced the same size
	retries int
}

// metaAsk is what one offering peer was asked.
type metaAsk struct {
	piece int // -1: nothing outstanding
	at    time.Time
}

// maxMetadataRetries bounds how often a fetched info dictionary may fail
// its hash before the torrent stops with an error.
const maxMetadataRetries = 8

func newMetadataFetch() *metadataFetch {
	return &metadataFetch{offers: make(map[peerID]*metaAsk)}
}

// offer records that p can send metadata of the given size.
func (m *metadataFetch) offer(p *peer, size int) {
	if p.utMetadata == 0 || size <= 0 || size > peerwire.MaxMetadataSize {
		return
	}
	if m.size == 0 {
		m.size = size
		n := (size + peerwire.MetadataPieceSize - 1) / peerwire.MetadataPieceSize
		m.data = make([]byte, size)
		m.got = make([]bool, n)
	}
	if size == m.size && m.offers[p.id] == nil {
		m.offers[p.id] = &metaAsk{piece: -1}
	}
}

func (m *metadataFetch) dropPeer(id peerID) { delete(m.offers, id) }

// reset throws away what was fetched after a bad result; the peers that
// offered are asked again.
func (m *metadataFetch) reset() {
	clear(m.data)
	clear(m.got)
	m.nGot = 0
	for _, a := range m.offers {
		a.piece = -1
	}
	m.retries++
}

// metadataPlan is what requestMetadataLocked must do: ask peers for
// pieces and drop peers that stalled. planMetadata computes it (pure).
type metadataPlan struct {
	ask  map[peerID]int
	drop []peerID
}

// plan decides, at now, which idle peers to ask for which pieces and
// which peers to drop. Peers are taken in order of ids (stable, so tests
// can predict it); each piece goes to at most one peer at a time unless
// that peer's request has timed out.
func (m *metadataFetch) plan(now time.Time, timeout time.Duration) metadataPlan {
	pl := metadataPlan{ask: map[peerID]int{}}
	if m.size == 0 {
		return pl
	}
	ids := make([]peerID, 0, len(m.offers))
	for id := range m.offers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	assigned := make([]bool, len(m.got))
	for _, id := range ids {
		a := m.offers[id]
		switch {
		case a.piece < 0:
		case now.Sub(a.at) >= 2*timeout:
			pl.drop = append(pl.drop, id)
		case now.Sub(a.at) < timeout && !m.got[a.piece]:
			assigned[a.piece] = true
		}
	}
	next := 0
	for _, id := range ids {
		if m.offers[id].piece >= 0 {
			continue // one at a time; a stalled peer waits to be dropped
		}
		for next < len(m.got) && (m.got[next] || assigned[next]) {
			next++
		}
		if next == len(m.got) {
			break
		}
		pl.ask[id] = next
		assigned[next] = true
	}
	return pl
}

// requestMetadataLocked carries out the fetch's plan.
func (s *Swarm) requestMetadataLocked(now time.Time) {
	m := s.meta
	if m == nil {
		return
	}
	pl := m.plan(now, s.cfg.Timing.MetadataTimeout)
	for _, id := range pl.drop {
		m.dropPeer(id)
		if p := s.peers[id]; p != nil {
			s.logf("peer %s does not answer metadata requests; dropping it", p.addr)
			p.closeLocked(errMetaStall)
		}
	}
	for id, piece := range pl.ask {
		p := s.peers[id]
		if p == nil || p.closed || p.utMetadata == 0 {
			m.dropPeer(id)
			continue
		}
		m.offers[id].piece, m.offers[id].at = piece, now
		msg := peerwire.MetadataMsg{Type: peerwire.MetadataRequest, Piece: piece}
		p.sendLocked(peerwire.Message{ID: peerwire.Extended, ExtID: uint8(p.utMetadata), ExtPayload: msg.Encode()})
	}
}

// onMetadataMsg serves our metadata and collects a magnet's.
func (s *Swarm) onMetadataMsg(p *peer, mm peerwire.MetadataMsg) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch mm.Type {
	case peerwire.MetadataRequest:
		if p.utMetadata == 0 {
			return nil
		}
		n := (len(s.infoBytes) + peerwire.MetadataPieceSize - 1) / peerwire.MetadataPieceSize
		if s.infoBytes == nil || mm.Piece < 0 || mm.Piece >= n {
			reply := peerwire.MetadataMsg{Type: peerwire.MetadataReject, Piece: mm.Piece}
			p.sendLocked(peerwire.Message{ID: peerwire.Extended, ExtID: uint8(p.utMetadata), ExtPayload: reply.Encode()})
			return nil
		}
		if !p.q.metadata(newMetaReq(uint8(p.utMetadata), mm.Piece, s.infoBytes)) {
			return errSendBudget
		}
	case peerwire.MetadataData:
		m := s.meta
		if m == nil || m.size == 0 || mm.TotalSize != m.size || mm.Piece < 0 || mm.Piece >= len(m.got) {
			return nil
		}
		start := mm.Piece * peerwire.MetadataPieceSize
		want := min(peerwire.MetadataPieceSize, m.size-start)
		if len(mm.Data) != want {
			return protocolErrorf("metadata piece %d of %d bytes, want %d", mm.Piece, len(mm.Data), want)
		}
		if a := m.offers[p.id]; a != nil && a.piece == mm.Piece {
			a.piece = -1
		}
		if !m.got[mm.Piece] {
			copy(m.data[start:], mm.Data)
			m.got[mm.Piece] = true
			m.nGot++
		}
		if m.nGot == len(m.got) {
			s.metadataCompleteLocked()
			return nil
		}
		s.requestMetadataLocked(time.Now())
	case peerwire.MetadataReject:
		if m := s.meta; m != nil {
			m.dropPeer(p.id)
			s.requestMetadataLocked(time.Now())
		}
	}
	return nil
}

// metadataCompleteLocked checks the fetched info dictionary against the
// info hash and, when good, hands it to OnMetadata in the background.
func (s *Swarm) metadataCompleteLocked() {
	m := s.meta
	raw := m.data
	if metainfo.Hash(sha1.Sum(raw)) != s.cfg.InfoHash {
		s.logf("fetched metadata does not match the info hash; fetching again")
		m.reset()
		if m.retries > maxMetadataRetries {
			s.failLocked(fmt.Errorf("peers keep sending metadata that does not match the info hash"))
		}
		return
	}
	info, err := metainfo.ParseInfo(raw)
	if err != nil {
		s.failLocked(fmt.Errorf("fetched metadata: %w", err))
		return
	}
	s.meta = nil
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.installMetadata(raw, info)
	}()
}

// installMetadata opens storage for fetched metadata and switches the
// swarm from fetching metadata to downloading pieces.
func (s *Swarm) installMetadata(raw []byte, info *metainfo.Info) {
	c, err := s.cfg.OnMetadata(raw, info)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		err = s.setInfoLocked(info, raw, c)
	}
	if err != nil {
		s.failLocked(fmt.Errorf("opening storage for fetched metadata: %w", err))
		return
	}
	n := info.NumPieces()
	for _, p := range s.peers {
		p.have = bitfield.New(n)
		switch {
		case p.haveAll:
			p.have.SetAll()
			s.afterHavesLocked(p)
		case p.rawBitfield != nil:
			f, err := bitfield.FromBytes(p.rawBitfield, n)
			p.rawBitfield = nil
			if err != nil {
				p.closeLocked(protocolErrorf("%v", err))
				continue
			}
			s.setPeerHaveLocked(p, f)
		}
		haves := s.pk.have.Count()
		p.q.allow(9 * haves) // our own burst, not the peer's doing
		for i := 0; i < n && haves > 0; i++ {
			if s.pk.have.Has(i) {
				p.sendLocked(peerwire.Message{ID: peerwire.Have, Index: uint32(i)})
			}
		}
	}
	s.haveDirty = true
}
