// Package swarm runs one torrent's peers: connections in both directions,
// the piece picker, requests sized to each peer's rate, choking, piece
// verification, uploads, metadata exchange (BEP 9) and PEX (BEP 11).
//
// A Swarm is built with New and runs in Run until its context ends. Its
// methods are safe for concurrent use. The swarm's mutex (Swarm.mu) guards
// the picker and every peer's protocol state; each peer's send queue has
// its own small mutex, always taken after Swarm.mu when both are held.
//
// What a torrent costs is bounded per peer (see sendQueue), per address
// and per process (ConnLimit), and its piece memory and hashing come from
// budgets the engine shares among all torrents (PieceMemory, HashPool), so
// the cost of many torrents grows with their activity, not their number.
package swarm

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/bitfield"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// Storage is where verified pieces go and where uploads are read from.
// *storage.Torrent implements it.
type Storage interface {
	// WritePiece writes a verified piece, leaving out the bytes of the
	// files that skip marks (nil: none). It must not keep data or skip.
	WritePiece(index int, data []byte, skip []bool) error
	ReadAt(p []byte, off int64) (int, error)
}

// Content is the storage a torrent downloads into and what it holds
// already, as OnMetadata returns it for a magnet link.
type Content struct {
	Storage Storage
	// Have holds the pieces verified whole on disk; Partial those of
	// which only the bytes of wanted files are kept (pieces shared with
	// a skipped file). Either may be empty: none.
	Have, Partial bitfield.Bitfield
	// Files holds each file's priority (nil: all Normal).
	Files []Priority
}

// Pieces is what a swarm has verified, as OnHave reports it. Its fields
// are copies, or slices never modified afterwards: safe to keep.
type Pieces struct {
	Have    bitfield.Bitfield // verified, whole on disk
	Partial bitfield.Bitfield // verified, only the bytes of wanted files kept
	// Skip marks the files skipped when this was reported (nil: none):
	// the bytes a partial piece lacks lie in them.
	Skip     []bool
	Done     bool // every wanted piece is verified
	Complete bool // every piece is verified and whole on disk
}

// Source says where a peer's address came from.
type Source string

// Sources of peer addresses.
const (
	SourceManual   Source = "manual"
	SourceIncoming Source = "incoming"
	SourceDHT      Source = "dht"
	SourceTracker  Source = "tracker"
	SourcePEX      Source = "pex"
	SourceLSD      Source = "lsd" // local peer discovery (BEP 14)
	SourceMagnet   Source = "magnet"
	// SourceHandshake is a peer's other address (the other family) from
	// its extended handshake (BEP 10 `ipv4`, `ipv6`).
	SourceHandshake Source = "handshake"
)

// peerID is a connection's number inside a swarm.
type peerID uint32

// candidate is an address we may connect to.
type candidate struct {
	src       Source
	fails     int // failed dials in a row
	closes    int // connections in a row that ended without payload
	nextTry   time.Time
	connected bool
	dialing   bool
	banned    bool
	self      bool
	seed      bool // had every piece when last connected
}

// Swarm is one torrent's set of peers. See the package comment.
type Swarm struct {
	cfg      Config
	incoming chan incomingConn
	kick     chan struct{}
	hashers  *HashPool
	mem      *PieceMemory
	memFree  chan struct{}  // told when mem has room again after a refusal
	hashWG   sync.WaitGroup // this swarm's pieces queued or being verified
	wg       sync.WaitGroup // this swarm's goroutines
	fatal    chan error
	// uploadMask is the set of pieces RestrictUploads allows (nil: all);
	// the bitfield is never modified once stored.
	uploadMask atomic.Pointer[bitfield.Bitfield]

	// mu guards everything below it.
	mu        sync.Mutex
	info      *metainfo.Info
	infoBytes []byte
	storage   Storage
	pk        *picker // nil until the metadata is known
	layout    pieceLayout
	// files is the priority list SetFilePriorities gave before the
	// metadata was known (filesSet), applied once it is.
	files     []Priority
	filesSet  bool
	meta      *metadataFetch
	peers     map[peerID]*peer
	nextID    peerID
	known     map[netip.AddrPort]*candidate
	dialing   int
	failed    map[int][]blockPrint // pieces that failed, block fingerprints for smart banning
	bannedIDs map[[20]byte]bool    // peer IDs of peers that sent bad data
	stats     counters
	err       error
	done      bool // every wanted piece verified
	paused    bool
	haveDirty bool
	optimist  peerID
	optimistT time.Time
	lastChoke time.Time
	// handshaking counts incoming handshakes in progress.
	handshaking int
	// evicted maps addresses that took or lost a slot by eviction to
	// when (see admit.go).
	evicted map[netip.Addr]time.Time
	ctx     context.Context // Run's, once it runs
}

