// Package udpmux shares one UDP socket between the DHT and uTP: a single
// reader sorts each datagram by its first bytes. A bencoded dictionary
// ('d' first) is a KRPC message and goes to the DHT, through a
// net.PacketConn view with a bounded queue; a valid uTP header (version 1,
// a known type, at least 20 bytes) goes to the uTP socket, synchronously
// and without a copy; anything else is dropped and counted. Writes from
// both go straight to the socket.
//
// On Linux the socket reads with UDP GRO (a burst of one flow's packets
// comes in one read and is split again here) and WriteSegments sends a
// burst of same-size packets in one call (UDP GSO): the kernel walks its
// stack once per burst rather than once per packet, most of uTP's CPU.
//
// A Mux is built by New and read by Serve; its methods are safe for
// concurrent use.
package udpmux

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Handler takes the uTP packets: a *utp.Socket. Both methods are called
// from the mux's one reading goroutine; b is only valid during the call.
type Handler interface {
	// HandlePacket processes one packet.
	HandlePacket(b []byte, from netip.AddrPort)
	// Drained says no more packets are waiting now.
	Drained()
}

// Config tunes a Mux; the zero value works.
type Config struct {
	// DHTQueue bounds the DHT packets waiting to be read (512), and
	// DHTQueueBytes their size (1 MiB); more are dropped.
	DHTQueue, DHTQueueBytes int
	// ReadBuffer is the socket's receive buffer asked of the system
	// (4 MiB; Linux caps it at net.core.rmem_max): room for the packets
	// that arrive while the reader waits for a CPU, which would otherwise
	// be dropped and sent again.
	ReadBuffer int
	// Logf receives diagnostics; nil discards them.
	Logf func(format string, args ...any)
}

// Stats counts what the mux has read.
type Stats struct {
	DHT, UTP    uint64 // packets handed to each
	DHTOverflow uint64 // DHT packets dropped because the queue was full
	NoUTP       uint64 // uTP packets dropped because no handler was set
	Unknown     uint64 // packets that are neither
	ReadErrors  uint64
}

// Mux owns the reading side of one UDP socket.
type Mux struct {
	conn  *net.UDPConn
	cfg   Config
	logf  func(string, ...any)
	utp   atomic.Pointer[Handler]
	dht   *dhtConn
	v4    bool          // the socket is IPv4 only
	gro   bool          // reads may return several packets (UDP GRO)
	stop  atomic.Bool   // Serve is ending
	done  chan struct{} // closed when Serve returns
	serve atomic.Bool

	dhtIn, utpIn, overflow, noUTP, unknown, readErrors atomic.Uint64

	// dfMu is held shared by ordinary writes and exclusively while the
	// don't-fragment option is switched on for one probe.
	dfMu sync.RWMutex
}

// New builds a mux on conn (IPv4, IPv6 or dual-stack), which stays owned
// by the caller: the mux reads it only inside Serve and never closes it.
// It sets the socket's receive buffer (Config.ReadBuffer).
// On Linux, ordinary IPv4 packets are sent without the don't-fragment bit
// from now on, so that a path with a smaller MTU fragments them instead of
// dropping them (uTP probes the MTU with packets that do carry it).
func New(conn *net.UDPConn, cfg Config) *Mux {
	if cfg.DHTQueue <= 0 {
		cfg.DHTQueue = 512
	}
	if cfg.DHTQueueBytes <= 0 {
		cfg.DHTQueueBytes = 1 << 20
	}
	if cfg.ReadBuffer <= 0 {
		cfg.ReadBuffer = 4 << 20
	}
	m := &Mux{conn: conn, cfg: cfg, logf: cfg.Logf, done: make(chan struct{})}
	if m.logf == nil {
		m.logf = func(string, ...any) {}
	}
	if a, ok := conn.LocalAddr().(*net.UDPAddr); ok && a.IP.To4() != nil {
		m.v4 = true
	}
	m.dht = newDHTConn(m)
	if err := allowFragments(conn, m.v4); err != nil {
		m.logf("udpmux: %v", err)
	}
	m.gro = enableGRO(conn)
	if err := conn.SetReadBuffer(cfg.ReadBuffer); err != nil {
		m.logf("udpmux: setting the receive buffer: %v", err)
	}
	return m
}

