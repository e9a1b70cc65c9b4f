// Package engine is Swarmdrop's BitTorrent engine: one listening port (TCP
// for peers, UDP for the DHT), the DHT node, the UPnP helper, and one swarm
// per torrent, driven by commands and observed through snapshots and
// events (see api.go). The window and the command line both use it.
//
// New builds an engine and starts nothing; Run runs it until its context
// ends. The command methods only enqueue and are safe for concurrent use;
// the engine's state is owned by the Run goroutine.
package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/swarm"
	"github.com/swarmdrop/swarmdrop/engine/tracker"
)

// Version is the engine's version, sent to peers as "Swarmdrop 0.1.0".
const Version = "0.1.0"

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
	// NoDHT and NoUPnP turn those parts off.
	NoDHT  bool
	NoUPnP bool
	// MaxConnections bounds peer connections over all torrents (default 200).
	MaxConnections int
	// MaxDownloadRate and MaxUploadRate in bytes per second; 0 = no limit.
	MaxDownloadRate int64
	MaxUploadRate   int64
	// SnapshotEvery is the interval between snapshots (default 500 ms).
	SnapshotEvery time.Duration
	// Logf, when set, receives debugging lines.
	Logf func(format string, args ...any)
}

// Engine is the running client. See the package comment.
type Engine struct {
	cfg    Config
	peerID [20]byte
	client string

	queue  cmdQueue
	snaps  chan Snapshot
	events chan Event

	// routes maps info hashes to swarms for the listener's goroutines;
	// routesMu guards it.
	routesMu sync.Mutex
	routes   map[metainfo.Hash]*swarm.Swarm

	limit *swarm.ConnLimit
	down  *swarm.RateLimit
	up    *swarm.RateLimit
	trk   *tracker.Client
	// hashers and memory are shared by every torrent's swarm: one pool of
	// hashing goroutines sized to the cores, one piece-memory budget.
	hashers *swarm.HashPool
	memory  *swarm.PieceMemory

	// netMu guards net for readers outside the Run goroutine.
	netMu sync.Mutex

	// Owned by the Run goroutine.
	torrents map[metainfo.Hash]*torrent
	order    []metainfo.Hash
	net      *network
	ctx      context.Context
	wg       sync.WaitGroup
	nextReq  int
	creates  map[int]context.CancelFunc
}

// New builds an engine from cfg. It starts nothing.
func New(cfg Config) (*Engine, error) {
	if cfg.DownloadDir == "" {
		return nil, errors.New("engine: no download folder")
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = 200
	}
	if cfg.SnapshotEvery <= 0 {
		cfg.SnapshotEvery = 500 * time.Millisecond
	}
	e := &Engine{
		cfg:      cfg,
		client:   "Swarmdrop " + Version,
		snaps:    make(chan Snapshot, 1),
		events:   make(chan Event, 256),
		routes:   make(map[metainfo.Hash]*swarm.Swarm),
		limit:    swarm.NewConnLimit(cfg.MaxConnections),
		down:     swarm.NewRateLimit(cfg.MaxDownloadRate),
		up:       swarm.NewRateLimit(cfg.MaxUploadRate),
		hashers:  swarm.NewHashPool(0),
		memory:   swarm.NewPieceMemory(swarm.DefaultPieceMemory),
		torrents: make(map[metainfo.Hash]*torrent),
		creates:  make(map[int]context.CancelFunc),
	}
	e.queue.init()
	e.trk = tracker.NewClient(tracker.ClientConfig{Logf: cfg.Logf})
	// Azureus-style peer ID: client code SW, version 0100, then random.
	id, err := swarm.NewPeerID(Version)
	if err != nil {
		return nil, err
	}
	e.peerID = id
	return e, nil
}

// Snapshots returns the channel of state snapshots. It holds at most one:
// a reader that falls behind sees the newest, never a queue of stale ones.
func (e *Engine) Snapshots() <-chan Snapshot { return e.snaps }

// Events returns the channel of one-off events. Events are dropped, never
// waited for, when nobody reads them.
func (e *Engine) Events() <-chan Event { return e.events }

// Run runs the engine until ctx ends, then stops every torrent, saves
// state and returns. It returns an error only when it cannot start.
func (e *Engine) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	e.ctx = ctx
	n, err := e.startNetwork(ctx)
	if err != nil {
		return err
	}
	e.netMu.Lock()
	e.net = n
	e.netMu.Unlock()
	defer func() {
		cancel()
		for _, t := range e.torrents {
			t.stop()
		}
		e.wg.Wait()
		e.saveList()
	}()
	if e.cfg.KeepList {
		e.restoreList()
	}
	tick := time.NewTicker(e.cfg.SnapshotEvery)
	defer tick.Stop()
	e.publish()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-e.queue.ready:
			for _, c := range e.queue.take() {
				c()
			}
		case <-tick.C:
			e.publish()
		}
	}
}

// emit sends an event without waiting.
func (e *Engine) emit(ev Event) {
	select {
	case e.events <- ev:
	default:
		e.logf("event dropped (nobody reading): %s %s", ev.Kind, ev.Err)
	}
}

func (e *Engine) logf(format string, args ...any) {
	if e.cfg.Logf != nil {
		e.cfg.Logf(format, args...)
	}
}

// cmdQueue is an unbounded queue of commands for the Run goroutine, so
// that command methods never block. mu guards cmds.
type cmdQueue struct {
	mu    sync.Mutex
	cmds  []func()
	ready chan struct{}
}

func (q *cmdQueue) init() { q.ready = make(chan struct{}, 1) }

func (q *cmdQueue) put(c func()) {
	q.mu.Lock()
	q.cmds = append(q.cmds, c)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

func (q *cmdQueue) take() []func() {
	q.mu.Lock()
	defer q.mu.Unlock()
	c := q.cmds
	q.cmds = nil
	return c
}

// parseHash reads a 40-hex-digit info hash.
func parseHash(s string) (metainfo.Hash, error) {
	var h metainfo.Hash
	if len(s) != 40 {
		return h, fmt.Errorf("info hash %q is not 40 hex digits", s)
	}
	for i := 0; i < 20; i++ {
		var b byte
		for j := 0; j < 2; j++ {
			c := s[2*i+j]
			switch {
			case c >= '0' && c <= '9':
				b = b<<4 | (c - '0')
			case c >= 'a' && c <= 'f':
				b = b<<4 | (c - 'a' + 10)
			case c >= 'A' && c <= 'F':
				b = b<<4 | (c - 'A' + 10)
			default:
				return h, fmt.Errorf("info hash %q is not 40 hex digits", s)
			}
		}
		h[i] = b
	}
	return h, nil
}

// trackerClient returns the client shared by every torrent's announcer.
func (e *Engine) trackerClient() *tracker.Client { return e.trk }
