package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/swarmdrop/swarmdrop/engine"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/internal/printable"
)

func init() {
	register(command{name: "download", usage: "download [flags] FILE.torrent|MAGNET",
		summary: "Downloads one torrent; exits 0 once every piece is verified on disk.", run: func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
			return runTransfer(ctx, "download", args, stdout, stderr)
		}})
	register(command{name: "seed", usage: "seed [flags] FILE.torrent|UPDATABLE-LINK",
		summary: "Verifies the data already in --dir, then seeds until interrupted.\nAn updatable link (magnet:?xs=urn:btpk:...) is followed: each new version is downloaded.", run: func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
			return runTransfer(ctx, "seed", args, stdout, stderr)
		}})
}

// transferFlags are the flags of download and seed.
type transferFlags struct {
	dir, bind, nodes string
	port             int
	peers            stringList
	noDHT, noUPnP    bool
	noUTP            bool
	preferUTP        bool
	noLSD            bool
	seed, jsonOut    bool
	ignoreSpace      bool
	// follow keeps following an updatable link (BEP 46) after the
	// download; checkEvery is the wait between two looks for a new
	// version.
	follow     bool
	checkEvery time.Duration
}

// runTransfer is `swarmdrop download` and `swarmdrop seed`: one torrent,
// one engine, progress on stdout, until complete (download) or interrupted
// (seed, or download --seed).
func runTransfer(ctx context.Context, name string, args []string, stdout, stderr io.Writer) error {
	var f transferFlags
	fs := newFlagSet(name, stdout)
	fs.StringVar(&f.dir, "dir", "", "folder `DIR` where data goes (default: the settings' download folder)")
	fs.IntVar(&f.port, "port", -1, "TCP and UDP listening port `N` (0: any free port; default: the settings' port)")
	fs.StringVar(&f.bind, "bind", "", "listening address `ADDR` (default: all)")
	fs.Var(&f.peers, "peer", "connect to this peer (`HOST:PORT`) directly (repeatable)")
	fs.StringVar(&f.nodes, "nodes", "", "extra DHT bootstrap contacts, a `LIST` \"host:port, host:port\"")
	fs.BoolVar(&f.noDHT, "no-dht", false, "do not use the DHT")
	fs.BoolVar(&f.noUPnP, "no-upnp", false, "do not ask the router to forward the port")
	fs.BoolVar(&f.noUTP, "no-utp", false, "connect to peers over TCP only, not uTP")
	fs.BoolVar(&f.preferUTP, "prefer-utp", false, "dial peers over uTP first, TCP a second later (default: race both, TCP winning a tie)")
	fs.BoolVar(&f.noLSD, "no-lsd", false, "no local peer discovery: do not announce the torrent on the LAN (default: the settings' choice)")
	fs.BoolVar(&f.seed, "seed", name == "seed", "keep seeding after completion until interrupted")
	fs.BoolVar(&f.jsonOut, "json", false, "one JSON object per line on stdout")
	fs.BoolVar(&f.ignoreSpace, "ignore-space", false, "start even if the download does not fit in the free space of --dir")
	fs.BoolVar(&f.follow, "follow", name == "seed", "with an updatable link (magnet:?xs=urn:btpk:...): keep seeding and download each new version")
	fs.DurationVar(&f.checkEvery, "check-every", 15*time.Minute, "with --follow, look for a new version every `DURATION`")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: swarmdrop %s [flags] FILE.torrent|MAGNET", name)
	}
	target := pos[0]
	var link *metainfo.MutableMagnet
	if strings.HasPrefix(target, "magnet:") {
		l, err := metainfo.ParseMutableMagnet(target)
		if err != nil && !errors.Is(err, metainfo.ErrNoPublicKey) {
			return err
		}
		link = l
	}
	if f.checkEvery < time.Second {
		return usagef("--check-every: at least 1s")
	}
	if name == "seed" && link == nil && strings.HasPrefix(target, "magnet:") {
		return usagef("seed needs a .torrent file, not a magnet link")
	}
	extra, err := metainfo.ParseNodes(f.nodes)
	if err != nil {
		return usagef("--nodes: %v", err)
	}
	paths := CurrentPaths()
	settings, serr := LoadSettings(paths)
	if serr != nil {
		warnf(stderr, "%v", serr)
	}
	if f.dir == "" {
		f.dir = settings.DownloadDir
	}
	if f.port < 0 {
		f.port = settings.Port
	}
	boot := append(nodeStrings(settings.Contacts()), nodeStrings(extra)...)
	e, err := engine.New(engine.Config{
		StateDir: paths.StateDir, DownloadDir: f.dir, Port: f.port, Bind: f.bind,
		Bootstrap: boot, NoDHT: f.noDHT, NoUPnP: f.noUPnP || !settings.UPnP, NoUTP: f.noUTP || !settings.UTP, PreferUTP: f.preferUTP,
		NoLSD:          f.noLSD || !settings.LSD,
		MaxConnections: settings.MaxConnections, SnapshotEvery: 100 * time.Millisecond,
		MaxDownloadRate: settings.MaxDownloadRate, MaxUploadRate: settings.MaxUploadRate,
		Timing: engine.Timing{FollowCheck: f.checkEvery},
		Logf:   debugLog(stderr),
	})
	if err != nil {
		return err
	}
	opt := engine.AddOptions{Dir: f.dir, Peers: f.peers, IgnoreSpace: f.ignoreSpace}
	if link != nil {
		if f.noDHT {
			return usagef("an updatable link needs the DHT: drop --no-dht")
		}
		rep := &reporter{out: stdout, warn: stderr, jsonOut: f.jsonOut, start: time.Now()}
		return runFollow(ctx, e, target, opt, f, rep)
	}
	var ih string
	if strings.HasPrefix(target, "magnet:") {
		ih, err = e.AddMagnet(target, opt)
	} else {
		ih, err = e.AddTorrentFile(target, opt)
	}
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- e.Run(ctx) }()
	rep := &reporter{out: stdout, warn: stderr, jsonOut: f.jsonOut, start: time.Now()}
	err = watch(ctx, e, ih, f.seed, rep, runErr)
	cancel()
	if rerr := <-runErr; err == nil && rerr != nil {
		err = rerr
	}
	select {
	case s := <-e.Snapshots(): // the last, after the final resume save
		if ts, ok := findTorrent(s, ih); ok {
			rep.resumeWarning(ts)
		}
	default:
	}
	return err
}

