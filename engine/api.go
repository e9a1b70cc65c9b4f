package engine

import (
	"time"
)

// Snapshot is the engine's state at one moment: plain values and copied
// slices, safe to keep and read from any goroutine. The engine sends a few
// per second on Snapshots(), dropping stale ones a slow reader missed.
type Snapshot struct {
	Time     time.Time
	Torrents []TorrentStatus // sorted by the time they were added
	// ListenPort is the TCP and UDP port we listen on (0 before listening).
	ListenPort int
	// ListenErr says why we could not listen, nil when listening.
	ListenErr error
	DHT       DHTStatus
	NAT       NATStatus
	LSD       LSDStatus
	RateDown  float64 // bytes per second over all torrents
	RateUp    float64
	Peers     int // connections over all torrents
}

// TorrentState is a torrent's state as the user sees it.
type TorrentState string

// Torrent states.
const (
	StateChecking    TorrentState = "checking"          // verifying data already on disk
	StateMetadata    TorrentState = "fetching metadata" // magnet link: asking peers for the info dictionary
	StateDownloading TorrentState = "downloading"
	StateSeeding     TorrentState = "seeding"
	StatePaused      TorrentState = "paused"
	StateError       TorrentState = "error"
)

// TorrentStatus describes one torrent.
type TorrentStatus struct {
	InfoHash string // 40 hex digits; the key for commands
	Name     string
	Dir      string // where the data is (Dir/Name...): the download folder, or where a created torrent's files are
	Size     int64  // total bytes (0 while a magnet's metadata is unknown)
	Progress float64
	State    TorrentState
	Err      error  // why the torrent stopped (State == StateError), in plain words
	Warning  string // a non-fatal problem worth showing (e.g. a tracker warning)
	// ResumeErr says why the last save of the resume data failed (it
	// wraps ErrResumeNotSaved and is retried); nil once a save works.
	ResumeErr   error
	RateDown    float64
	RateUp      float64
	Downloaded  int64 // payload bytes received this session
	Uploaded    int64
	Peers       int
	Seeds       int
	ETA         time.Duration // -1 when unknown
	PiecesHave  int
	PiecesTotal int
	PieceLength int64
	Have        []byte // wire bitfield of verified pieces, for the piece strip
	Private     bool
	Magnet      string
	AddedAt     time.Time
	Files       []FileStatus
	PeerList    []PeerStatus
	Trackers    []TrackerStatus
	DHT         TorrentDHTStatus
	PEXPeers    int // addresses learnt through PEX
}

// FileStatus is one file of a torrent.
type FileStatus struct {
	Index    int    // the file's place in the torrent's file list (pad files counted)
	Path     string // relative, sanitised
	Size     int64
	Progress float64
}

// PeerStatus is one connection.
type PeerStatus struct {
	Addr     string
	Client   string
	Source   string // "dht", "tracker", "pex", "incoming", "manual", "magnet"
	RateDown float64
	RateUp   float64
	Progress float64
	Flags    string // D/d U/u I E X, as in the peer list of other clients
}

// TrackerStatus is the last result of one tracker.
type TrackerStatus struct {
	URL          string
	Tier         int
	Working      bool
	LastAnnounce time.Time
	NextAnnounce time.Time
	Peers        int
	Seeders      int
	Leechers     int
	LastError    string
	LastWarning  string
}

// TorrentDHTStatus is what the DHT did for one torrent.
type TorrentDHTStatus struct {
	Enabled    bool // false for private torrents and with the DHT off
	LastLookup time.Time
	NextLookup time.Time
	PeersFound int
	Announced  bool
	LastErr    string
}

// DHTStatus describes our DHT node.
type DHTStatus struct {
	Enabled             bool
	NodeID              string
	Good                int
	Questionable        int
	Buckets             int
	IncomingQueries     uint64 // queries received: proof that others reach our UDP port
	LastBootstrap       time.Time
	LastBootstrapSource string
	TableSavedAt        time.Time
	LookupsInFlight     int
	// MyContact is our external IP:port when known (from UPnP), for the
	// user to give to friends.
	MyContact string
}

// NATState is where the UPnP port mapping stands.
type NATState string

// Port mapping states.
const (
	NATOff          NATState = "off"              // switched off: no mapping is held
	NATDiscovering  NATState = "discovering"      // looking for a gateway
	NATNoGateway    NATState = "no gateway found" // normal on many networks; retried now and then
	NATMapped       NATState = "mapped"           // TCP and UDP both forwarded
	NATPartlyMapped NATState = "partly mapped"    // only one of TCP and UDP forwarded
	NATError        NATState = "error"            // a gateway was found but refused both mappings
)

// NATStatus is the UPnP port mapping state.
type NATStatus struct {
	Enabled    bool
	State      NATState
	Gateway    string
	ExternalIP string
	TCP, UDP   PortMapping
}

// PortMapping is one protocol's mapping on the router.
type PortMapping struct {
	ExternalPort int
	Lease        time.Duration
	Err          string
}