// New builds a swarm; it starts nothing.
func New(cfg Config) (*Swarm, error) {
	cfg = cfg.withDefaults()
	s := &Swarm{
		cfg:      cfg,
		incoming: make(chan incomingConn, 16),
		kick:     make(chan struct{}, 1),
		peers:    make(map[peerID]*peer),
		known:    make(map[netip.AddrPort]*candidate),
		failed:   make(map[int][]blockPrint),
		evicted:  make(map[netip.Addr]time.Time),
		hashers:  cfg.Hashers,
		mem:      cfg.Memory,
		memFree:  make(chan struct{}, 1),
		fatal:    make(chan error, 1),
	}
	if s.hashers == nil {
		s.hashers = NewHashPool(0)
	}
	if s.mem == nil {
		s.mem = NewPieceMemory(DefaultPieceMemory)
	}
	if cfg.Info != nil {
		if cfg.Storage == nil {
			return nil, errors.New("swarm: Info without Storage")
		}
		c := Content{Storage: cfg.Storage, Have: cfg.Have, Partial: cfg.Partial, Files: cfg.Files}
		if err := s.setInfoLocked(cfg.Info, cfg.InfoBytes, c); err != nil {
			return nil, err
		}
	} else {
		if cfg.OnMetadata == nil {
			return nil, errors.New("swarm: no Info and no OnMetadata")
		}
		s.meta = newMetadataFetch()
	}
	return s, nil
}

// setInfoLocked installs the torrent's metadata and storage.
func (s *Swarm) setInfoLocked(info *metainfo.Info, raw []byte, c Content) error {
	n := info.NumPieces()
	have, part := c.Have, c.Partial
	if have.Len() == 0 {
		have = bitfield.New(n)
	}
	if part.Len() == 0 {
		part = bitfield.New(n)
	}
	if have.Len() != n || part.Len() != n {
		return fmt.Errorf("swarm: bitfields of %d and %d pieces for a torrent of %d", have.Len(), part.Len(), n)
	}
	files := c.Files
	if s.filesSet {
		files = s.files
	}
	s.info, s.infoBytes, s.storage = info, raw, c.Storage
	s.layout = layoutOf(info, files)
	s.pk = newPicker(n, int(info.PieceLength), info.TotalLength, have.Clone(), s.mem, s.memFree, rand.Uint64())
	if info.ContentLength() < info.TotalLength {
		s.pk.pad = info.IsPad
	}
	// Only a piece holding bytes of a skipped file can be partly kept.
	kept := bitfield.New(n)
	for i := range n {
		if part.Has(i) && s.layout.skipBytes.Has(i) {
			kept.Set(i)
		}
	}
	s.pk.prio = s.layout.prio
	s.pk.setPartial(kept)
	s.done = s.pk.done()
	return nil
}

// SetFilePriorities changes the priority of each file of the torrent
// (in torrent order, pad files included; nil: all Normal). Pieces of
// skipped files only are no longer requested (those being downloaded are
// given up, their requests cancelled); pieces of High files are
// requested first; partly kept pieces that lack bytes of a file wanted
// now are downloaded again. OnHave is told the outcome. Before a magnet
// link's metadata is known, the list is kept for when it is.
func (s *Swarm) SetFilePriorities(files []Priority) {
	files = append([]Priority(nil), files...)
	s.mu.Lock()
	if s.pk == nil {
		s.files, s.filesSet = files, true
		s.mu.Unlock()
		return
	}
	old := s.layout
	s.layout = layoutOf(s.info, files)
	s.layout.gen = old.gen + 1
	for _, i := range unskippedPieces(s.info, old, s.layout) {
		s.pk.dropPartial(i)
	}
	s.pk.setPriorities(s.layout.prio)
	s.abandonSkippedLocked()
	s.done = s.pk.done()
	for _, p := range s.peers {
		s.updateInterestLocked(p)
	}
	pieces := s.piecesLocked()
	s.mu.Unlock()
	if s.cfg.OnHave != nil {
		s.cfg.OnHave(pieces)
	}
	s.poke() // seeds may be worth dialling again
}

// piecesLocked returns what OnHave is told.
func (s *Swarm) piecesLocked() Pieces {
	return Pieces{
		Have: s.pk.have.Clone(), Partial: s.pk.partial.Clone(), Skip: s.layout.skip,
		Done: s.done, Complete: s.pk.complete(),
	}
}

// AddPeers offers addresses to connect to. It never blocks.
func (s *Swarm) AddPeers(addrs []netip.AddrPort, src Source) {
	s.mu.Lock()
	for _, a := range addrs {
		s.addCandidateLocked(a, src)
	}
	s.mu.Unlock()
	s.poke()
}

// maxKnown bounds the addresses a swarm remembers.
const maxKnown = 2000

