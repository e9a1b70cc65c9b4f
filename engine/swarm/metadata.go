package swarm

import (
	"crypto/sha1"
	"fmt"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/bitfield"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/peerwire"
)

// metadataFetch collects a magnet link's info dictionary from peers in
// 16 KiB pieces (BEP 9). The swarm's mutex guards it.
type metadataFetch struct {
	size    int
	data    []byte
	got     []bool
	asked   []time.Time
	nGot    int
	offers  map[peerID]bool // peers that announced the same metadata size
	next    int             // round-robin position among offers
	retries int
}

// metadataRetry is how long a metadata request may go unanswered.
const metadataRetry = 5 * time.Second

// maxMetadataRetries bounds how often a fetched info dictionary may fail
// its hash before the torrent stops with an error.
const maxMetadataRetries = 8

func newMetadataFetch() *metadataFetch {
	return &metadataFetch{offers: make(map[peerID]bool)}
}

func timeNow() time.Time { return time.Now() }

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
		m.asked = make([]time.Time, n)
	}
	if size == m.size {
		m.offers[p.id] = true
	}
}

func (m *metadataFetch) dropPeer(id peerID) { delete(m.offers, id) }

// reset throws away what was fetched after a bad result.
func (m *metadataFetch) reset() {
	m.size, m.data, m.got, m.asked, m.nGot = 0, nil, nil, nil, 0
	clear(m.offers)
	m.retries++
}

// requestMetadataLocked asks offering peers, round robin, for the pieces
// not yet received (again after metadataRetry).
func (s *Swarm) requestMetadataLocked(now time.Time) {
	m := s.meta
	if m == nil || m.size == 0 || len(m.offers) == 0 {
		return
	}
	var ids []peerID
	for id := range m.offers {
		if p := s.peers[id]; p != nil && !p.closed && p.utMetadata != 0 {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return
	}
	for i := range m.got {
		if m.got[i] || (!m.asked[i].IsZero() && now.Sub(m.asked[i]) < metadataRetry) {
			continue
		}
		m.next++
		p := s.peers[ids[m.next%len(ids)]]
		m.asked[i] = now
		msg := peerwire.MetadataMsg{Type: 0, Piece: i}
		p.send(peerwire.Message{ID: peerwire.Extended, ExtID: uint8(p.utMetadata), ExtPayload: msg.Encode()})
	}
}

// onMetadataMsg serves our metadata and collects a magnet's.
func (s *Swarm) onMetadataMsg(p *peer, mm peerwire.MetadataMsg) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch mm.Type {
	case 0: // request
		if p.utMetadata == 0 {
			return nil
		}
		n := (len(s.infoBytes) + peerwire.MetadataPieceSize - 1) / peerwire.MetadataPieceSize
		reply := peerwire.MetadataMsg{Type: 2, Piece: mm.Piece}
		if s.infoBytes != nil && mm.Piece >= 0 && mm.Piece < n {
			end := min((mm.Piece+1)*peerwire.MetadataPieceSize, len(s.infoBytes))
			reply = peerwire.MetadataMsg{Type: 1, Piece: mm.Piece, TotalSize: len(s.infoBytes),
				Data: s.infoBytes[mm.Piece*peerwire.MetadataPieceSize : end]}
		}
		p.send(peerwire.Message{ID: peerwire.Extended, ExtID: uint8(p.utMetadata), ExtPayload: reply.Encode()})
	case 1: // data
		m := s.meta
		if m == nil || m.size == 0 || mm.TotalSize != m.size || mm.Piece < 0 || mm.Piece >= len(m.got) {
			return nil
		}
		start := mm.Piece * peerwire.MetadataPieceSize
		want := min(peerwire.MetadataPieceSize, m.size-start)
		if len(mm.Data) != want {
			return protocolErrorf("metadata piece %d of %d bytes, want %d", mm.Piece, len(mm.Data), want)
		}
		if !m.got[mm.Piece] {
			copy(m.data[start:], mm.Data)
			m.got[mm.Piece] = true
			m.nGot++
		}
		if m.nGot == len(m.got) {
			s.metadataCompleteLocked()
		}
	case 2: // reject
		if m := s.meta; m != nil {
			delete(m.offers, p.id)
			if mm.Piece >= 0 && mm.Piece < len(m.asked) {
				m.asked[mm.Piece] = time.Time{}
			}
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
	st, have, err := s.cfg.OnMetadata(raw, info)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		err = s.setInfoLocked(info, raw, st, have)
	}
	if err != nil {
		s.failLocked(fmt.Errorf("opening storage for fetched metadata: %w", err))
		return
	}
	s.startHashers(s.ctx)
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
		for i := 0; i < n; i++ {
			if s.pk.have.Has(i) {
				p.send(peerwire.Message{ID: peerwire.Have, Index: uint32(i)})
			}
		}
	}
	s.haveDirty = true
}
