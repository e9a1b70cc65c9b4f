package lsd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// DefaultQueueLen is how many peers wait for the consumer, unless
// Config.QueueLen says otherwise; more are dropped.
const DefaultQueueLen = 64

// refreshEvery is how often a Service reads the interface list again, to
// join interfaces that came up and leave those gone.
const refreshEvery = 15 * time.Second

// Config describes a Service. Port is required.
type Config struct {
	// Port is our BitTorrent listening port (TCP), the one announced.
	Port int
	// Interfaces lists the interfaces to join and announce on. It is
	// called when the Service switches on and every 15 seconds while it
	// is on. Nil means DefaultInterfaces.
	Interfaces func() ([]Interface, error)
	// ListenPacket opens the two sockets ("udp4" or "udp6", the group's
	// address and port). Nil means net.ListenPacket; tests open them in a
	// network namespace.
	ListenPacket func(network, address string) (net.PacketConn, error)
	// QueueLen bounds the Peers channel; 0 means DefaultQueueLen.
	QueueLen int
	// Logf, if set, receives what goes wrong (a socket that cannot be
	// opened, an interface that cannot be joined, a send that fails):
	// a failing join once per interface, other errors unless the same
	// error came just before.
	Logf func(format string, args ...any)
}

// Service announces torrents on the local network and reports the peers
// it hears (BEP 14). It is off when created: SetEnabled switches it on.
// Its methods are safe for concurrent use; Serve must be called once.
type Service struct {
	cfg    Config
	cookie string // in our announces, to drop them when they come back
	peers  chan Peer
	kick   chan struct{} // one slot: wakes Serve without blocking
	c      counters

	// Timing, from the package's constants; tests shorten them.
	minGap, msgGap, refreshEvery time.Duration

	mu       sync.Mutex // guards the fields below
	enabled  bool
	sched    schedule
	prefixes []netip.Prefix // networks of the interfaces joined
	joined   []string       // names of the interfaces joined
	lastErr  string
}

// New returns a Service for cfg, switched off. It starts nothing: call
// Serve.
func New(cfg Config) *Service {
	if cfg.Interfaces == nil {
		cfg.Interfaces = DefaultInterfaces
	}
	if cfg.ListenPacket == nil {
		cfg.ListenPacket = net.ListenPacket
	}
	if cfg.QueueLen <= 0 {
		cfg.QueueLen = DefaultQueueLen
	}
	var b [4]byte
	rand.Read(b[:])
	return &Service{
		cfg:          cfg,
		cookie:       hex.EncodeToString(b[:]),
		peers:        make(chan Peer, cfg.QueueLen),
		kick:         make(chan struct{}, 1),
		minGap:       MinAnnounceGap,
		msgGap:       MessageGap,
		refreshEvery: refreshEvery,
		sched:        newSchedule(AnnounceInterval, MinAnnounceGap),
	}
}

// Peers returns the channel on which the Service reports the peers it
// hears announcing a torrent it announces (each peer and torrent at most
// once a minute). When the consumer falls behind by Config.QueueLen
// peers, more are dropped. The channel is never closed.
func (s *Service) Peers() <-chan Peer { return s.peers }

// SetEnabled switches the Service on (joining the groups and announcing)
// or off (leaving them and closing its sockets) and returns at once; Serve
// does the work. The torrents added stay while it is off.
func (s *Service) SetEnabled(on bool) {
	s.mu.Lock()
	s.enabled = on
	s.mu.Unlock()
	s.wake()
}

// Add announces ih from now on: at once (within a minute of its last
// announce, if it was removed and added again), then every five minutes.
// Adding a torrent already announced changes nothing. The caller decides
// which torrents may be announced: never a private one (BEP 27).
func (s *Service) Add(ih metainfo.Hash) {
	s.mu.Lock()
	s.sched.add(ih, time.Now())
	s.mu.Unlock()
	s.wake()
}

// Remove stops announcing ih and reporting its peers.
func (s *Service) Remove(ih metainfo.Hash) {
	s.mu.Lock()
	s.sched.remove(ih, time.Now())
	s.mu.Unlock()
}

// Stats is a snapshot of a Service's state and running totals.
type Stats struct {
	Enabled    bool
	Interfaces []string // the interfaces joined
	Torrents   int      // torrents announced
	LastError  string   // the last socket or interface failure, if any

	Sent       uint64 // messages sent (one per interface and family)
	SendErrors uint64
	Received   uint64 // packets read
	Reported   uint64 // peers put on the Peers channel
	Dropped    Drops
}

// Drops counts what a Service read and did not report, by reason.
type Drops struct {
	Malformed uint64 // too large or not an announce
	Limited   uint64 // over the sender's or the overall rate
	Own       uint64 // carrying our cookie
	Foreign   uint64 // from outside the networks joined
	Unwanted  uint64 // info hashes we do not announce
	Repeated  uint64 // peers reported less than a minute before
	QueueFull uint64 // peers dropped because the consumer was behind
}

// Stats returns a snapshot of the Service.
func (s *Service) Stats() Stats {
	s.mu.Lock()
	st := Stats{Enabled: s.enabled, Interfaces: slices.Clone(s.joined), Torrents: s.sched.count(), LastError: s.lastErr}
	s.mu.Unlock()
	st.Sent, st.SendErrors = s.c.sent.Load(), s.c.sendErrors.Load()
	st.Received, st.Reported = s.c.received.Load(), s.c.reported.Load()
	st.Dropped = Drops{
		Malformed: s.c.malformed.Load(), Limited: s.c.limited.Load(), Own: s.c.own.Load(),
		Foreign: s.c.foreign.Load(), Unwanted: s.c.unwanted.Load(), Repeated: s.c.repeated.Load(),
		QueueFull: s.c.queueFull.Load(),
	}
	return st
}