func (s *Swarm) addCandidateLocked(a netip.AddrPort, src Source) {
	a = netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
	if !a.IsValid() || a.Port() == 0 || a.Addr().IsUnspecified() || a.Addr().IsMulticast() {
		return
	}
	if c := s.known[a]; c != nil {
		if src == SourceManual && !c.banned && !c.self {
			c.nextTry, c.fails, c.closes = time.Time{}, 0, 0 // the user asked: try now
		}
		return
	}
	if len(s.known) >= maxKnown {
		for k, c := range s.known {
			if !c.connected && !c.banned {
				delete(s.known, k)
				break
			}
		}
		if len(s.known) >= maxKnown {
			return
		}
	}
	s.known[a] = &candidate{src: src}
}

// Accept takes an incoming connection whose first 48 handshake bytes
// (protocol, reserved, info hash) the listener has read and routed here.
// The swarm owns conn from now on.
func (s *Swarm) Accept(conn net.Conn, reserved [8]byte) {
	select {
	case s.incoming <- incomingConn{conn, reserved}:
	default:
		conn.Close()
	}
}

// SetPaused stops (true) or restarts (false) requesting and uploading;
// connections are closed while paused.
func (s *Swarm) SetPaused(p bool) {
	s.mu.Lock()
	s.paused = p
	if p {
		for _, pr := range s.peers {
			pr.closeLocked(errPaused)
			s.unregisterLocked(pr)
		}
		if s.pk != nil {
			s.pk.dropActive() // give the piece memory to other torrents
		}
	}
	s.mu.Unlock()
	s.poke()
}

var errPaused = errors.New("torrent paused")

func (s *Swarm) poke() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run runs the swarm until ctx ends or storage fails; it returns nil when
// ctx ended, or the storage error that stopped the torrent.
func (s *Swarm) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	s.ctx = ctx
	s.mu.Unlock()
	defer func() {
		cancel()
		s.mu.Lock()
		for _, p := range s.peers {
			p.closeLocked(context.Canceled)
		}
		s.mu.Unlock()
		s.wg.Wait()
		s.stopHashing()
	}()
	every := time.Second
	tick := time.NewTimer(every)
	defer tick.Stop()
	s.maintain()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-s.fatal:
			return err
		case in := <-s.incoming:
			s.startIncoming(ctx, in)
		case <-s.kick:
			s.maintain()
		case <-s.memFree:
			s.refill()
		case <-tick.C:
			s.onTick()
			s.maintain()
			every = 0 // set below
		}
		// An idle seed ticks seldom: a thousand of them each waking
		// every second cost more than 2 % of a core with nothing to do.
		next := s.nextTick()
		if next != every {
			if every == 0 || next < every {
				tick.Reset(next)
			}
			every = next
		}
	}
}

// IdleTick is the longest interval of a swarm's tick (rates, choking,
// PEX, dial retries) while it is idle: complete, with no peer and none
// being dialed. It ticks sooner when an address is due to be dialed
// again; a connection or new addresses tick it every second again.
const IdleTick = 10 * time.Second

// nextTick returns the wait before the next tick: a second, or while the
// swarm is idle up to IdleTick, until the next dial retry that is due.
func (s *Swarm) nextTick() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.done || len(s.peers) > 0 || s.dialing > 0 || s.haveDirty || s.meta != nil {
		return time.Second
	}
	d := IdleTick
	now := time.Now()
	for _, c := range s.known {
		if c.connected || c.banned || c.self || c.dialing || c.seed {
			continue // as maintain, for a complete swarm
		}
		d = min(d, c.nextTry.Sub(now))
	}
	return max(d, time.Second)
}

// stopHashing takes this swarm's pieces out of the hashing queue, waits
// for those being verified, and gives every piece buffer back to the
// memory budget. Run calls it once every peer goroutine has ended.
func (s *Swarm) stopHashing() {
	dropped := s.hashers.drop(s)
	s.hashWG.Add(-len(dropped))
	s.hashWG.Wait()
	s.mem.forget(s.memFree)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pk == nil {
		return
	}
	for _, pp := range dropped {
		s.pk.verified(pp.index, false, false)
		s.pk.release(pp)
	}
	s.pk.dropActive()
}

// refill asks every peer for more blocks (memory became free).
func (s *Swarm) refill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.peers {
		s.fillRequestsLocked(p)
	}
}

// fail stops the swarm with err (a storage failure).
func (s *Swarm) failLocked(err error) {
	if s.err != nil {
		return
	}
	s.err = err
	select {
	case s.fatal <- err:
	default:
	}
}

// Err returns the error that stopped the swarm, if any.
func (s *Swarm) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Complete reports whether every wanted piece is verified.
func (s *Swarm) Complete() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.done
}

// Info returns the torrent's metadata, or nil while a magnet link's is
// still being fetched.
func (s *Swarm) Info() (*metainfo.Info, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info, s.infoBytes
}

func (s *Swarm) logf(format string, args ...any) {
	if s.cfg.Logf != nil {
		s.cfg.Logf(format, args...)
	}
}
