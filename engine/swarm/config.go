package swarm

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/bitfield"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// Config describes one torrent's swarm. InfoHash, PeerID and either Info
// (with Storage and Have) or nothing (a magnet link: the metadata is
// fetched from peers and handed to OnMetadata) are required.
type Config struct {
	InfoHash metainfo.Hash
	PeerID   [20]byte
	// Info is the torrent's validated info dictionary and InfoBytes its
	// raw bencoding (served to peers over BEP 9). Both nil for a magnet
	// link until the metadata is fetched.
	Info      *metainfo.Info
	InfoBytes []byte
	Storage   Storage
	// Have lists the pieces already verified whole on disk; Partial
	// those verified of which only the bytes of wanted files are kept
	// (see Content).
	Have, Partial bitfield.Bitfield
	// Files holds each file's priority (nil: all Normal); see
	// SetFilePriorities.
	Files []Priority
	// Port is our TCP listening port, sent in the extended handshake;
	// DHTPort our UDP port, sent in PORT messages (0: no DHT).
	Port, DHTPort int
	// IPv6 is our own IPv6 address, where peers may reach us on Port; the
	// extended handshake tells it to peers connected over IPv4 (BEP 10).
	// The zero Addr: none known.
	IPv6 netip.Addr
	// Private disables PEX (BEP 27); the caller keeps the DHT off too.
	Private bool
	// MaxPeers bounds this torrent's connections (default 60).
	MaxPeers int
	// MaxPeersPerIP bounds this torrent's connections to one IP address
	// (default 3), so that one address cannot take every slot.
	MaxPeersPerIP int
	// Limit, when set, bounds connections over all torrents (in total and
	// per IP address). Without it the swarm counts only its own.
	Limit *ConnLimit
	// Hashers, when set, verifies pieces for every torrent of the process;
	// without it the swarm uses a pool of its own.
	Hashers *HashPool
	// Memory, when set, is the piece-buffer budget shared by every torrent
	// of the process; without it the swarm has a budget of its own of
	// DefaultPieceMemory bytes.
	Memory *PieceMemory
	// DownLimit and UpLimit, when set, bound payload rates over all
	// torrents; OwnDownLimit and OwnUpLimit, when set, this torrent's
	// own, on top of those.
	DownLimit, UpLimit       *RateLimit
	OwnDownLimit, OwnUpLimit *RateLimit
	// Timing holds timeouts and intervals; zero fields take the defaults
	// of DefaultTiming.
	Timing Timing
	// Dial opens outgoing connections (default: net.Dialer with
	// Timing.HandshakeTimeout).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Refused, when set, is told of an outgoing connection the peer
	// closed during the handshake before sending a byte; true dials the
	// address again at once, once (the dialer may pick another transport).
	Refused func(net.Conn) bool
	// OnDHTPort receives the DHT address of peers that send PORT.
	OnDHTPort func(netip.AddrPort)
	// OnHave receives the verified pieces at most once a second while
	// they change, once more when every wanted piece is verified, and
	// after each SetFilePriorities.
	OnHave func(Pieces)
	// OnMetadata is called once when a magnet link's metadata has been
	// fetched and verified; it returns the storage to download into and
	// what it holds already.
	OnMetadata func(infoBytes []byte, info *metainfo.Info) (Content, error)
	// OnYourIP receives the address a peer says it sees us at (BEP 10
	// "yourip"), with the peer's own address.
	OnYourIP func(peer, seen netip.Addr)
	// Client is our name and version for the extended handshake.
	Client string
	// Logf, when set, receives debugging lines.
	Logf func(format string, args ...any)

	// startQueue, when set (by tests), is the request queue a connection
	// starts with instead of startQueue: a whole queue sent at once, as
	// when a peer unchokes us after a choke that rejected everything.
	startQueue int
}

