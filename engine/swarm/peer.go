package swarm

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/bitfield"
	"github.com/swarmdrop/swarmdrop/engine/peerwire"
)

// peer is one connection, in four parts: what the handshake said
// (handshakeInfo, read-only after it), the protocol state both sides
// announced (wireState) and the transfer accounting (transfer), both
// guarded by Swarm.mu, and the outgoing queue (q), which has its own
// mutex, always taken after Swarm.mu when both are held.
type peer struct {
	s        *Swarm
	id       peerID
	conn     net.Conn
	addr     netip.AddrPort // remote address of the connection
	outgoing bool
	src      Source
	handshakeInfo

	// guarded by Swarm.mu
	wireState
	transfer
	closed      bool
	closeErr    error
	connectedAt time.Time

	upTotal    atomic.Int64 // payload bytes sent (written by the writer)
	lastUpload atomic.Int64 // when payload was last sent, Unix nanoseconds (written by the writer)
	q          sendQueue
	done       chan struct{} // closed when the connection closes
	once       sync.Once
}

// handshakeInfo is what the peer's handshake said.
type handshakeInfo struct {
	remoteID [20]byte
	fast     bool // BEP 6
	ext      bool // BEP 10
	dht      bool // BEP 5
}

// wireState is what the peer told us about itself and what we told it.
type wireState struct {
	client       string
	listenPort   int // from the extended handshake's p
	have         bitfield.Bitfield
	haveAll      bool
	rawBitfield  []byte // a bitfield received before the metadata was known
	peerChoking  bool   // the peer chokes us
	peerInterest bool   // the peer is interested in us
	amChoking    bool
	// lastUnchoked is when we last had the peer unchoked, as of the last
	// choking round (zero: never): choking prefers who waited longest.
	lastUnchoked time.Time
	amInterested bool
	reqq         int // how many requests the peer accepts (extended handshake)
	utMetadata   int // the peer's id for ut_metadata (0: none)
	utPex        int // the peer's id for ut_pex (0: none)
	metaSize     int
	pexSent      map[netip.AddrPort]bool
	lastPexIn    time.Time
	lastPexOut   time.Time // our last PEX message to the peer (zero: none yet)
	// chokedRequests counts requests received while we choke the peer
	// (since the last unchoke).
	chokedRequests int
}

// transfer is the request and payload accounting of a connection.
type transfer struct {
	requests    map[block]time.Time // our outstanding requests to the peer
	maxReq      int                 // how many requests we keep outstanding
	slowStart   bool                // maxReq grows per block while the rate climbs (nextQueue)
	lastBlock   time.Time           // last block received
	lastPayload time.Time           // last block received (see idleSinceLocked)
	downTotal   int64               // payload bytes received
	lastDown    int64
	lastUp      int64
	rateDown    float64
	rateUp      float64
	rejected    int  // our requests the peer rejected
	sentBad     bool // sent a block of a piece that failed
}

// maxChokedRequests is how many requests a peer may send while choked
// (those already on their way when we choked it, and more) before it is
// dropped; a well-behaved peer sends at most our reqq.
const maxChokedRequests = 4 * maxUploadQueue

// newPeer returns a connection's record before registration.
func (s *Swarm) newPeer(conn net.Conn, hs peerwire.Handshake, a netip.AddrPort, outgoing bool, src Source, numPieces int) *peer {
	now := time.Now()
	queue := startQueue
	if s.cfg.startQueue > 0 {
		queue = s.cfg.startQueue
	}
	return &peer{
		s: s, conn: conn, addr: a, outgoing: outgoing, src: src,
		handshakeInfo: handshakeInfo{remoteID: hs.PeerID, fast: hs.Fast(), ext: hs.Extended(), dht: hs.DHT()},
		wireState: wireState{
			peerChoking: true, amChoking: true, reqq: defaultReqq,
			pexSent: make(map[netip.AddrPort]bool),
		},
		transfer: transfer{
			requests: make(map[block]time.Time), maxReq: queue, slowStart: true, // grows per block while slow-starting
			lastPayload: now,
		},
		connectedAt: now,
		q:           newSendQueue(numPieces),
		done:        make(chan struct{}),
	}
}

