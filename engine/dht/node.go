// Package dht is a Mainline DHT node (BEP 5): the routing table, iterative
// lookups, get_peers and announce_peer with tokens, a bounded peer store,
// abuse limits, BEP 42 node IDs, BEP 43 read-only mode, a saved table, and
// a routing-only mode for bootstrap routers.
//
// A Node is built by New and run by Serve; its methods are safe for
// concurrent use from any goroutine, before, during or after Serve.
package dht

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// Config configures a Node. Conn is required; every other field has a
// working zero value.
type Config struct {
	// Conn is the UDP socket, owned by the caller (the engine binds it on
	// the port number of its TCP listener). The node reads from it only
	// inside Serve and never closes it.
	Conn net.PacketConn
	// StateFile is where the routing table and our node ID are saved (on
	// exit and every SaveInterval) and loaded from; "" = no persistence.
	StateFile string
	// Bootstrap are "host:port" contacts used when the saved table is not
	// enough; host names are resolved when used.
	Bootstrap []string
	// Router makes a routing-only node: it answers find_node and get_peers
	// with contacts only, hands out no tokens, answers announce_peer with
	// error 204 and runs no lookups for torrents (GetPeers fails).
	Router bool
	// ReadOnly is BEP 43: the node sends queries marked `ro` and answers
	// none, so others keep it out of their tables.
	ReadOnly bool
	// Resolver resolves host names; nil uses net.DefaultResolver.
	Resolver func(ctx context.Context, host string) ([]netip.Addr, error)
	// Logf receives diagnostics; nil discards them.
	Logf func(format string, args ...any)

	// QueryTimeout is how long a query may go unanswered before it has
	// failed (default 2 s). A lookup stops waiting for a slow query after a
	// quarter of it and sends another.
	QueryTimeout time.Duration
	// MaintenanceInterval is how often questionable nodes are pinged and
	// an empty table re-bootstrapped (default 5 s).
	MaintenanceInterval time.Duration
	// RefreshInterval is how long a bucket may stay unchanged before a
	// lookup refreshes it (default 15 min, BEP 5).
	RefreshInterval time.Duration
	// SaveInterval is how often the table is saved (default 5 min).
	SaveInterval time.Duration
	// TokenRotation is how often the token secret changes (default 5 min;
	// tokens stay valid for one more period).
	TokenRotation time.Duration
	// PeerTTL is how long an announced peer is kept (default 30 min).
	PeerTTL time.Duration
	// QueryRate and QueryBurst limit the queries answered per IP address:
	// QueryRate per second on average, QueryBurst at once (defaults 10
	// and 50).
	QueryRate  float64
	QueryBurst int
}

// Limits of the node's memory and of what it answers.
const (
	maxPacket          = 4096 // larger UDP payloads are dropped
	maxValues          = 100  // peers in one get_peers reply
	alpha              = 4    // queries in flight per lookup
	maxLookupQueries   = 256  // queries one lookup may send
	maxPending         = 4096 // our queries awaiting an answer
	maxContactQueue    = 256  // AddContacts and AddPeerDHTPort entries waiting
	maxSeeds           = 64   // resolved contacts kept for re-bootstrap
	maxVerifying       = 256  // unknown nodes that queried us, being pinged
	totalQueryRate     = 2000 // queries per second answered from all addresses
	maxRateIPs         = 8192 // addresses the rate limiter tracks
	maxTorrents        = 2000 // info hashes in the peer store
	maxPeersPerTorrent = 200  // peers per info hash in the peer store
	maxPeersPerIP      = 2    // peers of one IP address per info hash in the peer store
)

// version is our `v` key: "SW" and a version number.
var version = []byte("SW\x00\x01")

// Errors callers may branch on.
var (
	ErrRouter  = errors.New("a routing-only node runs no lookups")
	ErrNoNodes = errors.New("no DHT node answered")
	ErrClosed  = errors.New("the DHT node has stopped")
	ErrBusy    = errors.New("too many DHT queries in flight")
	ErrTimeout = errors.New("no answer")
)

