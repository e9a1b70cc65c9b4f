package swarm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/bitfield"
	"github.com/swarmdrop/swarmdrop/engine/peerwire"
)

// Timeouts of a peer connection; variables so that tests can shorten
// them before any swarm runs.
var (
	handshakeTimeout = 10 * time.Second
	idleTimeout      = 4 * time.Minute  // nothing received: the peer is gone
	keepAliveEvery   = 90 * time.Second // nothing sent: send a keep-alive
	requestTimeout   = 20 * time.Second // a request unanswered this long is given to others
)

// peer is one connection. Fields after "guarded by Swarm.mu" may only be
// touched with the swarm's mutex held; the outbox has its own mutex.
type peer struct {
	s        *Swarm
	id       peerID
	conn     net.Conn
	addr     netip.AddrPort // remote address of the connection
	outgoing bool
	src      Source

	// Set once during the handshake, read-only after.
	remoteID [20]byte
	fast     bool // BEP 6
	ext      bool // BEP 10
	dht      bool // BEP 5

	// guarded by Swarm.mu
	client       string
	listenPort   int // from the extended handshake's p
	have         bitfield.Bitfield
	haveAll      bool
	rawBitfield  []byte // a bitfield received before the metadata was known
	peerChoking  bool   // the peer chokes us
	peerInterest bool   // the peer is interested in us
	amChoking    bool
	amInterested bool
	requests     map[block]time.Time // our outstanding requests to the peer
	maxReq       int                 // how many requests we keep outstanding
	slowStart    bool                // maxReq grows per block until the first rate is measured
	reqq         int                 // how many the peer accepts (extended handshake)
	utMetadata   int                 // the peer's id for ut_metadata (0: none)
	utPex        int                 // the peer's id for ut_pex (0: none)
	metaSize     int
	lastBlock    time.Time
	downTotal    int64 // payload bytes received
	lastDown     int64
	lastUp       int64
	rateDown     float64
	rateUp       float64
	pexSent      map[netip.AddrPort]bool
	lastPexIn    time.Time
	closed       bool
	closeErr     error
	connectedAt  time.Time
	sentBad      bool // sent a block of a piece that failed

	upTotal atomic.Int64 // payload bytes sent (written by the writer)

	// outbox is the writer's queue; wmu guards it.
	wmu     sync.Mutex
	outbox  []peerwire.Message
	uploads []uploadReq
	wake    chan struct{}
	done    chan struct{} // closed when the connection closes
	once    sync.Once
}

// uploadReq is a block a peer asked for.
type uploadReq struct {
	index, begin, length uint32
}

// remoteListen returns the address the peer accepts connections on, for
// PEX: the connection's address for outgoing connections, the extended
// handshake's port for incoming ones. ok is false when unknown.
func (p *peer) remoteListenLocked() (netip.AddrPort, bool) {
	if p.outgoing {
		return p.addr, true
	}
	if p.listenPort > 0 && p.listenPort < 65536 {
		return netip.AddrPortFrom(p.addr.Addr(), uint16(p.listenPort)), true
	}
	return netip.AddrPort{}, false
}

// closeLocked ends the connection once; its goroutines notice and return.
func (p *peer) closeLocked(err error) {
	if p.closed {
		return
	}
	p.closed = true
	p.closeErr = err
	p.once.Do(func() {
		close(p.done)
		p.conn.Close()
	})
}

// send queues messages for the writer.
func (p *peer) send(ms ...peerwire.Message) {
	p.wmu.Lock()
	p.outbox = append(p.outbox, ms...)
	p.wmu.Unlock()
	p.wakeWriter()
}

func (p *peer) wakeWriter() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// errBanned and friends are reasons a connection ends.
var (
	errSelf      = errors.New("connected to ourselves")
	errDuplicate = errors.New("already connected to this peer")
	errWrongHash = errors.New("peer offered another torrent")
	errFull      = errors.New("too many connections")
	errBanned    = errors.New("peer sent bad data")
	errSeedSeed  = errors.New("both complete")
)