// watch follows the torrent's snapshots until it completes (unless
// seeding), fails, or ctx ends.
func watch(ctx context.Context, e *engine.Engine, ih string, seed bool, rep *reporter, runErr chan error) error {
	announced := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-runErr:
			runErr <- err
			if err == nil {
				return nil
			}
			return err
		case s := <-e.Snapshots():
			if s.ListenErr != nil {
				return fmt.Errorf("%w (choose another port with --port)", s.ListenErr)
			}
			ts, ok := findTorrent(s, ih)
			if !ok {
				continue
			}
			rep.snap = s
			rep.progress(ts)
			rep.resumeWarning(ts)
			switch {
			case ts.State == engine.StateError:
				rep.event("error", ts, ts.Err.Error())
				if errors.Is(ts.Err, engine.ErrNotEnoughSpace) {
					return fmt.Errorf("%w; --ignore-space starts it anyway", ts.Err)
				}
				return ts.Err
			case ts.State == engine.StateSeeding && !announced:
				announced = true
				rep.event("complete", ts, "")
				if !seed {
					return nil
				}
			}
		}
	}
}

// debugLog returns a Logf that writes the engine's debugging lines to w,
// "debug: ..." each, when the environment variable SWARMDROP_DEBUG is set
// (benchmarks read them: make bench-swarm counts a seeder's uploads per
// piece); nil otherwise.
func debugLog(w io.Writer) func(format string, args ...any) {
	if os.Getenv("SWARMDROP_DEBUG") == "" {
		return nil
	}
	var mu sync.Mutex
	return func(format string, args ...any) {
		line := fmt.Sprintf("debug: "+format+"\n", args...)
		mu.Lock()
		io.WriteString(w, line)
		mu.Unlock()
	}
}

func findTorrent(s engine.Snapshot, ih string) (engine.TorrentStatus, bool) {
	for _, t := range s.Torrents {
		if t.InfoHash == ih {
			return t, true
		}
	}
	return engine.TorrentStatus{}, false
}

// reporter prints progress: JSON lines with --json, else a line a second;
// warnings go to warn (standard error), each kind once.
type reporter struct {
	out     io.Writer
	warn    io.Writer
	warned  bool // about resume data not saved
	jsonOut bool
	start   time.Time
	last    time.Time
	snap    engine.Snapshot // the latest, for the global fields
	updated bool            // a version of an updatable link completed
}

