package utp

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Transport sends a Socket's packets: a udpmux.Mux sharing its UDP port
// with the DHT, or a *net.UDPConn of its own. It must be safe for
// concurrent use.
type Transport interface {
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
	LocalAddr() net.Addr
}

// DontFragmenter is a Transport that can also send one packet with the
// IP don't-fragment bit set; path MTU probes use it when available.
type DontFragmenter interface {
	WriteToUDPAddrPortDF(b []byte, addr netip.AddrPort) (int, error)
}

// Config configures a Socket. Transport is required; every other field
// has a working zero value (the defaults in parentheses).
type Config struct {
	Transport Transport
	// NoIncoming ignores connection requests: the socket only dials.
	NoIncoming bool
	// MaxConns bounds the connections of the socket, open, opening and
	// closing (512); MaxConnsPerIP bounds them per remote IP address (8).
	MaxConns, MaxConnsPerIP int
	// AcceptBacklog is how many established incoming connections may wait
	// for Accept (64); more are refused with a RESET.
	AcceptBacklog int
	// RecvWindow is the most received bytes one connection holds for the
	// application, in order or not (1 MiB): the window it advertises.
	RecvWindow int
	// RecvBudget bounds the received bytes held by all connections
	// together (64 MiB); past it, each connection still gets MinRecvWindow
	// (64 KiB).
	RecvBudget, MinRecvWindow int
	// SendBuffer is how many bytes Write may queue beyond what the
	// windows let out (256 KiB).
	SendBuffer int
	// MaxWindow caps the congestion window, and so the bytes in flight of
	// one connection (4 MiB).
	MaxWindow int
	// MaxPacket, if not 0, caps the size of the packets sent (UDP payload
	// bytes), for links known to have a small MTU.
	MaxPacket int
	// ConnectTimeout bounds Dial when its context has no earlier deadline
	// (10 s). IdleTimeout ends a connection that has received nothing for
	// that long (3 min); LingerTimeout bounds how long a closed
	// connection keeps sending what was written before Close (15 s).
	ConnectTimeout, IdleTimeout, LingerTimeout time.Duration
	// KeepAlive is how long a connection may send nothing before it sends
	// an acknowledgement anyway, to keep NAT mappings open (29 s).
	KeepAlive time.Duration
	// Logf receives diagnostics; nil discards them.
	Logf func(format string, args ...any)
}

// Errors callers may branch on.
var (
	ErrClosed   = net.ErrClosed
	ErrRefused  = errors.New("uTP connection refused")
	ErrReset    = errors.New("uTP connection reset by peer")
	ErrTimeout  = errors.New("uTP connection timed out")
	ErrTooMany  = errors.New("too many uTP connections")
	ErrNotReady = errors.New("uTP socket is not serving")
)

// synTries is how many SYNs a Dial sends (at 0, 1 and 3 s, with the RTO
// doubling) before it gives up (at 7 s).
const synTries = 3

// maxTimeouts is how many retransmission timeouts in a row end a
// connection (with the backoff, about a minute of silence).
const maxTimeouts = 7

// connKey identifies a connection: the remote address and the connection
// ID its packets carry to us.
type connKey struct {
	addr netip.AddrPort
	id   uint16
}

// Socket is a uTP endpoint: it dials and accepts connections over one
// Transport, and is fed the uTP packets that arrive on it through
// HandlePacket (by one packet reader, or two: an IPv4 and an IPv6
// socket). Build it with New, run it with Serve. Its methods are safe for
// concurrent use.
type Socket struct {
	cfg    Config
	tr     Transport
	df     DontFragmenter // nil when the transport cannot set the bit
	seg    SegmentWriter  // nil when the transport cannot send segments
	logf   func(string, ...any)
	epoch  time.Time
	cookie cookieKey
	budget atomic.Int64 // received bytes held by all connections

	serving  atomic.Bool
	served   atomic.Bool
	done     chan struct{} // closed when Serve ends
	accepts  chan *Conn
	kick     chan struct{}
	nextWake atomic.Int64 // unix nanoseconds of the timer loop's next wake

	stats socketCounters

	last atomic.Pointer[Conn] // the connection of the previous packet

	// ackMu guards ackPending, the connections owing a deferred
	// acknowledgement, and their ackListed flags.
	ackMu      sync.Mutex
	ackPending []*Conn

	// mu guards the fields below; it is taken after a Conn's mu, never
	// before.
	mu     sync.Mutex
	conns  map[connKey]*Conn
	perIP  map[netip.Addr]int
	closed recentKeys
	syns   tokenBucket // replies to SYNs
	resets tokenBucket // RESETs to strays
}