// dial connects to a candidate address and runs the connection.
func (s *Swarm) dial(ctx context.Context, a netip.AddrPort) {
	dctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	conn, err := s.cfg.Dial(dctx, "tcp", a.String())
	cancel()
	var hs peerwire.Handshake
	if err == nil {
		hs, err = handshakeWithin(ctx, conn, func() (peerwire.Handshake, error) { return s.handshakeOut(conn) })
	}
	if err != nil {
		if conn != nil {
			conn.Close()
		}
		s.mu.Lock()
		s.dialing--
		if c := s.known[a]; c != nil {
			c.dialing = false
			c.fails++
			c.nextTry = time.Now().Add(backoff(c.fails))
			if errors.Is(err, errSelf) {
				c.self = true
			}
		}
		s.mu.Unlock()
		s.logf("dial %s: %v", a, err)
		return
	}
	s.mu.Lock()
	s.dialing--
	if c := s.known[a]; c != nil {
		c.dialing = false
	}
	s.mu.Unlock()
	s.runPeer(ctx, conn, hs, a, true, s.sourceOf(a))
}

func (s *Swarm) sourceOf(a netip.AddrPort) Source {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.known[a]; c != nil {
		return c.src
	}
	return SourceManual
}

// backoff is the wait before retrying an address that failed n times.
func backoff(n int) time.Duration {
	d := 5 * time.Second << min(n-1, 6)
	return min(d, 5*time.Minute)
}

// handshakeOut sends our handshake and reads the peer's.
func (s *Swarm) handshakeOut(conn net.Conn) (peerwire.Handshake, error) {
	conn.SetDeadline(time.Now().Add(handshakeTimeout))
	hs := peerwire.NewHandshake(s.cfg.InfoHash, s.cfg.PeerID)
	if s.cfg.DHTPort == 0 {
		hs.Reserved[7] &^= 0x01
	}
	if _, err := conn.Write(peerwire.AppendHandshake(nil, hs)); err != nil {
		return hs, fmt.Errorf("sending handshake: %w", err)
	}
	theirs, err := peerwire.ReadHandshake(conn)
	if err != nil {
		return theirs, fmt.Errorf("reading handshake: %w", err)
	}
	if theirs.InfoHash != s.cfg.InfoHash {
		return theirs, errWrongHash
	}
	if theirs.PeerID == s.cfg.PeerID {
		return theirs, errSelf
	}
	conn.SetDeadline(time.Time{})
	return theirs, nil
}

// handshakeWithin runs a handshake on conn, closing conn if ctx ends
// first, so that stopping never waits for a handshake's deadline.
func handshakeWithin(ctx context.Context, conn net.Conn, hs func() (peerwire.Handshake, error)) (peerwire.Handshake, error) {
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	theirs, err := hs()
	if !stop() && err == nil {
		err = ctx.Err() // closed under the handshake's feet
	}
	return theirs, err
}

// startIncoming finishes an incoming handshake in its own goroutine.
func (s *Swarm) startIncoming(ctx context.Context, in incomingConn) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		conn := in.conn
		theirs, err := handshakeWithin(ctx, conn, func() (peerwire.Handshake, error) {
			conn.SetDeadline(time.Now().Add(handshakeTimeout))
			hs := peerwire.NewHandshake(s.cfg.InfoHash, s.cfg.PeerID)
			if s.cfg.DHTPort == 0 {
				hs.Reserved[7] &^= 0x01
			}
			if _, err := conn.Write(peerwire.AppendHandshake(nil, hs)); err != nil {
				return hs, err
			}
			id, err := peerwire.ReadPeerID(conn)
			if err == nil && id == s.cfg.PeerID {
				err = errSelf
			}
			conn.SetDeadline(time.Time{})
			return peerwire.Handshake{Reserved: in.reserved, InfoHash: s.cfg.InfoHash, PeerID: id}, err
		})
		if err != nil {
			conn.Close()
			return
		}
		ap, _ := netip.ParseAddrPort(conn.RemoteAddr().String())
		s.runPeer(ctx, conn, theirs, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), false, SourceIncoming)
	}()
}

// runPeer registers a handshaken connection and runs its reader and
// writer until it ends.
func (s *Swarm) runPeer(ctx context.Context, conn net.Conn, hs peerwire.Handshake, a netip.AddrPort, outgoing bool, src Source) {
	p := &peer{
		s: s, conn: conn, addr: a, outgoing: outgoing, src: src,
		remoteID: hs.PeerID, fast: hs.Fast(), ext: hs.Extended(), dht: hs.DHT(),
		peerChoking: true, amChoking: true,
		requests: make(map[block]time.Time),
		maxReq:   64, reqq: 250, slowStart: true,
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		pexSent: make(map[netip.AddrPort]bool),
	}
	if err := s.register(p); err != nil {
		conn.Close()
		return
	}
	s.greet(p)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		p.writeLoop(ctx)
	}()
	err := p.readLoop()
	s.mu.Lock()
	p.closeLocked(err)
	s.unregisterLocked(p)
	s.mu.Unlock()
	wg.Wait()
	s.poke()
}

