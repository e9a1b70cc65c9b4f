package engine

import "time"

// Config sets up an engine. The zero value of each field is a sensible
// default, except DownloadDir.
type Config struct {
	// StateDir holds resume data, the DHT routing table and (with
	// KeepList) the torrent list. "" keeps nothing between runs.
	StateDir string
	// KeepList saves the torrent list in StateDir and restores it on start
	// (the window does; one-shot command-line downloads do not).
	KeepList bool
	// DownloadDir is where torrents go unless added with their own Dir.
	DownloadDir string
	// Port is the TCP and UDP port (0: any free port); Bind the address
	// to listen on ("" = all).
	Port int
	Bind string
	// Bootstrap are DHT contacts, "host:port".
	Bootstrap []string
	// NoDHT and NoUPnP turn those parts off. NoUTP turns uTP (BEP 29)
	// off: peer connections are then TCP only, for networks where UDP
	// is broken. NoLSD turns off local peer discovery (BEP 14:
	// announcing our torrents to the LAN by multicast and hearing others
	// there), which Settings.LSD switches while running.
	NoDHT  bool
	NoUPnP bool
	NoUTP  bool
	NoLSD  bool
	// PreferUTP dials peers over uTP first and TCP after
	// Timing.DialHeadStart, as libtorrent does; by default the two race,
	// TCP winning a near tie (see peerDialer).
	PreferUTP bool
	// MaxConnections bounds peer connections over all torrents (default 200).
	MaxConnections int
	// MaxDownloadRate and MaxUploadRate in bytes per second; 0 = no limit.
	MaxDownloadRate int64
	MaxUploadRate   int64
	// SnapshotEvery is the interval between snapshots (default 500 ms).
	SnapshotEvery time.Duration
	// Timing holds the engine's other intervals and deadlines.
	Timing Timing
	// Logf, when set, receives debugging lines.
	Logf func(format string, args ...any)
}

// Timing holds the engine's intervals and deadlines. A zero field takes
// its default, given in its comment.
type Timing struct {
	// LookupEvery is the interval between DHT lookups (and announces) of a
	// torrent (5 min); LookupRetry the wait after a lookup that found no
	// peer while the torrent is incomplete (15 s); LookupTimeout bounds one
	// lookup (60 s).
	LookupEvery, LookupRetry, LookupTimeout time.Duration
	// SeedLookupEvery is the interval between DHT lookups (and
	// announces) of a complete torrent (15 min, as libtorrent's
	// dht_announce_interval; nodes keep an announce 30 min). A torrent
	// already complete when the saved list is restored makes its first
	// lookup at a random moment within it, so that many seeds started
	// together do not all look up at once.
	SeedLookupEvery time.Duration
	// AnnounceRetry is the first wait after a DHT lookup or announce that
	// failed (no node answered, or none gave a token); it doubles after
	// each failure up to LookupEvery (5 s).
	AnnounceRetry time.Duration
	// TrackerStop bounds the "stopped" announces sent to trackers when a
	// torrent stops; they go out after the torrent is reported stopped,
	// in parallel, and quitting waits for them at most this long (1 s, as
	// libtorrent's stop_tracker_timeout).
	TrackerStop time.Duration
	// ResumeSaveEvery is the least time between two saves of a torrent's
	// resume data, and the wait before retrying a failed save (2 s).
	ResumeSaveEvery time.Duration
	// Handshake bounds the wait for the start of an incoming handshake
	// (10 s).
	Handshake time.Duration
	// Ping bounds a Ping of a bootstrap contact (5 s).
	Ping time.Duration
	// FollowCheck is the interval between two lookups of a new version
	// of a followed publication (15 min).
	FollowCheck time.Duration
	// DialHeadStart is how long an outgoing uTP attempt runs alone
	// before a TCP one joins it, when uTP goes first (Config.PreferUTP,
	// or an address where uTP won last), and the longest a uTP
	// connection that won a race waits for TCP (1 s).
	DialHeadStart time.Duration
}

// withDefaults returns tm with every zero field set to its default.
func (tm Timing) withDefaults() Timing {
	set := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	set(&tm.LookupEvery, 5*time.Minute)
	set(&tm.SeedLookupEvery, 15*time.Minute)
	set(&tm.LookupRetry, 15*time.Second)
	set(&tm.LookupTimeout, 60*time.Second)
	set(&tm.AnnounceRetry, 5*time.Second)
	set(&tm.TrackerStop, time.Second)
	set(&tm.ResumeSaveEvery, 2*time.Second)
	set(&tm.Handshake, 10*time.Second)
	set(&tm.Ping, 5*time.Second)
	set(&tm.FollowCheck, 15*time.Minute)
	set(&tm.DialHeadStart, time.Second)
	return tm
}
