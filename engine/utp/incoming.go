package utp

import (
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"time"
)

// HandlePacket processes one uTP packet b from the address from. b is
// only read during the call. Packets that do not parse are counted and
// dropped.
func (s *Socket) HandlePacket(b []byte, from netip.AddrPort) {
	s.stats.packetsIn.Add(1)
	h, payload, err := Parse(b)
	if err != nil {
		s.stats.invalid.Add(1)
		return
	}
	if !s.serving.Load() {
		s.stats.unknown.Add(1)
		return
	}
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	now := time.Now()
	if h.Type == TypeSyn {
		if s.lookup(connKey{from, h.ConnID + 1}) == nil {
			s.handleSyn(h, from, now)
		}
		return
	}
	c := s.lookup(connKey{from, h.ConnID})
	if c == nil {
		c = s.complete(h, from, now)
		if c == nil {
			return
		}
	}
	if c.handle(h, payload, now) {
		s.ackMu.Lock()
		if !c.ackListed {
			c.ackListed = true
			s.ackPending = append(s.ackPending, c)
		}
		s.ackMu.Unlock()
	}
}

// Drained tells the socket that no more packets are waiting to be read
// now: the acknowledgements deferred while packets kept coming are sent.
func (s *Socket) Drained() {
	s.ackMu.Lock()
	owed := s.ackPending
	s.ackPending = nil
	for _, c := range owed {
		c.ackListed = false
	}
	s.ackMu.Unlock()
	for _, c := range owed {
		c.flushAck()
	}
}

// handleSyn answers a connection request without keeping any state: with
// one STATE packet whose sequence number is a cookie (a keyed hash of the
// request) when the connection would fit, with one RESET when it would
// not, and not at all when incoming connections are off or the reply rate
// is exceeded. Either reply is no larger than the SYN.
func (s *Socket) handleSyn(h Header, from netip.AddrPort, now time.Time) {
	s.stats.syns.Add(1)
	if s.cfg.NoIncoming {
		return
	}
	s.mu.Lock()
	full := s.roomLocked(from.Addr()) != nil || len(s.accepts) == cap(s.accepts)
	ok := s.syns.take(now)
	s.mu.Unlock()
	if !ok {
		s.stats.synsDropped.Add(1)
		return
	}
	reply := Header{
		Type:          TypeState,
		ConnID:        h.ConnID,
		Timestamp:     s.micros(now),
		TimestampDiff: s.micros(now) - h.Timestamp,
		Wnd:           uint32(s.cfg.RecvWindow),
		Seq:           s.cookie.make(from, h.ConnID, h.Seq, now, 0),
		Ack:           h.Seq,
	}
	if full {
		reply.Type, reply.Wnd, reply.Seq = TypeReset, 0, 0
		s.stats.refused.Add(1)
	}
	var buf [HeaderLen]byte
	s.send(reply.Append(buf[:0]), from)
}

// complete handles a packet for no known connection: the first packet of
// an initiator whose acknowledgement matches our cookie opens the
// connection; a stray packet of a recently closed connection is answered
// with a RESET; anything else is dropped.
func (s *Socket) complete(h Header, from netip.AddrPort, now time.Time) *Conn {
	if h.Type == TypeReset {
		s.stats.unknown.Add(1)
		return nil
	}
	synID, synSeq := h.ConnID-1, h.Seq-1
	if !s.cfg.NoIncoming && (h.Type == TypeData || h.Type == TypeState) && s.cookie.valid(from, synID, synSeq, h.Ack+1, now) {
		c, err := s.accepted(h, from, synSeq, now)
		if err == nil {
			return c
		}
		s.stats.refused.Add(1)
		s.reset(from, synID, h.Seq, now)
		return nil
	}
	s.stats.unknown.Add(1)
	s.mu.Lock()
	sendID, ok := s.closed.get(connKey{from, h.ConnID})
	s.mu.Unlock()
	if ok {
		s.reset(from, sendID, h.Seq, now)
	}
	return nil
}