// register adds p to the swarm, refusing duplicates, banned addresses and
// connections over the limits.
func (s *Swarm) register(p *peer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx != nil && s.ctx.Err() != nil {
		return context.Canceled // Run is closing its peers: no new ones
	}
	if s.paused {
		return errPaused
	}
	if c := s.known[p.addr]; (c != nil && c.banned) || s.bannedIDs[p.remoteID] {
		return errBanned
	}
	for _, q := range s.peers {
		if q.remoteID == p.remoteID {
			return errDuplicate
		}
	}
	if len(s.peers) >= s.cfg.MaxPeers {
		return errFull
	}
	if s.cfg.Limit != nil && !s.cfg.Limit.acquire() {
		return errFull
	}
	s.nextID++
	p.id = s.nextID
	p.connectedAt = time.Now()
	s.peers[p.id] = p
	if p.outgoing {
		if c := s.known[p.addr]; c != nil {
			c.connected, c.fails = true, 0
		}
	}
	if s.pk != nil {
		p.have = bitfield.New(s.pk.numPieces)
	}
	return nil
}

// unregisterLocked removes p and gives its outstanding requests back.
func (s *Swarm) unregisterLocked(p *peer) {
	if _, ok := s.peers[p.id]; !ok {
		return
	}
	delete(s.peers, p.id)
	s.stats.uploaded += p.upTotal.Load() - p.lastUp
	p.lastUp = p.upTotal.Load()
	if s.cfg.Limit != nil {
		s.cfg.Limit.release()
	}
	if c := s.known[p.addr]; c != nil && p.outgoing {
		c.connected = false
		c.seed = p.haveAll || (p.have.Len() > 0 && p.have.Full())
		c.nextTry = time.Now().Add(30 * time.Second)
	}
	if s.pk != nil {
		s.dropRequestsLocked(p)
		if p.haveAll {
			// have-all peers are not counted in avail
		} else {
			for i := 0; i < s.pk.numPieces; i++ {
				if p.have.Has(i) {
					s.pk.lostHave(i)
				}
			}
		}
	}
	if s.optimist == p.id {
		s.optimist = 0
	}
	if s.meta != nil {
		s.meta.dropPeer(p.id)
	}
}

// greet sends what follows the handshake: the extended handshake, our
// pieces, and our DHT port.
func (s *Swarm) greet(p *peer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ms []peerwire.Message
	if p.ext {
		ms = append(ms, peerwire.Message{ID: peerwire.Extended, ExtID: 0, ExtPayload: s.extHandshakeLocked(p)})
	}
	switch {
	case s.pk == nil:
		if p.fast {
			ms = append(ms, peerwire.Message{ID: peerwire.HaveNone})
		}
	case p.fast && s.pk.complete():
		ms = append(ms, peerwire.Message{ID: peerwire.HaveAll})
	case p.fast && s.pk.have.Count() == 0:
		ms = append(ms, peerwire.Message{ID: peerwire.HaveNone})
	case s.pk.have.Count() > 0:
		ms = append(ms, peerwire.Message{ID: peerwire.Bitfield, Bitfield: s.pk.have.Clone().Bytes()})
	}
	if p.dht && s.cfg.DHTPort > 0 {
		ms = append(ms, peerwire.Message{ID: peerwire.Port, Port: uint16(s.cfg.DHTPort)})
	}
	p.send(ms...)
}

// extHandshakeLocked encodes our BEP 10 handshake for p.
func (s *Swarm) extHandshakeLocked(p *peer) []byte {
	h := peerwire.ExtHandshake{
		M:    map[string]int{"ut_metadata": extMetadata},
		V:    s.cfg.Client,
		Reqq: maxUploadQueue,
	}
	if !s.cfg.Private {
		h.M["ut_pex"] = extPex
	}
	if s.cfg.Port > 0 {
		h.P = s.cfg.Port
	}
	if s.infoBytes != nil {
		h.MetadataSize = len(s.infoBytes)
	}
	if ip := p.addr.Addr(); ip.Is4() {
		b := ip.As4()
		h.YourIP = b[:]
	} else if ip.Is6() {
		b := ip.As16()
		h.YourIP = b[:]
	}
	return h.Encode()
}

// Our extended message ids (what peers use to send to us).
const (
	extMetadata = 1
	extPex      = 2
)

// maxUploadQueue bounds the requests a peer may have queued with us.
const maxUploadQueue = 2000
