package utp

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

type connState uint8

const (
	stateSynSent connState = iota
	stateConnected
	stateClosed
)

// Conn is one uTP connection, a net.Conn. Read and Write may be called
// from different goroutines at once; every method is safe for concurrent
// use.
type Conn struct {
	s              *Socket
	remote         netip.AddrPort
	raddr          *net.UDPAddr
	key            connKey
	recvID, sendID uint16
	incoming       bool

	ackListed bool        // in s.ackPending; guarded by s.ackMu
	dead      atomic.Bool // state is stateClosed

	readReady, writeReady chan struct{} // one-slot wake-ups
	connected             chan struct{} // closed when a dial ends, either way

	// mu guards every field below.
	mu                          sync.Mutex
	state                       connState
	err                         error // why the connection ended
	closing                     bool  // Close was called
	finSent                     bool
	finSeq                      uint16
	lingerUntil                 time.Time
	readDeadline, writeDeadline time.Time

	// Receiving.
	ackNr       uint16 // the last sequence number received in order
	eof         bool   // the peer's FIN arrived
	eofSeq      uint16
	recvQ       byteQueue // in order, for Read
	reorder     reorderBuf
	reorderTop  uint16 // highest sequence number in reorder
	maxReorder  int
	held        int // bytes of recvQ and reorder, counted in the socket's budget
	replyMicro  uint32
	needAck     bool
	unackedPkts int
	lastWnd     uint32 // the window our last packet advertised

	// Sending.
	seqNr        uint16 // the next sequence number
	ackedSeq     uint16 // every packet up to this one is acknowledged
	lossSeq      uint16 // losses up to here were already answered with a cut
	synSeq       uint16
	synSends     int
	synAt        time.Time
	out          outRing
	resendQ      []uint16 // timed-out packets waiting for window
	unsent       byteQueue
	inflight     int // payload bytes sent and not acknowledged
	peerWnd      uint32
	cc           congestion
	rtt          rttEstimator
	mtu          pathMTU
	dupAcks      int
	nagleSeq     uint16 // the undersized packet in flight, if nagleActive
	nagleActive  bool
	sentData     bool // a DATA packet was sent
	sendFailed   bool // a send failed (logged once)
	rtoAt        time.Time
	timeouts     int
	probeAt      time.Time // tail loss probe: when to send the first unacknowledged packet again
	probes       int       // tail loss probes of the first unacknowledged packet
	zeroWndAt    time.Time // when to probe a closed peer window
	zeroWndProbe bool
	lastRecv     time.Time
	lastSend     time.Time
	scratch      []byte
	sackBuf      [maxSACKBytes]byte
	batch        sendBatch // packets of one flush, sent together

	st ConnStats
}

// firstPacket bounds the payload of a connection's first DATA packet:
// the BitTorrent handshake's 68 bytes. Transmission 3.00 (libutp) drops
// whatever follows the handshake in the same uTP packet (seen in
// TestTransmissionDialsUs: it never learns our pieces), so the handshake
// travels alone whatever the application writes at once.
const firstPacket = 68

// maxSACKBytes bounds the selective-ACK bitmask we send.
const maxSACKBytes = 128

// dupAckLimit is how many duplicate acknowledgements, or packets
// selectively acknowledged past a gap, declare a packet lost.
const dupAckLimit = 3

// resetSlack is how far behind our oldest unacknowledged packet the
// acknowledgement of a RESET may be.
const resetSlack = 1024

// ackEvery is how many packets may arrive before an acknowledgement is
// sent even though more are waiting to be read.
const ackEvery = 16

func newConn(s *Socket, remote netip.AddrPort, recvID, sendID uint16, now time.Time) *Conn {
	c := &Conn{
		s:          s,
		remote:     remote,
		raddr:      net.UDPAddrFromAddrPort(remote),
		key:        connKey{remote, recvID},
		recvID:     recvID,
		sendID:     sendID,
		readReady:  make(chan struct{}, 1),
		writeReady: make(chan struct{}, 1),
		connected:  make(chan struct{}),
		mtu:        newPathMTU(!remote.Addr().Is4(), s.cfg.MaxPacket),
		lastRecv:   now,
		lastSend:   now,
		maxReorder: min(max(16, s.cfg.RecvWindow/1100), 4096),
	}
	c.cc = newCongestion(c.mtu.size, s.cfg.MaxWindow)
	return c
}

// Dial opens a uTP connection to addr. It gives up when ctx ends, after
// Config.ConnectTimeout, when the peer refuses (ErrRefused) or does not
// answer (ErrTimeout).
func (s *Socket) Dial(ctx context.Context, addr netip.AddrPort) (*Conn, error) {
	addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	if !addr.IsValid() || addr.Port() == 0 {
		return nil, fmt.Errorf("dialing %v over uTP: invalid address", addr)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ConnectTimeout)
	defer cancel()
	now := time.Now()
	var c *Conn
	for range 16 {
		id := uint16(rand.Uint32())
		c = newConn(s, addr, id, id+1, now)
		err := s.add(c)
		if err == nil {
			break
		}
		if err == ErrTooMany || err == ErrNotReady {
			return nil, fmt.Errorf("dialing %v over uTP: %w", addr, err)
		}
		c = nil
	}
	if c == nil {
		return nil, fmt.Errorf("dialing %v over uTP: no free connection ID", addr)
	}
	s.stats.dialed.Add(1)
	c.mu.Lock()
	c.synSeq = uint16(rand.Uint32())
	c.sendSynLocked(now)
	c.mu.Unlock()
	select {
	case <-c.connected:
	case <-ctx.Done():
		c.mu.Lock()
		c.dieLocked(ErrTimeout)
		c.mu.Unlock()
		if ctx.Err() == context.DeadlineExceeded {
			return nil, fmt.Errorf("dialing %v over uTP: %w", addr, ErrTimeout)
		}
		return nil, fmt.Errorf("dialing %v over uTP: %w", addr, ctx.Err())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateConnected {
		return nil, fmt.Errorf("dialing %v over uTP: %w", addr, c.err)
	}
	return c, nil
}

// DialContext is Dial for a "host:port" address with a literal IP, in the
// shape of net.Dialer.DialContext; network is ignored.
func (s *Socket) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return nil, fmt.Errorf("dialing %s over uTP: %w", address, err)
	}
	return s.Dial(ctx, ap)
}