// idleSinceLocked returns when payload last moved either way (or when the
// connection started).
func (p *peer) idleSinceLocked() time.Time {
	if up := time.Unix(0, p.lastUpload.Load()); up.After(p.lastPayload) {
		return up
	}
	return p.lastPayload
}

// remoteListenLocked returns the address the peer accepts connections on,
// for PEX: the connection's address for outgoing connections, the extended
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

// sendLocked queues messages for the writer; a peer whose queue is over
// its budget (it does not read) is closed instead.
func (p *peer) sendLocked(ms ...peerwire.Message) {
	if p.closed {
		return
	}
	if !p.q.message(ms...) {
		p.closeLocked(errSendBudget)
	}
}

// Reasons a connection ends or is refused.
var (
	errSelf      = errors.New("connected to ourselves")
	errDuplicate = errors.New("already connected to this peer")
	errWrongHash = errors.New("peer offered another torrent")
	errFull      = errors.New("too many connections")
	errAddrFull  = errors.New("too many connections from this address")
	errEvicted   = errors.New("replaced by a new peer (no data exchanged)")
	errBanned    = errors.New("peer sent bad data")
	errSeedSeed  = errors.New("both complete")
	errChoked    = errors.New("peer keeps requesting while choked")
	errMetaStall = errors.New("peer does not answer metadata requests")
)

// runPeer registers a handshaken connection and runs its reader and
// writer until it ends.
func (s *Swarm) runPeer(ctx context.Context, conn net.Conn, hs peerwire.Handshake, a netip.AddrPort, outgoing bool, src Source) {
	s.mu.Lock()
	n := 0
	if s.pk != nil {
		n = s.pk.numPieces
	}
	s.mu.Unlock()
	p := s.newPeer(conn, hs, a, outgoing, src, n)
	if err := s.register(p); err != nil {
		s.logf("refused %s: %v", a, err)
		conn.Close()
		if outgoing {
			s.mu.Lock()
			if c := s.known[a]; c != nil {
				c.fails++
				c.nextTry = time.Now().Add(retryDelay(s.cfg.Timing.DialRetryMin, s.cfg.Timing.RedialMax, c.fails))
			}
			s.mu.Unlock()
		}
		return
	}
	s.greet(p)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		p.writeLoop(ctx)
	}()
	err := p.readLoop(ctx)
	s.mu.Lock()
	p.closeLocked(err)
	s.unregisterLocked(p)
	s.mu.Unlock()
	wg.Wait()
	s.poke()
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
	var have bitfield.Bitfield
	all := false
	if s.pk != nil {
		have, all = s.advertisedLocked()
	}
	switch {
	case s.pk == nil:
		if p.fast {
			ms = append(ms, peerwire.Message{ID: peerwire.HaveNone})
		}
	case p.fast && all:
		ms = append(ms, peerwire.Message{ID: peerwire.HaveAll})
	case p.fast && have.Count() == 0:
		ms = append(ms, peerwire.Message{ID: peerwire.HaveNone})
	case have.Count() > 0:
		ms = append(ms, peerwire.Message{ID: peerwire.Bitfield, Bitfield: have.Clone().Bytes()})
	}
	if p.dht && s.cfg.DHTPort > 0 {
		ms = append(ms, peerwire.Message{ID: peerwire.Port, Port: uint16(s.cfg.DHTPort)})
	}
	p.sendLocked(ms...)
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
		if own := s.cfg.IPv6; own.Is6() && !own.Is4In6() && h.P > 0 {
			b := own.As16()
			h.IPv6 = b[:]
		}
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

// maxUploadQueue is the reqq we announce: how many block requests a peer
// may have queued with us (2,000 blocks: 31.3 MiB on the wire, within
// maxQueuedData; 24 KB of records, the blocks read only when sent). It is
// libtorrent's default: over a long fat link a downloader must keep more
// than bandwidth x delay requested, since every loss holds TCP's in-order
// delivery, and so the requests that follow, for a round trip (make
// bench-swarm, 100 Mbit/s x 200 ms at 0.1 % loss: with 500 both
// Swarmdrop and libtorrent downloaders ran out of requests, 90.9 and 90.7
// Mbit/s; with 2,000, 94.0 and 93.4).
const maxUploadQueue = 2000

// defaultReqq is what we assume of a peer that announces no reqq.
const defaultReqq = 250
