// Package dht is a Mainline DHT node (BEP 5): the routing table, iterative
// lookups, get_peers and announce_peer with tokens, a bounded peer store,
// abuse limits, BEP 42 node IDs, BEP 43 read-only mode, BEP 33 scrapes,
// BEP 44 items (get and put), a saved table, and a routing-only mode for
// bootstrap routers.
//
// IPv6 (BEP 32). A node serves the IPv4 DHT, the IPv6 DHT or both, with one
// routing table per family and one node ID for both. Config.Conn's local
// address decides: a socket bound to an IPv4 address serves IPv4; one bound
// to "[::]" (what net.ListenPacket("udp", ":port") opens: a dual-stack
// socket) serves both; one bound to another IPv6 address serves IPv6. A
// caller that prefers two sockets on one port number ("udp4" and "udp6")
// passes the IPv6 one as Config.Conn6. Either way each family has its own
// contacts, lookups and maintenance; replies honour the query's `want`
// (n4, n6), `values` hold peers of the querier's family (6 or 18 bytes),
// Stats reports each table (Stats.IPv4, Stats.IPv6), and the state file
// keeps both tables (`nodes`, `nodes6`; files without `nodes6` load).
//
// Lookups. Lookup(ctx, infoHash, LookupOptions{Port: p}, found) hands found
// the peers announced to this node itself, then those its lookups find in
// each family, and announces us on TCP port p to the closest nodes; its
// LookupResult counts, per family, the nodes that answered and those that
// accepted the announce. An error wrapping ErrNotAnnounced means the lookup
// worked but no node accepted the announce: announce again within seconds.
// GetPeers is the same with only a port. With LookupOptions.Seed the
// announce says we seed (BEP 33 `seed`); with LookupOptions.Scrape the
// result estimates the swarm (LookupResult.Scrape: seeds and other peers)
// from the bloom filters of the nodes that answered and of our own store.
// The node answers scrapes with the two filters of what it stores.
//
// Items (BEP 44, for BEP 46's updatable torrents). Put(ctx, item, opts)
// stores an item (made with krpc.NewImmutableItem, or signed with
// krpc.SignItem) in our own store and on the K closest nodes of each
// family that give a token, with a compare-and-swap on request;
// Get(ctx, target, opts) looks an item up (our store, then the network),
// checks every item received (target, signature with the salt the caller
// gives, value) and returns the highest seq seen. A reader keeps an item
// alive by putting again what Get returned, signature and all. The node
// stores what others put, as BEP 44 says: a token as for announce_peer,
// values up to 1000 bytes (205), good signatures (206), salts up to 64
// bytes (207), CAS (301) and seq (302) rules; an item lives 2 hours after
// its last put. Put and the lookups of Get and Put pad their get queries
// so that a node holding unverified sources to twice their query (ours)
// can answer with a 1000-byte item; to a get without a pad, the node
// sends the item only when the reply fits in that budget (a verified
// source gets 8 times its query: a BEP 46 item fits), else the reply goes
// without it (Stats.ItemsWithheld).
//
// Abuse limits. The routing table holds one entry per IP address and, in
// each bucket, one per /24 (IPv4) or /64 (IPv6), local addresses exempt
// from the subnet rule. The peer store keeps one peer per IP address and
// torrent (BEP 33), at most 2 per IPv6 /64, 200 per torrent and 2,000
// torrents. The item store keeps 1,000 items (about 1.5 MB at most), of
// which one IP address (an IPv6 /64) may have created 64, later ones
// refused with error 201; when full, the item put by the fewest distinct
// addresses, least recently put, makes room. Queries are rate-limited per
// address and in total. A source that has not answered one of our queries
// gets, in replies and in the ping that verifies it, at most twice the
// bytes it sent us; our own lookup queries are padded so that nodes doing
// the same can answer them in full.
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
	// inside Serve and never closes it. Its local address says which
	// families it serves: an IPv4 address IPv4, "[::]" (a dual-stack
	// socket, what Go's "udp" network binds for an empty host) both, any
	// other IPv6 address IPv6; an address of another kind (a virtual
	// connection) counts as IPv4.
	Conn net.PacketConn
	// Conn6, if set, is a second socket for IPv6 (e.g. "udp6" on the same
	// port number); Conn then serves IPv4 only. Same ownership as Conn.
	Conn6 net.PacketConn
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
	// ItemTTL is how long an item put to us (BEP 44) is kept after its
	// last put (default ItemLifetime, 2 hours).
	ItemTTL time.Duration
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
	pathAlpha          = 2    // queries in flight per lookup while its answers bring new closer nodes
	alpha              = 4    // queries in flight per lookup once an answer brought none
	maxLookupQueries   = 256  // queries one lookup may send
	maxPending         = 4096 // our queries awaiting an answer
	maxContactQueue    = 256  // AddContacts and AddPeerDHTPort entries waiting
	maxSeeds           = 64   // resolved contacts kept for re-bootstrap
	maxVerifying       = 256  // unknown nodes that queried us, being pinged
	totalQueryRate     = 2000 // queries per second answered from all addresses
	maxRateIPs         = 8192 // addresses the rate limiter tracks
	maxTorrents        = 2000 // info hashes in the peer store
	maxPeersPerTorrent = 200  // peers per info hash in the peer store
	maxPeersPerNet6    = 2    // peers of one IPv6 /64 per info hash in the peer store (one per IP address)
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

	// conns and tables are indexed by family; nil for a family the node
	// does not serve. The tables share our node ID (BEP 32).
	conns   [2]net.PacketConn
	tables  [2]*routingTable
	tokens  *tokenSecrets
	peers   *peerStore
	items   *itemStore
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
	loaded    bool               // the table came from the state file
	unserved  [2][]krpc.NodeInfo // saved nodes of a family not served, saved again as they were

	incoming, dropped, rateLimited atomic.Uint64
	unanswered                     atomic.Uint64 // queries whose reply would have exceeded its budget
	withheld                       atomic.Uint64 // get replies sent without their item, which did not fit the budget
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
	v4, v6 := connFamilies(cfg.Conn)
	if cfg.Conn6 != nil {
		if _, ok := connFamilies(cfg.Conn6); !ok {
			return nil, fmt.Errorf("dht: Config.Conn6 is bound to %v, not an IPv6 address", cfg.Conn6.LocalAddr())
		}
		if !v4 {
			return nil, fmt.Errorf("dht: Config.Conn (%v) serves no IPv4 next to Config.Conn6", cfg.Conn.LocalAddr())
		}
		v6 = false
	}
	setDefault(&cfg.QueryTimeout, 2*time.Second)
	setDefault(&cfg.MaintenanceInterval, 5*time.Second)
	setDefault(&cfg.RefreshInterval, 15*time.Minute)
	setDefault(&cfg.SaveInterval, 5*time.Minute)
	setDefault(&cfg.TokenRotation, 5*time.Minute)
	setDefault(&cfg.PeerTTL, 30*time.Minute)
	setDefault(&cfg.ItemTTL, ItemLifetime)
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
	if v4 {
		n.conns[ipv4] = cfg.Conn
	}
	if v6 {
		n.conns[ipv6] = cfg.Conn
	}
	if cfg.Conn6 != nil {
		n.conns[ipv6] = cfg.Conn6
	}
	for _, f := range families {
		if n.conns[f] == nil {
			n.unserved[f] = saved.nodes[f]
			continue
		}
		n.tables[f] = newRoutingTable(self, now)
		for _, c := range saved.nodes[f] {
			n.tables[f].Add(c.ID, c.Addr, now)
		}
		n.loaded = n.loaded || n.tables[f].Len() > 0
	}
	n.tokens = newTokenSecrets(cfg.TokenRotation, now)
	n.peers = newPeerStore(maxTorrents, maxPeersPerTorrent, cfg.PeerTTL)
	n.items = newItemStore(maxItems, maxItemsPerHost, cfg.ItemTTL)
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
	defer cancel()
	var wg sync.WaitGroup
	conns := n.sockets()
	readErr := make(chan error, len(conns))
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			readErr <- n.readLoop(ctx, c)
			cancel()
		}()
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		n.maintain(ctx)
	}()
	go func() {
		defer wg.Done()
		n.contactLoop(ctx)
	}()
	<-ctx.Done()
	for _, c := range conns {
		c.SetReadDeadline(time.Unix(1, 0)) // wakes the read loop
	}
	wg.Wait()
	for _, c := range conns {
		c.SetReadDeadline(time.Time{})
	}
	close(n.done)
	var err error
	for range conns {
		if e := <-readErr; e != nil && err == nil {
			err = e
		}
	}
	if serr := n.save(); serr != nil {
		n.logf("dht: %v", serr)
		if err == nil {
			err = serr
		}
	}
	return err
}