// New builds a socket on cfg.Transport. It starts no goroutine.
func New(cfg Config) (*Socket, error) {
	if cfg.Transport == nil {
		return nil, errors.New("utp: Config.Transport is nil")
	}
	setInt(&cfg.MaxConns, 512)
	setInt(&cfg.MaxConnsPerIP, 8)
	setInt(&cfg.AcceptBacklog, 64)
	setInt(&cfg.RecvWindow, 1<<20)
	setInt(&cfg.RecvBudget, 64<<20)
	setInt(&cfg.MinRecvWindow, 64<<10)
	setInt(&cfg.SendBuffer, 256<<10)
	setInt(&cfg.MaxWindow, 4<<20)
	cfg.MinRecvWindow = min(cfg.MinRecvWindow, cfg.RecvWindow)
	setDur(&cfg.ConnectTimeout, 10*time.Second)
	setDur(&cfg.IdleTimeout, 3*time.Minute)
	setDur(&cfg.LingerTimeout, 15*time.Second)
	setDur(&cfg.KeepAlive, 29*time.Second)
	s := &Socket{
		cfg:     cfg,
		tr:      cfg.Transport,
		logf:    cfg.Logf,
		epoch:   time.Now(),
		done:    make(chan struct{}),
		accepts: make(chan *Conn, cfg.AcceptBacklog),
		kick:    make(chan struct{}, 1),
		conns:   map[connKey]*Conn{},
		perIP:   map[netip.Addr]int{},
		closed:  newRecentKeys(1024),
		syns:    tokenBucket{rate: 2000, burst: 500},
		resets:  tokenBucket{rate: 200, burst: 50},
	}
	s.df, _ = cfg.Transport.(DontFragmenter)
	s.seg, _ = cfg.Transport.(SegmentWriter)
	if s.logf == nil {
		s.logf = func(string, ...any) {}
	}
	if _, err := rand.Read(s.cookie.secret[:]); err != nil {
		return nil, fmt.Errorf("utp: %w", err)
	}
	return s, nil
}

func setInt(v *int, d int) {
	if *v <= 0 {
		*v = d
	}
}

func setDur(v *time.Duration, d time.Duration) {
	if *v <= 0 {
		*v = d
	}
}

// micros is our packet clock: microseconds since the socket was built,
// modulo 2^32.
func (s *Socket) micros(now time.Time) uint32 {
	return uint32(now.Sub(s.epoch).Microseconds())
}

// Serve runs the socket's timers (retransmissions, keep-alives, time-outs)
// until ctx ends; then it resets every connection and fails Accept and
// Dial with ErrClosed. It returns nil. A Socket serves once.
func (s *Socket) Serve(ctx context.Context) error {
	if !s.served.CompareAndSwap(false, true) {
		return errors.New("utp: Serve called twice")
	}
	s.nextWake.Store(time.Now().Add(time.Second).UnixNano())
	s.serving.Store(true)
	timer := time.NewTimer(time.Second)
	defer timer.Stop()
	var list []*Conn
	for {
		select {
		case <-ctx.Done():
			s.shutdown()
			return nil
		case <-timer.C:
		case <-s.kick:
		}
		now := time.Now()
		next := now.Add(time.Second)
		s.mu.Lock()
		list = list[:0]
		for _, c := range s.conns {
			list = append(list, c)
		}
		s.mu.Unlock()
		for i, c := range list {
			if t := c.tick(now); !t.IsZero() && t.Before(next) {
				next = t
			}
			list[i] = nil
		}
		s.nextWake.Store(next.UnixNano())
		timer.Reset(max(time.Until(next), time.Millisecond))
	}
}