// progressLine is the --json object (see DESIGN.md's command line).
type progressLine struct {
	Event       string  `json:"event"`
	Name        string  `json:"name"`
	InfoHash    string  `json:"info_hash"`
	State       string  `json:"state"`
	PiecesHave  int     `json:"pieces_have"`
	PiecesTotal int     `json:"pieces_total"`
	Downloaded  int64   `json:"downloaded"`
	Uploaded    int64   `json:"uploaded"`
	Peers       int     `json:"peers"`
	RateDown    float64 `json:"rate_down"`
	RateUp      float64 `json:"rate_up"`
	Elapsed     float64 `json:"elapsed"`
	Error       string  `json:"error,omitempty"`
	// Port is our listening port; UPnP the port mapping state ("off",
	// "no gateway found", "mapped", ...) with the mapped external ports
	// and the router's external address.
	Port       int    `json:"port"`
	UPnP       string `json:"upnp"`
	MappedTCP  int    `json:"mapped_tcp,omitempty"`
	MappedUDP  int    `json:"mapped_udp,omitempty"`
	ExternalIP string `json:"external_ip,omitempty"`
	DHTNodes   int    `json:"dht_nodes"`
	// LSD is local peer discovery: "off", or the interfaces it announces
	// on ("eth0, wlan0"; "" when there is none); LSDTorrents how many
	// torrents it announces and LSDPeers how many peers it heard of.
	LSD         string `json:"lsd"`
	LSDTorrents int    `json:"lsd_torrents"`
	LSDPeers    uint64 `json:"lsd_peers"`
	// DHTSeeds and DHTPeers are the swarm's size as the DHT estimates it
	// (BEP 33 scrape), -1 while unknown (no scrape answered yet, a private
	// torrent, the DHT off); DHTScrapedAt is when the estimate came, in
	// Unix seconds (absent while unknown).
	DHTSeeds     int   `json:"dht_seeds"`
	DHTPeers     int   `json:"dht_peers"`
	DHTScrapedAt int64 `json:"dht_scraped_at,omitempty"`
}

func (r *reporter) line(ev string, ts engine.TorrentStatus, errText string) progressLine {
	return progressLine{
		Event: ev, Name: ts.Name, InfoHash: ts.InfoHash, State: string(ts.State),
		PiecesHave: ts.PiecesHave, PiecesTotal: ts.PiecesTotal,
		Downloaded: ts.Downloaded, Uploaded: ts.Uploaded, Peers: ts.Peers,
		RateDown: ts.RateDown, RateUp: ts.RateUp,
		Elapsed: time.Since(r.start).Seconds(), Error: errText,
		Port: r.snap.ListenPort, UPnP: string(r.snap.NAT.State), MappedTCP: r.snap.NAT.TCP.ExternalPort,
		MappedUDP: r.snap.NAT.UDP.ExternalPort, ExternalIP: r.snap.NAT.ExternalIP, DHTNodes: r.snap.DHT.Good,
		LSD: lsdText(r.snap.LSD), LSDTorrents: r.snap.LSD.Torrents, LSDPeers: r.snap.LSD.Peers,
		DHTSeeds: ts.DHTSeeds, DHTPeers: ts.DHTPeers, DHTScrapedAt: unixOrZero(ts.DHTScrapedAt),
	}
}

// unixOrZero is t in Unix seconds, 0 for the zero time.
func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// lsdText is local discovery's state for the --json line.
func lsdText(s engine.LSDStatus) string {
	if !s.Enabled {
		return "off"
	}
	return strings.Join(s.Interfaces, ", ")
}

func (r *reporter) progress(ts engine.TorrentStatus) {
	if time.Since(r.last) < time.Second {
		return
	}
	r.last = time.Now()
	if r.jsonOut {
		r.writeJSON(r.line("progress", ts, ""))
		return
	}
	fmt.Fprintf(r.out, "%s  %s  %d/%d pieces  %.1f%%  down %s/s  up %s/s  %d peers\n",
		printable.String(ts.Name), printable.String(string(ts.State)), ts.PiecesHave, ts.PiecesTotal, 100*ts.Progress,
		humanBytes(int64(ts.RateDown)), humanBytes(int64(ts.RateUp)), ts.Peers)
}

// resumeWarning says once on standard error that resume data cannot be
// saved (the engine keeps trying).
func (r *reporter) resumeWarning(ts engine.TorrentStatus) {
	if ts.ResumeErr == nil || r.warned || r.warn == nil {
		return
	}
	r.warned = true
	fmt.Fprintf(r.warn, "swarmdrop: warning: %s (a restart will check the data again)\n", oneLine(ts.ResumeErr.Error()))
}

func (r *reporter) event(ev string, ts engine.TorrentStatus, errText string) {
	if r.jsonOut {
		r.writeJSON(r.line(ev, ts, errText))
		return
	}
	if ev == "complete" {
		fmt.Fprintf(r.out, "%s  complete: %d pieces verified in %.1f s\n", printable.String(ts.Name), ts.PiecesTotal, time.Since(r.start).Seconds())
	}
}

func (r *reporter) writeJSON(v any) {
	b, _ := json.Marshal(v)
	r.out.Write(append(printable.JSON(b), '\n'))
}

func nodeStrings(ns []metainfo.Node) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.String()
	}
	return out
}

// humanBytes formats a byte count as 1.5 MiB and the like.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