// Read reads received bytes; it returns io.EOF once the peer has closed
// its side and everything before was read.
func (c *Conn) Read(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		if c.closing {
			return 0, ErrClosed
		}
		if c.recvQ.Len() > 0 && len(b) > 0 {
			n := c.recvQ.Read(b)
			c.release(n)
			c.st.BytesRead += uint64(n)
			c.windowUpdateLocked()
			return n, nil
		}
		if c.eof && c.ackNr == c.eofSeq {
			return 0, io.EOF
		}
		if c.err != nil {
			return 0, c.opErr("read", c.err)
		}
		if len(b) == 0 {
			return 0, nil
		}
		if !c.waitLocked(c.readReady, c.readDeadline) {
			return 0, c.opErr("read", os.ErrDeadlineExceeded)
		}
	}
}

// Write queues b to be sent; it blocks while more than Config.SendBuffer
// bytes wait for the windows to open.
func (c *Conn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	done := 0
	for {
		switch {
		case c.closing:
			return done, ErrClosed
		case c.err != nil:
			return done, c.opErr("write", c.err)
		case done == len(b):
			return done, nil
		}
		if room := c.s.cfg.SendBuffer - c.unsent.Len(); room > 0 {
			n := min(room, len(b)-done)
			c.unsent.Write(b[done : done+n])
			done += n
			c.flushLocked(time.Now())
			continue
		}
		if !c.waitLocked(c.writeReady, c.writeDeadline) {
			return done, c.opErr("write", os.ErrDeadlineExceeded)
		}
	}
}

// waitLocked releases c.mu until ch is signalled or the deadline passes;
// it returns false when the deadline has passed.
func (c *Conn) waitLocked(ch chan struct{}, deadline time.Time) bool {
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		d := time.Until(deadline)
		if d <= 0 {
			return false
		}
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	c.mu.Unlock()
	defer c.mu.Lock()
	select {
	case <-ch:
		return true
	case <-timeout:
		return false
	}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func (c *Conn) opErr(op string, err error) error {
	if err == ErrClosed {
		return err
	}
	return &net.OpError{Op: op, Net: "utp", Source: c.s.tr.LocalAddr(), Addr: c.raddr, Err: err}
}

// Close ends the connection: what was written is still sent (for up to
// Config.LingerTimeout), then a FIN; unread received bytes are dropped.
// Read and Write fail with ErrClosed from now on.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return nil
	}
	c.closing = true
	c.recvQ.Reset()
	c.reorder.reset()
	c.release(c.held)
	signal(c.readReady)
	signal(c.writeReady)
	switch c.state {
	case stateSynSent:
		c.dieLocked(ErrClosed)
	case stateConnected:
		now := time.Now()
		c.lingerUntil = now.Add(c.s.cfg.LingerTimeout)
		c.s.wake(c.lingerUntil)
		c.flushLocked(now)
	}
	return nil
}

// dieLocked ends the connection with err and unregisters it.
func (c *Conn) dieLocked(err error) {
	if c.state == stateClosed {
		return
	}
	if c.state == stateSynSent {
		close(c.connected)
	}
	c.state, c.err = stateClosed, err
	c.dead.Store(true)
	for seq := c.ackedSeq + 1; seq != c.seqNr; seq++ {
		if p := c.out.remove(seq); p != nil {
			freeOutPacket(p)
		}
	}
	c.out = outRing{}
	c.resendQ = nil
	c.unsent.Reset()
	if c.closing {
		c.recvQ.Reset()
	}
	// Received data stays readable until Close; out-of-order data never
	// will be.
	c.release(c.reorder.bytes)
	c.reorder.reset()
	c.inflight = 0
	signal(c.readReady)
	signal(c.writeReady)
	c.s.remove(c)
}

// release returns n held bytes to the socket's budget.
func (c *Conn) release(n int) {
	if n != 0 {
		c.held -= n
		c.s.budget.Add(int64(-n))
	}
}

// LocalAddr is the socket's address.
func (c *Conn) LocalAddr() net.Addr { return c.s.tr.LocalAddr() }

// RemoteAddr is the peer's address, a *net.UDPAddr.
func (c *Conn) RemoteAddr() net.Addr { return c.raddr }

// RemoteAddrPort is the peer's address.
func (c *Conn) RemoteAddrPort() netip.AddrPort { return c.remote }

// Incoming reports whether the peer opened the connection.
func (c *Conn) Incoming() bool { return c.incoming }

// SetDeadline sets the read and write deadlines.
func (c *Conn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

// SetReadDeadline sets when a blocked or future Read fails with a timeout.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.readDeadline = t
	c.mu.Unlock()
	signal(c.readReady)
	return nil
}

// SetWriteDeadline sets when a blocked or future Write fails with a
// timeout.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.writeDeadline = t
	c.mu.Unlock()
	signal(c.writeReady)
	return nil
}

// String names the connection for logs.
func (c *Conn) String() string {
	return fmt.Sprintf("uTP %v id %d", c.remote, c.recvID)
}