// accepted opens the connection whose SYN carried synSeq and puts it in
// the accept queue.
func (s *Socket) accepted(h Header, from netip.AddrPort, synSeq uint16, now time.Time) (*Conn, error) {
	c := newConn(s, from, h.ConnID, h.ConnID-1, now)
	c.incoming = true
	c.state = stateConnected
	c.seqNr = h.Ack + 1
	c.ackedSeq = h.Ack
	c.lossSeq = h.Ack
	c.ackNr = synSeq
	s.mu.Lock()
	if len(s.accepts) == cap(s.accepts) {
		s.mu.Unlock()
		return nil, ErrTooMany
	}
	s.mu.Unlock()
	if err := s.add(c); err != nil {
		return nil, err
	}
	select {
	case s.accepts <- c:
	default:
		s.remove(c)
		return nil, ErrTooMany
	}
	s.stats.accepted.Add(1)
	s.wake(now.Add(min(s.cfg.KeepAlive, s.cfg.IdleTimeout)))
	return c, nil
}

// reset sends a RESET for connection ID id, rate-limited.
func (s *Socket) reset(to netip.AddrPort, id, ack uint16, now time.Time) {
	s.mu.Lock()
	ok := s.resets.take(now)
	s.mu.Unlock()
	if !ok {
		return
	}
	s.stats.resetsSent.Add(1)
	h := Header{Type: TypeReset, ConnID: id, Timestamp: s.micros(now), Ack: ack}
	var buf [HeaderLen]byte
	s.send(h.Append(buf[:0]), to)
}

// cookieKey makes the sequence numbers of our SYN replies: a keyed hash
// of the request and the current minute, so that the initiator's next
// packet proves it received our reply, and a flood of SYNs from forged
// addresses leaves nothing behind.
type cookieKey struct {
	secret [32]byte
}

// cookieSlot is how long a cookie stays valid (one to two slots).
const cookieSlot = 64 * time.Second

func (k *cookieKey) make(from netip.AddrPort, id, seq uint16, now time.Time, back int64) uint16 {
	var b [32 + 16 + 2 + 2 + 2 + 8]byte
	n := copy(b[:], k.secret[:])
	a := from.Addr().As16()
	n += copy(b[n:], a[:])
	binary.BigEndian.PutUint16(b[n:], from.Port())
	binary.BigEndian.PutUint16(b[n+2:], id)
	binary.BigEndian.PutUint16(b[n+4:], seq)
	binary.BigEndian.PutUint64(b[n+6:], uint64(now.Unix()/int64(cookieSlot/time.Second)-back))
	sum := sha256.Sum256(b[:])
	return binary.BigEndian.Uint16(sum[:])
}

// valid reports whether got is the cookie of (from, id, seq) now or one
// slot ago.
func (k *cookieKey) valid(from netip.AddrPort, id, seq, got uint16, now time.Time) bool {
	return k.make(from, id, seq, now, 0) == got || k.make(from, id, seq, now, 1) == got
}

// tokenBucket is a rate limit: rate events per second, burst at once.
type tokenBucket struct {
	rate, burst float64
	tokens      float64
	at          time.Time
}

func (t *tokenBucket) take(now time.Time) bool {
	if t.at.IsZero() {
		t.tokens, t.at = t.burst, now
	}
	t.tokens = min(t.burst, t.tokens+now.Sub(t.at).Seconds()*t.rate)
	t.at = now
	if t.tokens < 1 {
		return false
	}
	t.tokens--
	return true
}

// recentKeys remembers the last n closed connections and the connection
// ID to reset them with.
type recentKeys struct {
	ring []connKey
	next int
	ids  map[connKey]uint16
}

func newRecentKeys(n int) recentKeys {
	return recentKeys{ring: make([]connKey, n), ids: make(map[connKey]uint16, n)}
}

func (r *recentKeys) add(k connKey, sendID uint16) {
	if _, ok := r.ids[k]; ok {
		r.ids[k] = sendID
		return
	}
	if old := r.ring[r.next]; old.addr.IsValid() {
		delete(r.ids, old)
	}
	r.ring[r.next] = k
	r.ids[k] = sendID
	r.next = (r.next + 1) % len(r.ring)
}

func (r *recentKeys) get(k connKey) (uint16, bool) {
	id, ok := r.ids[k]
	return id, ok
}