// Node is a DHT node. Build it with New; run it with Serve.
type Node struct {
	cfg  Config
	logf func(string, ...any)

	table   *routingTable
	tokens  *tokenSecrets
	peers   *peerStore
	limiter *rateLimiter
	rpc     *transactions
	// answerers are the addresses that answered us (verified sources);
	// credits count the bytes exchanged with the others.
	answerers *answerers
	credits   *credits

	contacts  chan string         // AddContacts, waiting
	portPeers chan netip.AddrPort // AddPeerDHTPort, waiting
	kick      chan struct{}       // one slot: bootstrap now
	done      chan struct{}       // closed when Serve returns
	served    atomic.Bool
	loaded    bool // the table came from the state file

	incoming, dropped, rateLimited atomic.Uint64
	unanswered                     atomic.Uint64 // queries whose reply would have exceeded its budget
	lookups                        atomic.Int64
	boots                          atomic.Int64 // bootstraps run

	// mu guards the fields below.
	mu                  sync.Mutex
	externalIP          netip.Addr
	ipFromUser          bool                      // externalIP came from SetExternalIP
	votes               map[netip.Addr]netip.Addr // voter -> the address it saw us at
	seeds               []netip.AddrPort          // resolved bootstrap contacts
	verifying           map[netip.AddrPort]bool   // unknown queriers being pinged
	nodesWait           chan struct{}             // closed when nodes may have become known; nil if nobody waits
	lastBootstrap       time.Time
	lastBootstrapSource string
	lostAt              time.Time // when a failed query last left the table without a good node
	savedAt             time.Time
}

// New builds a node from cfg and loads the saved table, if any. It starts
// no goroutine.
func New(cfg Config) (*Node, error) {
	if cfg.Conn == nil {
		return nil, errors.New("dht: Config.Conn is nil")
	}
	setDefault(&cfg.QueryTimeout, 2*time.Second)
	setDefault(&cfg.MaintenanceInterval, 5*time.Second)
	setDefault(&cfg.RefreshInterval, 15*time.Minute)
	setDefault(&cfg.SaveInterval, 5*time.Minute)
	setDefault(&cfg.TokenRotation, 5*time.Minute)
	setDefault(&cfg.PeerTTL, 30*time.Minute)
	if cfg.QueryRate <= 0 {
		cfg.QueryRate = 10
	}
	if cfg.QueryBurst <= 0 {
		cfg.QueryBurst = 50
	}
	n := &Node{
		cfg:       cfg,
		logf:      cfg.Logf,
		contacts:  make(chan string, maxContactQueue),
		portPeers: make(chan netip.AddrPort, maxContactQueue),
		kick:      make(chan struct{}, 1),
		done:      make(chan struct{}),
		votes:     map[netip.Addr]netip.Addr{},
		verifying: map[netip.AddrPort]bool{},
	}
	if n.logf == nil {
		n.logf = func(string, ...any) {}
	}
	now := time.Now()
	saved, err := loadTable(cfg.StateFile)
	if err != nil {
		n.logf("dht: %v; starting with an empty table", err)
	}
	self := randomID()
	if saved.ok {
		self = saved.id
		n.externalIP = saved.ip
	}
	n.table = newRoutingTable(self, now)
	for _, c := range saved.nodes {
		n.table.Add(c.ID, c.Addr, now)
	}
	n.loaded = n.table.Len() > 0
	n.tokens = newTokenSecrets(cfg.TokenRotation, now)
	n.peers = newPeerStore(maxTorrents, maxPeersPerTorrent, cfg.PeerTTL)
	n.limiter = newRateLimiter(cfg.QueryRate, float64(cfg.QueryBurst), maxRateIPs, totalQueryRate)
	n.rpc = newTransactions()
	n.answerers = newAnswerers()
	n.credits = newCredits()
	return n, nil
}

func setDefault(d *time.Duration, v time.Duration) {
	if *d <= 0 {
		*d = v
	}
}