// Serve runs the Service until ctx ends, then leaves the groups, closes
// its sockets and returns nil. It returns an error at once if Config.Port
// is out of range.
func (s *Service) Serve(ctx context.Context) error {
	if s.cfg.Port < 1 || s.cfg.Port > 65535 {
		return fmt.Errorf("lsd: port %d out of range", s.cfg.Port)
	}
	var l loop
	defer l.stop(s)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.kick:
		case <-timer.C:
		}
		timer.Reset(s.step(&l, time.Now()))
	}
}

// loop is the state Serve's goroutine owns.
type loop struct {
	m         *membership // nil while off
	refreshAt time.Time
	lastSend  time.Time
}

// idleWait is how long Serve sleeps with nothing to do; a kick wakes it.
const idleWait = time.Hour

// step does what is due at now and returns how long to wait.
func (s *Service) step(l *loop, now time.Time) time.Duration {
	if !s.isEnabled() {
		l.stop(s)
		return idleWait
	}
	if l.m == nil {
		if err := s.open(l); err != nil {
			s.fail(err)
			return s.refreshEvery
		}
		l.refreshAt = now
	}
	if !now.Before(l.refreshAt) {
		s.refresh(l, now)
	}
	wake := l.refreshAt
	if len(s.joinedNow()) == 0 {
		return wake.Sub(now)
	}
	if next := l.lastSend.Add(s.msgGap); now.Before(next) {
		if next.Before(wake) {
			wake = next
		}
		return wake.Sub(now)
	}
	s.mu.Lock()
	due := s.sched.take(now, MaxHashesPerMessage)
	next := s.sched.next()
	s.mu.Unlock()
	if len(due) > 0 {
		l.lastSend = now
		sent, err := l.m.announce(uint16(s.cfg.Port), s.cookie, due)
		s.c.sent.Add(uint64(sent))
		if err != nil {
			s.c.sendErrors.Add(1)
			s.fail(err)
		}
		if !next.IsZero() {
			next = maxTime(next, now.Add(s.msgGap))
		}
	}
	if !next.IsZero() && next.Before(wake) {
		wake = next
	}
	return max(wake.Sub(now), 0)
}

// open opens a socket for each family that can have one and starts its
// reader; it fails only when neither can.
func (s *Service) open(l *loop) error {
	m := &membership{failed: make(map[string]bool)}
	var errs []error
	for _, v6 := range []bool{false, true} {
		g, err := openGroup(s.cfg.ListenPacket, v6)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		m.socks = append(m.socks, g)
	}
	if len(m.socks) == 0 {
		return fmt.Errorf("lsd: %w", errors.Join(errs...))
	}
	for _, err := range errs {
		s.logf("lsd: %v", err) // one family works; say why the other does not
	}
	for _, g := range m.socks {
		r := newReceiver(s.cookie, s.isLocal, s.isAnnounced, s.peers, &s.c)
		m.readers.Add(1)
		go func() {
			defer m.readers.Done()
			r.read(g.conn)
		}()
	}
	l.m = m
	return nil
}

// refresh joins and leaves interfaces as the list says; a new interface
// makes every torrent due.
func (s *Service) refresh(l *loop, now time.Time) {
	l.refreshAt = now.Add(s.refreshEvery)
	list, err := s.cfg.Interfaces()
	if err != nil {
		s.fail(fmt.Errorf("lsd: listing interfaces: %w", err))
		return
	}
	added, errs := l.m.refresh(list)
	for _, err := range errs {
		s.fail(fmt.Errorf("lsd: %w", err))
	}
	s.mu.Lock()
	s.joined = l.m.joinedNames()
	s.prefixes = l.m.prefixes()
	if added {
		s.sched.soon(now)
	}
	s.mu.Unlock()
}

// stop closes the sockets, if open.
func (l *loop) stop(s *Service) {
	if l.m == nil {
		return
	}
	l.m.close()
	l.m = nil
	s.mu.Lock()
	s.joined, s.prefixes = nil, nil
	s.mu.Unlock()
}

func (s *Service) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *Service) isEnabled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.enabled
}

func (s *Service) joinedNow() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.joined
}

// isAnnounced reports whether we announce ih.
func (s *Service) isAnnounced(ih metainfo.Hash) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sched.has(ih)
}

// isLocal reports whether ip is on a network we joined: in the prefix of
// one of the interfaces' addresses, or IPv6 link-local.
func (s *Service) isLocal(ip netip.Addr) bool {
	if ip.Is6() && ip.IsLinkLocalUnicast() {
		return true
	}
	ip = ip.WithZone("")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// fail records err and logs it, unless it repeats the last one.
func (s *Service) fail(err error) {
	s.mu.Lock()
	repeated := s.lastErr == err.Error()
	s.lastErr = err.Error()
	s.mu.Unlock()
	if !repeated {
		s.logf("%v", err)
	}
}

func (s *Service) logf(format string, args ...any) {
	if s.cfg.Logf != nil {
		s.cfg.Logf(format, args...)
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