// sockets returns the distinct sockets of the node.
func (n *Node) sockets() []net.PacketConn {
	out := []net.PacketConn{n.cfg.Conn}
	if n.cfg.Conn6 != nil {
		out = append(out, n.cfg.Conn6)
	}
	return out
}

// readLoop reads and handles packets from conn until ctx ends or the
// socket fails.
func (n *Node) readLoop(ctx context.Context, conn net.PacketConn) error {
	buf := make([]byte, 64<<10)
	udp, _ := conn.(*net.UDPConn)
	s := &server{n: n}
	for {
		var size int
		var from netip.AddrPort
		var err error
		if udp != nil {
			size, from, err = udp.ReadFromUDPAddrPort(buf)
		} else {
			var a net.Addr
			size, a, err = conn.ReadFrom(buf)
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
		if size > maxPacket || !from.IsValid() || n.tables[familyOf(from.Addr())] == nil {
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
	conn := n.conns[familyOf(to.Addr())]
	if conn == nil {
		return fmt.Errorf("no %v socket", familyOf(to.Addr()))
	}
	if udp, ok := conn.(*net.UDPConn); ok {
		_, err := udp.WriteToUDPAddrPort(b, to)
		return err
	}
	_, err := conn.WriteTo(b, net.UDPAddrFromAddrPort(to))
	return err
}

// primary returns the table of the first family served.
func (n *Node) primary() *routingTable {
	if n.tables[ipv4] != nil {
		return n.tables[ipv4]
	}
	return n.tables[ipv6]
}

// tableOf returns the table of addr's family, nil if not served.
func (n *Node) tableOf(addr netip.AddrPort) *routingTable {
	return n.tables[familyOf(addr.Addr())]
}

// servedTables returns the tables of the families served.
func (n *Node) servedTables() []*routingTable {
	var out []*routingTable
	for _, t := range n.tables {
		if t != nil {
			out = append(out, t)
		}
	}
	return out
}

// good returns the number of good nodes in all tables.
func (n *Node) good(now time.Time) int {
	g := 0
	for _, t := range n.servedTables() {
		x, _, _ := t.Counts(now)
		g += x
	}
	return g
}

// ID returns our node ID.
func (n *Node) ID() [20]byte { return n.primary().Self() }

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