// Serve runs the node until ctx ends: it answers queries, bootstraps,
// keeps the table fresh and saves it, and on return saves it once more.
// It returns nil when ctx ends, or the error that stopped it (such as the
// socket being closed). A Node serves once.
func (n *Node) Serve(ctx context.Context) error {
	if !n.served.CompareAndSwap(false, true) {
		return errors.New("dht: Serve called twice")
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	readErr := make(chan error, 1)
	wg.Add(3)
	go func() {
		defer wg.Done()
		readErr <- n.readLoop(ctx)
		cancel()
	}()
	go func() {
		defer wg.Done()
		n.maintain(ctx)
	}()
	go func() {
		defer wg.Done()
		n.contactLoop(ctx)
	}()
	<-ctx.Done()
	n.cfg.Conn.SetReadDeadline(time.Unix(1, 0)) // wakes the read loop
	wg.Wait()
	n.cfg.Conn.SetReadDeadline(time.Time{})
	close(n.done)
	err := <-readErr
	if serr := n.save(); serr != nil {
		n.logf("dht: %v", serr)
		if err == nil {
			err = serr
		}
	}
	return err
}

// readLoop reads and handles packets until ctx ends or the socket fails.
func (n *Node) readLoop(ctx context.Context) error {
	buf := make([]byte, 64<<10)
	udp, _ := n.cfg.Conn.(*net.UDPConn)
	s := &server{n: n}
	for {
		var size int
		var from netip.AddrPort
		var err error
		if udp != nil {
			size, from, err = udp.ReadFromUDPAddrPort(buf)
		} else {
			var a net.Addr
			size, a, err = n.cfg.Conn.ReadFrom(buf)
			from = addrPortOf(a)
		}
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("reading DHT packets: %w", err)
			}
			// E.g. an ICMP error reported on Windows: keep reading.
			n.logf("dht: reading: %v", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		if size > maxPacket || !from.IsValid() {
			n.dropped.Add(1)
			continue
		}
		s.handle(buf[:size], from)
	}
}

func addrPortOf(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.AddrPort()
	case nil:
		return netip.AddrPort{}
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

// write sends a packet.
func (n *Node) write(b []byte, to netip.AddrPort) error {
	if udp, ok := n.cfg.Conn.(*net.UDPConn); ok {
		_, err := udp.WriteToUDPAddrPort(b, to)
		return err
	}
	_, err := n.cfg.Conn.WriteTo(b, net.UDPAddrFromAddrPort(to))
	return err
}

// ID returns our node ID.
func (n *Node) ID() [20]byte { return n.table.Self() }

// Stats is a snapshot of a node's state.
type Stats struct {
	ID                  [20]byte
	Addr                string // the local address of the socket
	Good, Questionable  int    // nodes of the routing table by BEP 5 state
	Buckets             int
	IncomingQueries     uint64 // queries received: proof that others reach us
	RateLimited         uint64 // queries dropped by the rate limits
	Unanswered          uint64 // queries left unanswered: even a bare reply was more than their source may receive
	Dropped             uint64 // malformed or oversized packets
	LookupsInFlight     int
	LastBootstrap       time.Time // zero: not bootstrapped yet
	LastBootstrapSource string    // SourceSavedTable, SourceTable, SourceContacts, SourceAdded, SourcePeerPort or SourceIncoming
	TableSavedAt        time.Time
	Torrents, Peers     int        // the peer store's size
	ExternalIP          netip.Addr // as set or voted; invalid if unknown
}

// Stats returns a snapshot of the node's state.
func (n *Node) Stats() Stats {
	now := time.Now()
	g, q, b := n.table.Counts(now)
	st := Stats{
		ID: n.ID(), Good: g, Questionable: q, Buckets: b,
		IncomingQueries: n.incoming.Load(),
		RateLimited:     n.rateLimited.Load(),
		Unanswered:      n.unanswered.Load(),
		Dropped:         n.dropped.Load(),
		LookupsInFlight: int(n.lookups.Load()),
	}
	if a := n.cfg.Conn.LocalAddr(); a != nil {
		st.Addr = a.String()
	}
	st.Torrents, st.Peers = n.peers.Counts()
	n.mu.Lock()
	st.LastBootstrap, st.LastBootstrapSource = n.lastBootstrap, n.lastBootstrapSource
	st.TableSavedAt = n.savedAt
	st.ExternalIP = n.externalIP
	n.mu.Unlock()
	return st
}

// ClosestGood returns up to k good nodes of the routing table, the closest
// to our own ID first (for the `nodes` of a new torrent).
func (n *Node) ClosestGood(k int) []netip.AddrPort {
	var out []netip.AddrPort
	for _, c := range n.table.Closest(n.ID(), k, true, time.Now()) {
		out = append(out, c.Addr)
	}
	return out
}

// SetExternalIP tells the node our address as others see it (from UPnP).
// By BEP 42 the node ID is then derived from it, unless it already is;
// a new ID re-files the table and re-bootstraps. Local addresses are
// ignored.
func (n *Node) SetExternalIP(ip netip.Addr) {
	n.setExternalIP(ip.Unmap(), true)
}

func (n *Node) setExternalIP(ip netip.Addr, fromUser bool) {
	if exemptIP(ip) {
		return
	}
	n.mu.Lock()
	if !fromUser && n.ipFromUser || n.externalIP == ip && secureIDValid(n.table.Self(), ip) {
		n.mu.Unlock()
		return
	}
	n.externalIP = ip
	n.ipFromUser = n.ipFromUser || fromUser
	n.mu.Unlock()
	if secureIDValid(n.table.Self(), ip) {
		return
	}
	id := secureID(ip, randomID()[0])
	n.table.Reset(id, time.Now())
	n.logf("dht: external address %v: new node ID %x", ip, id)
	n.kickBootstrap()
}

// vote records the address a responder saw our query come from (BEP 42
// `ip`); once enough distinct responders agree on a public address it is
// taken as our external IP.
func (n *Node) vote(voter, seen netip.Addr) {
	const need, keep = 4, 32
	seen = seen.Unmap()
	if exemptIP(seen) || exemptIP(voter) {
		return
	}
	n.mu.Lock()
	if len(n.votes) >= keep {
		for v := range n.votes {
			delete(n.votes, v)
			break
		}
	}
	n.votes[voter] = seen
	count := 0
	for _, s := range n.votes {
		if s == seen {
			count++
		}
	}
	n.mu.Unlock()
	if count >= need {
		n.setExternalIP(seen, false)
	}
}

// query sends q to addr and waits for the answer, ctx or the node's end.
// A KRPC error reply is returned as a krpc.Error.
func (n *Node) query(ctx context.Context, addr netip.AddrPort, q krpc.Msg) (krpc.Msg, time.Duration, error) {
	out := make(chan result, 1)
	tid, err := n.send(addr, ID{}, q, func(r result) { out <- r })
	if err != nil {
		return krpc.Msg{}, 0, err
	}
	select {
	case r := <-out:
		if r.err == nil && r.msg.Y == krpc.KindError {
			r.err = r.msg.E
		}
		return r.msg, r.rtt, r.err
	case <-ctx.Done():
		n.rpc.cancel(tid)
		return krpc.Msg{}, 0, ctx.Err()
	case <-n.done:
		return krpc.Msg{}, 0, ErrClosed
	}
}

// nodesChanged wakes the lookups waiting for a first node.
func (n *Node) nodesChanged() {
	n.mu.Lock()
	if n.nodesWait != nil {
		close(n.nodesWait)
		n.nodesWait = nil
	}
	n.mu.Unlock()
}

// waitNodes returns a channel closed at the next nodesChanged.
func (n *Node) waitNodes() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.nodesWait == nil {
		n.nodesWait = make(chan struct{})
	}
	return n.nodesWait
}

func (n *Node) kickBootstrap() {
	select {
	case n.kick <- struct{}{}:
	default:
	}
}