// Timing holds a swarm's timeouts and intervals. A zero field means the
// value of DefaultTiming.
type Timing struct {
	// HandshakeTimeout bounds connecting and the handshake.
	HandshakeTimeout time.Duration
	// IdleTimeout: a peer that sends nothing this long is gone.
	IdleTimeout time.Duration
	// KeepAliveEvery: when we have sent nothing this long, a keep-alive.
	KeepAliveEvery time.Duration
	// WriteTimeout bounds one write to a peer that does not read.
	WriteTimeout time.Duration
	// RequestTimeout: a request unanswered this long goes to other peers
	// and the peer gets a short queue (snubbed).
	RequestTimeout time.Duration
	// RequestQueueTime is the most of a peer's measured rate we keep
	// requested from it (within the request queue bounds and its reqq):
	// enough to cover the round trip with room to spare. Peers whose
	// round trip the transport measures get less on short paths
	// (queueSpan).
	RequestQueueTime time.Duration
	// MetadataTimeout: a metadata piece unanswered this long is asked of
	// another peer; a peer that lets maxMetadataTimeouts pass is dropped.
	MetadataTimeout time.Duration
	// PEXEvery is the interval of our PEX messages; PEXMinIn the shortest
	// interval at which we take a peer's.
	PEXEvery, PEXMinIn time.Duration
	// RechokeEvery is the choking round; OptimisticEvery the rotation of
	// the optimistic unchoke; NewcomerTurn its rotation, checked every
	// tick, while some interested peer was never unchoked.
	RechokeEvery, OptimisticEvery, NewcomerTurn time.Duration
	// RedialMin is the wait before reconnecting to a peer that closed a
	// working connection; it doubles with each close in a row, up to
	// RedialMax, which also caps the wait after failed dials.
	RedialMin, RedialMax time.Duration
	// DialRetryMin is the wait after a first failed dial; it doubles with
	// each failure in a row, up to RedialMax.
	DialRetryMin time.Duration
	// EvictAfter is how long a connection may stay useless (no payload
	// either way) before a newcomer may take its slot in a full torrent.
	EvictAfter time.Duration
}

// DefaultTiming returns the timeouts and intervals used for zero fields.
func DefaultTiming() Timing {
	return Timing{
		HandshakeTimeout: 10 * time.Second,
		IdleTimeout:      4 * time.Minute,
		KeepAliveEvery:   90 * time.Second,
		WriteTimeout:     time.Minute,
		RequestTimeout:   20 * time.Second,
		RequestQueueTime: 1500 * time.Millisecond,
		MetadataTimeout:  5 * time.Second,
		PEXEvery:         time.Minute,
		PEXMinIn:         45 * time.Second,
		RechokeEvery:     10 * time.Second,
		OptimisticEvery:  30 * time.Second,
		NewcomerTurn:     3 * time.Second,
		RedialMin:        time.Second,
		RedialMax:        5 * time.Minute,
		DialRetryMin:     5 * time.Second,
		EvictAfter:       10 * time.Second,
	}
}

// withDefaults fills zero fields from DefaultTiming.
func (t Timing) withDefaults() Timing {
	d := DefaultTiming()
	for _, f := range []struct{ v, def *time.Duration }{
		{&t.HandshakeTimeout, &d.HandshakeTimeout}, {&t.IdleTimeout, &d.IdleTimeout},
		{&t.KeepAliveEvery, &d.KeepAliveEvery}, {&t.WriteTimeout, &d.WriteTimeout},
		{&t.RequestTimeout, &d.RequestTimeout}, {&t.RequestQueueTime, &d.RequestQueueTime},
		{&t.MetadataTimeout, &d.MetadataTimeout},
		{&t.PEXEvery, &d.PEXEvery}, {&t.PEXMinIn, &d.PEXMinIn},
		{&t.RechokeEvery, &d.RechokeEvery}, {&t.OptimisticEvery, &d.OptimisticEvery},
		{&t.NewcomerTurn, &d.NewcomerTurn},
		{&t.RedialMin, &d.RedialMin}, {&t.RedialMax, &d.RedialMax},
		{&t.DialRetryMin, &d.DialRetryMin}, {&t.EvictAfter, &d.EvictAfter},
	} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	return t
}

// withDefaults fills the zero fields of a Config.
func (c Config) withDefaults() Config {
	if c.MaxPeers <= 0 {
		c.MaxPeers = 60
	}
	if c.MaxPeersPerIP <= 0 {
		c.MaxPeersPerIP = DefaultMaxPeersPerIP
	}
	c.Timing = c.Timing.withDefaults()
	if c.Dial == nil {
		d := &net.Dialer{Timeout: c.Timing.HandshakeTimeout}
		c.Dial = d.DialContext
	}
	if c.Client == "" {
		c.Client = "Swarmdrop"
	}
	return c
}

// DefaultMaxPeersPerIP is the default of Config.MaxPeersPerIP.
const DefaultMaxPeersPerIP = 3
