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
	// UTP says whether peers may connect over uTP (BEP 29) on the UDP
	// port, as well as over TCP.
	UTP      bool
	DHT      DHTStatus
	NAT      NATStatus
	LSD      LSDStatus
	RateDown float64 // bytes per second over all torrents
	RateUp   float64
	Peers    int // connections over all torrents
	// Publications are the updatable publications published and
	// followed, by ID.
	Publications []PublicationStatus
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
	// StateWaitingFiles: the metadata is known (a magnet link's has
	// arrived) and the torrent waits for the user's choice of files and
	// folder (AddOptions.WaitForFiles): nothing is opened or written
	// until StartChosen.
	StateWaitingFiles TorrentState = "waiting for file choice"
	// StateMoving: its data is being moved to another folder (Move);
	// TorrentStatus.Moving tells how far.
	StateMoving TorrentState = "moving"
)

// TorrentStatus describes one torrent.
type TorrentStatus struct {
	InfoHash string // 40 hex digits; the key for commands
	Name     string
	Dir      string // where the data is (Dir/Name...): the download folder, or where a created torrent's files are
	Size     int64  // total bytes (0 while a magnet's metadata is unknown)
	// Wanted is the bytes of the files not skipped (Size when none is).
	Wanted int64
	// Progress is the share of the wanted files' bytes verified, 0..1:
	// the same measure as each file's (FileStatus.Progress), so that
	// they agree. While checking, it is the share checked.
	Progress float64
	// State is StateSeeding once every wanted file is complete, skipped
	// files or not (as Transmission and qBittorrent show it): the torrent
	// then seeds what it has. PiecesHave < PiecesTotal tells a torrent
	// with skipped files apart.
	State   TorrentState
	Err     error  // why the torrent stopped (State == StateError), in plain words
	Warning string // a non-fatal problem worth showing (e.g. a tracker warning)
	// ResumeErr says why the last save of the resume data failed (it
	// wraps ErrResumeNotSaved and is retried); nil once a save works.
	ResumeErr  error
	RateDown   float64
	RateUp     float64
	Downloaded int64 // payload bytes received this session
	Uploaded   int64
	Peers      int
	Seeds      int
	ETA        time.Duration // -1 when unknown
	// PiecesHave counts the verified pieces: whole on disk, or, for a
	// piece shared with a skipped file, its wanted part.
	PiecesHave  int
	PiecesTotal int
	PieceLength int64
	Have        []byte // wire bitfield of the pieces PiecesHave counts, for the piece strip
	Private     bool
	Magnet      string
	AddedAt     time.Time
	Files       []FileStatus
	PeerList    []PeerStatus
	Trackers    []TrackerStatus
	DHT         TorrentDHTStatus
	// DHTSeeds and DHTPeers are the swarm's size as the DHT estimates it
	// (BEP 33 scrape, with each lookup of a non-private torrent): the
	// distinct addresses announced as seeds and as other peers, us
	// included once we have announced; good to a few percent up to a few
	// thousand. Both are -1 while unknown (no scrape answered yet, a
	// private torrent, the DHT off). DHTScrapedAt is when the estimate
	// came (zero while unknown); a later scrape that no node answers
	// leaves the last estimate and its time.
	DHTSeeds, DHTPeers int
	DHTScrapedAt       time.Time
	PEXPeers           int // addresses learnt through PEX
	// MaxDownloadRate and MaxUploadRate are this torrent's own limits in
	// bytes per second, on top of the engine's (0: none).
	MaxDownloadRate, MaxUploadRate int64
	// Moving is how far a move of its data has come, 0..1, with
	// StateMoving; 0 otherwise.
	Moving float64
}

// FileStatus is one file of a torrent.
type FileStatus struct {
	Index    int    // the file's place in the torrent's file list (pad files counted)
	Path     string // relative, sanitised
	Size     int64
	Progress float64 // the share of its bytes verified on disk, 0..1
	Priority FilePriority
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
	// Family is "IPv4" or "IPv6"; Transport is "TCP" or "uTP" (BEP 29).
	Family, Transport string
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
	// IPv4 and IPv6 are the last lookup in each DHT (BEP 32).
	IPv4, IPv6 DHTFamilyLookup
}

// DHTFamilyLookup is a torrent's last DHT lookup in one address family.
type DHTFamilyLookup struct {
	Looked    bool // the family is served and had a node to start from
	Answered  int  // nodes that answered
	Announced int  // nodes that took our announce
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
	// MyContact is our external IP:port when known, for the user to give
	// to friends; MyContactSource says where the address came from:
	// "UPnP" (the router's external address, when a port is mapped),
	// "DHT" (what DHT nodes that answered us agree they see, BEP 42
	// `ip`), "peers" (what peers say in their extended handshakes, BEP
	// 10 `yourip`), or "" when unknown. The port is our listening port.
	MyContact       string
	MyContactSource string
	// IPv4 and IPv6 are the two routing tables (BEP 32: one DHT per
	// family); Good, Questionable and Buckets above count both.
	IPv4, IPv6 DHTFamilyStatus
}

// DHTFamilyStatus is the routing table of one address family.
type DHTFamilyStatus struct {
	Served             bool // the node has a socket for this family
	Good, Questionable int
	Buckets            int
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
