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
	"sync/atomic"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/swarm"
	"github.com/swarmdrop/swarmdrop/engine/tracker"
)

// Version is the engine's version, sent to peers as "Swarmdrop 0.1.0".
const Version = "0.1.0"

// Engine is the running client. See the package comment.
type Engine struct {
	cfg    Config
	timing Timing // cfg.Timing with defaults; never changes
	peerID [20]byte
	client string

	queue  cmdQueue
	snaps  chan Snapshot
	events chan Event

	// routes maps info hashes to swarms for the listener's goroutines;
	// routesMu guards it.
	routesMu sync.Mutex
	routes   map[metainfo.Hash]*swarm.Swarm

	// yourIP tallies the addresses peers say they see us at.
	yourIP contactVotes

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

	// msgs carries the torrents' services' messages (transitions,
	// "stopped") to the Run goroutine, as queue carries commands.
	msgs cmdQueue

	// Owned by the Run goroutine.
	torrents  map[metainfo.Hash]*torrent
	order     []metainfo.Hash
	leaving   map[metainfo.Hash]*torrent // removed, their run not stopped yet
	running   int                        // services started and not yet reported stopped
	net       *network
	listenErr error // why we do not listen, nil when we do
	// changed asks for a snapshot soon, rather than at the next tick;
	// lastSnap is when the last one was taken, snapCost how long it took.
	changed  bool
	lastSnap time.Time
	snapCost time.Duration
	ctx      context.Context
	// wg counts the goroutines Run waits for before returning: the
	// network's, the torrents' services and their stopped announces,
	// pings and creations.
	wg sync.WaitGroup

	nextReq atomic.Int64 // the last request id given

	// stops is the parent of the trackers' stopped announces; quitting
	// cancels it Timing.TrackerStop after it began, so that they share
	// that much time in all, however long the torrents take to stop.
	stops       context.Context
	cancelStops context.CancelFunc
	creates     map[int]context.CancelFunc
	// pubs are the publications published and followed (Run goroutine).
	pubs publications
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
		timing:   cfg.Timing.withDefaults(),
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
		leaving:  make(map[metainfo.Hash]*torrent),
		creates:  make(map[int]context.CancelFunc),
	}
	e.queue.init()
	e.msgs.init()
	e.stops, e.cancelStops = context.WithCancel(context.Background())
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
// state and returns. When it cannot listen on its port it says so in the
// snapshots (ListenErr) and keeps serving commands: torrents then use only
// the connections they open themselves, and ApplySettings with another
// port tries again. It returns nil.
func (e *Engine) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	e.ctx = ctx
	e.listen()
	if e.cfg.KeepList {
		e.restoreList()
		e.restorePublishing()
		e.restoreFollows()
	}
	tick := time.NewTicker(e.cfg.SnapshotEvery)
	defer tick.Stop()
	e.publish()
	var soon <-chan time.Time // a snapshot is due then
	for {
		select {
		case <-ctx.Done():
			e.shutdown()
			return nil
		case <-e.queue.ready:
			for _, c := range e.queue.take() {
				c()
			}
		case <-e.msgs.ready:
			for _, m := range e.msgs.take() {
				m()
			}
		case <-tick.C:
			e.changed = true
		case <-soon:
		}
		soon = nil
		if e.changed {
			// Changes are shown at once, but at most every
			// SnapshotEvery/10, and with at least four times the time
			// a snapshot takes in between, however many torrents change.
			gap := max(e.cfg.SnapshotEvery/10, 4*e.snapCost)
			if wait := gap - time.Since(e.lastSnap); wait > 0 {
				soon = time.After(wait)
			} else {
				e.publish()
			}
		}
	}
}

// shutdown waits for every torrent to stop (each run is a child of the
// engine's context, which has ended), still applying their messages so
// that, say, a magnet's metadata just fetched is kept; commands are not
// run any more. Then it waits for the other goroutines, saves the list
// and publishes a last snapshot (say, of a final resume save that
// failed).
func (e *Engine) shutdown() {
	t := time.AfterFunc(e.timing.TrackerStop, e.cancelStops)
	defer t.Stop()
	for e.running > 0 {
		<-e.msgs.ready
		for _, m := range e.msgs.take() {
			m()
		}
	}
	e.wg.Wait()
	e.saveList()
	e.publish()
}

// listen starts the network on the configured port, or records why it
// cannot (Run goroutine). Torrents already running are restarted, so
// that they announce the port.
func (e *Engine) listen() {
	n, err := e.startNetwork(e.ctx)
	if err != nil {
		e.listenErr = err
		if e.net == nil {
			e.setNet(&network{})
		}
		return
	}
	e.listenErr = nil
	e.setNet(n)
	for _, ih := range e.order {
		if t := e.torrents[ih]; t.run != nil && !t.run.stopping {
			e.stop(t, nil)
			t.restart = true
		}
	}
	e.changed = true
}

func (e *Engine) setNet(n *network) {
	e.netMu.Lock()
	e.net = n
	e.netMu.Unlock()
}

// emit sends an event without waiting.
func (e *Engine) emit(ev Event) {
	select {
	case e.events <- ev:
	default:
		e.logf("event dropped (nobody reading): %#v", ev)
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