// SetUTP makes h receive the uTP packets from now on; nil drops them.
func (m *Mux) SetUTP(h Handler) {
	if h == nil {
		m.utp.Store(nil)
		return
	}
	m.utp.Store(&h)
}

// DHT returns the view of the socket the DHT node reads and writes: its
// ReadFrom returns only KRPC packets, its SetReadDeadline affects only
// it, and its Close closes only the view.
func (m *Mux) DHT() net.PacketConn { return m.dht }

// Serve reads the socket until ctx ends (it returns nil) or the socket
// fails (it returns the error). Then the DHT view's reads fail with
// net.ErrClosed. A Mux serves once.
func (m *Mux) Serve(ctx context.Context) error {
	if !m.serve.CompareAndSwap(false, true) {
		return errors.New("udpmux: Serve called twice")
	}
	defer close(m.done)
	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		select {
		case <-ctx.Done():
			m.stop.Store(true)
			m.conn.SetReadDeadline(time.Unix(1, 0)) // wakes the reader
		case <-stopped:
		}
	}()
	err := m.readLoop()
	if ctx.Err() != nil {
		m.conn.SetReadDeadline(time.Time{})
		return nil
	}
	return err
}

// readLoop reads until the socket fails or the mux stops, retrying after
// transient errors.
func (m *Mux) readLoop() error {
	buf := make([]byte, 1<<16)
	for {
		err := m.readBatch(buf)
		if m.stop.Load() {
			return nil
		}
		if err == nil {
			continue
		}
		if errors.Is(err, net.ErrClosed) {
			return fmt.Errorf("reading UDP packets: %w", err)
		}
		m.readErrors.Add(1)
		m.logf("udpmux: reading: %v", err)
		time.Sleep(10 * time.Millisecond) // e.g. an ICMP error reported on Windows
	}
}

// dispatch sorts one packet.
func (m *Mux) dispatch(b []byte, from netip.AddrPort) {
	switch {
	case len(b) > 0 && b[0] == 'd':
		if m.dht.push(b, from) {
			m.dhtIn.Add(1)
		} else {
			m.overflow.Add(1)
		}
	case looksUTP(b):
		if h := m.utp.Load(); h != nil {
			m.utpIn.Add(1)
			(*h).HandlePacket(b, from)
		} else {
			m.noUTP.Add(1)
		}
	default:
		m.unknown.Add(1)
	}
}

// drained tells the uTP handler the socket is empty for now.
func (m *Mux) drained() {
	if h := m.utp.Load(); h != nil {
		(*h).Drained()
	}
}

// looksUTP is BEP 29's header test: 20 bytes at least, version 1, type
// 0 (DATA) to 4 (SYN).
func looksUTP(b []byte) bool {
	return len(b) >= 20 && b[0]&0x0f == 1 && b[0]>>4 <= 4
}

// WriteToUDPAddrPort sends b to addr.
func (m *Mux) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	m.dfMu.RLock()
	defer m.dfMu.RUnlock()
	return m.conn.WriteToUDPAddrPort(b, addr)
}

// WriteToUDPAddrPortDF sends b to addr with the don't-fragment bit set
// (on Linux; elsewhere it is an ordinary write). A packet larger than the
// MTU the system knows for that path fails with EMSGSIZE.
func (m *Mux) WriteToUDPAddrPortDF(b []byte, addr netip.AddrPort) (int, error) {
	m.dfMu.Lock()
	defer m.dfMu.Unlock()
	return writeDF(m.conn, m.v4, b, addr)
}

// LocalAddr is the socket's address.
func (m *Mux) LocalAddr() net.Addr { return m.conn.LocalAddr() }

// Stats returns a snapshot of the counters.
func (m *Mux) Stats() Stats {
	return Stats{
		DHT: m.dhtIn.Load(), UTP: m.utpIn.Load(), DHTOverflow: m.overflow.Load(),
		NoUTP: m.noUTP.Load(), Unknown: m.unknown.Load(), ReadErrors: m.readErrors.Load(),
	}
}