// wake makes the timer loop run by t at the latest.
func (s *Socket) wake(t time.Time) {
	for {
		cur := s.nextWake.Load()
		if t.UnixNano() >= cur {
			return
		}
		if s.nextWake.CompareAndSwap(cur, t.UnixNano()) {
			break
		}
	}
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// shutdown ends every connection when Serve stops.
func (s *Socket) shutdown() {
	s.serving.Store(false)
	close(s.done)
	s.mu.Lock()
	list := make([]*Conn, 0, len(s.conns))
	for _, c := range s.conns {
		list = append(list, c)
	}
	s.mu.Unlock()
	for _, c := range list {
		c.mu.Lock()
		if c.state != stateClosed {
			if c.state == stateConnected {
				c.sendReset()
			}
			c.dieLocked(ErrClosed)
		}
		c.mu.Unlock()
	}
	for {
		select {
		case c := <-s.accepts:
			c.Close()
		default:
			return
		}
	}
}

// Accept waits for the next incoming connection. It fails with ErrClosed
// once Serve has ended.
func (s *Socket) Accept() (net.Conn, error) {
	return s.AcceptUTP()
}

// AcceptUTP is Accept returning the *Conn.
func (s *Socket) AcceptUTP() (*Conn, error) {
	select {
	case c := <-s.accepts:
		return c, nil
	case <-s.done:
		return nil, ErrClosed
	}
}

// Addr is the local address of the transport.
func (s *Socket) Addr() net.Addr { return s.tr.LocalAddr() }

// Close does nothing: the socket ends with the context of Serve. It is
// here so that a Socket is a net.Listener.
func (s *Socket) Close() error { return nil }

// send writes one packet.
func (s *Socket) send(b []byte, to netip.AddrPort) error {
	s.stats.packetsOut.Add(1)
	_, err := s.tr.WriteToUDPAddrPort(b, to)
	return err
}

// sendDF writes one packet with the don't-fragment bit if the transport
// can set it.
func (s *Socket) sendDF(b []byte, to netip.AddrPort) error {
	if s.df == nil {
		return s.send(b, to)
	}
	s.stats.packetsOut.Add(1)
	_, err := s.df.WriteToUDPAddrPortDF(b, to)
	return err
}

// add registers c; it fails when a limit is reached.
func (s *Socket) add(c *Conn) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.serving.Load() {
		return ErrNotReady
	}
	if err := s.roomLocked(c.remote.Addr()); err != nil {
		return err
	}
	if _, dup := s.conns[c.key]; dup {
		return errors.New("utp: connection ID in use")
	}
	s.conns[c.key] = c
	s.perIP[c.remote.Addr()]++
	return nil
}

// roomLocked reports whether one more connection with ip fits.
func (s *Socket) roomLocked(ip netip.Addr) error {
	if len(s.conns) >= s.cfg.MaxConns || s.perIP[ip] >= s.cfg.MaxConnsPerIP {
		return ErrTooMany
	}
	return nil
}

// remove unregisters c and remembers its key for a while, to answer its
// stray packets with a RESET.
func (s *Socket) remove(c *Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns[c.key] != c {
		return
	}
	delete(s.conns, c.key)
	ip := c.remote.Addr()
	if s.perIP[ip] <= 1 {
		delete(s.perIP, ip)
	} else {
		s.perIP[ip]--
	}
	s.closed.add(c.key, c.sendID)
}

// lookup returns the connection of key, or nil.
func (s *Socket) lookup(key connKey) *Conn {
	if c := s.last.Load(); c != nil && c.key == key && !c.dead.Load() {
		return c
	}
	s.mu.Lock()
	c := s.conns[key]
	s.mu.Unlock()
	if c != nil {
		s.last.Store(c)
	}
	return c
}

// Stats returns a snapshot of the socket's counters.
func (s *Socket) Stats() Stats {
	st := s.stats.snapshot()
	s.mu.Lock()
	st.Conns = len(s.conns)
	s.mu.Unlock()
	st.RecvHeld = int(s.budget.Load())
	st.Backlog = len(s.accepts)
	return st
}
