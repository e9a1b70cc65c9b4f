package engine

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/bitfield"
	"github.com/swarmdrop/swarmdrop/engine/dht"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/storage"
	"github.com/swarmdrop/swarmdrop/engine/swarm"
	"github.com/swarmdrop/swarmdrop/engine/tracker"
)

// torrent is the engine's record of one torrent. It is owned by the Run
// goroutine: nothing else reads or writes its fields. While the torrent
// runs, its service (service.go) tells the Run goroutine of each
// transition by a message, and the record is updated there.
type torrent struct {
	e       *Engine
	ih      metainfo.Hash
	dir     string
	sources []string // explicit file paths (seeding created files in place)
	peers   []netip.AddrPort
	magnet  *metainfo.Magnet
	addedAt time.Time

	mi        *metainfo.MetaInfo // nil while a magnet's metadata is unknown
	paths     []string           // mi's safe file paths, once computed for a snapshot
	sourceDir string             // where a torrent seeded in place has its files, once computed
	// ihText is ih in hex, and link the magnet link of linkOf (or of
	// linkOfMagnet while the metadata is unknown), kept for snapshots.
	ihText       string
	link         string
	linkOf       *metainfo.MetaInfo
	linkOfMagnet *metainfo.Magnet

	// paused is the user's choice: the torrent stays stopped, also across
	// restarts. removed is set once Remove took it out of the list.
	paused, removed bool
	// ignoreSpace lets the next start skip the free-space check; recheck
	// has it verify every piece, trusting no resume data.
	ignoreSpace, recheck bool
	// waitFiles holds the torrent once its metadata is known, until
	// StartChosen (AddOptions.WaitForFiles).
	waitFiles bool
	// prio holds each file's priority (nil: all normal).
	prio []FilePriority
	// down and up are this torrent's own rate limits (never nil), set by
	// SetTorrentLimits.
	down, up *swarm.RateLimit
	// move is the move of its data in progress (Move), nil when none is.
	move *moveJob
	// allowed limits the pieces it uploads (nil: none limited): a
	// previous version of a followed publication (see restrictPrev).
	allowed *bitfield.Bitfield

	state   TorrentState
	err     error             // why it stopped, with StateError
	have    bitfield.Bitfield // the pieces verified whole as last known, shown while not running
	partial bitfield.Bitfield // likewise, those partly kept (shared with skipped files)

	// run is the current run of the service (starting, running or being
	// stopped), nil while stopped; last is the run before, kept for its
	// tracker and DHT status.
	run, last *torrentRun
	// restart starts the torrent again once its run has stopped;
	// afterStop are done then, in order.
	restart   bool
	afterStop []func()
	// announced is closed when the last run's stopped announces are done;
	// the next run waits for it before announcing anew.
	announced <-chan struct{}
}

// torrentRun is one run of a torrent's service. The Run goroutine creates
// it, cancels it and reads it; the service's goroutines write the fields
// under mu, each field by one of them.
type torrentRun struct {
	cancel   context.CancelFunc
	stopping bool // cancelled by the Run goroutine (Run goroutine only)

	mu        sync.Mutex
	sw        *swarm.Swarm
	announcer *tracker.Announcer
	checked   float64 // share verified while checking
	dht       TorrentDHTStatus
	scrape    dht.ScrapeResult // the last BEP 33 estimate with replies
	scrapedAt time.Time        // when it came; zero: none yet
	saveErr   error            // the last resume save failed with it
	// files is the latest file priority list (set by the Run goroutine);
	// filesKick tells the service that it changed.
	files     []swarm.Priority
	filesKick chan struct{}
	// allowed is the upload restriction of the torrent (set by the Run
	// goroutine), applied to sw (see restrict).
	allowed *bitfield.Bitfield
}

// setFiles hands the run new file priorities (any goroutine).
func (r *torrentRun) setFiles(files []swarm.Priority) {
	r.mu.Lock()
	r.files = files
	r.mu.Unlock()
	select {
	case r.filesKick <- struct{}{}:
	default:
	}
}

// currentFiles returns the latest file priorities.
func (r *torrentRun) currentFiles() []swarm.Priority {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.files
}

// runStatus is what the snapshot reads of a run.
type runStatus struct {
	sw        *swarm.Swarm
	announcer *tracker.Announcer
	checked   float64
	dht       TorrentDHTStatus
	scrape    dht.ScrapeResult
	scrapedAt time.Time
	saveErr   error
}

func (r *torrentRun) status() runStatus {
	if r == nil {
		return runStatus{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return runStatus{sw: r.sw, announcer: r.announcer, checked: r.checked, dht: r.dht, scrape: r.scrape, scrapedAt: r.scrapedAt, saveErr: r.saveErr}
}

// moving reports whether the torrent's data is being moved.
func (t *torrent) moving() bool { return t.move != nil }

// name returns the torrent's display name.
func (t *torrent) name() string {
	if t.mi != nil {
		return t.mi.Info.Name
	}
	if t.magnet != nil && t.magnet.Name != "" {
		return t.magnet.Name
	}
	return t.ih.String()
}

// resumePath is where this torrent's resume state lives ("" = nowhere).
func (t *torrent) resumePath() string {
	if t.e.cfg.StateDir == "" {
		return ""
	}
	return storage.ResumePath(t.e.cfg.StateDir, t.ih)
}

// start runs the torrent's service under the engine's context, unless
// it runs already (Run goroutine). A run being stopped is started again
// once it has stopped. A torrent waiting for its file choice, or whose
// data is being moved, is not started.
func (e *Engine) start(t *torrent) { e.startRun(t, false) }

// startRun is start; checkOnly ends the run once the data is checked
// (a re-check of a paused torrent).
func (e *Engine) startRun(t *torrent, checkOnly bool) {
	if t.removed || e.ctx.Err() != nil || t.move != nil {
		return
	}
	if t.waitFiles && t.mi != nil {
		t.state = StateWaitingFiles
		return
	}
	if t.run != nil {
		if t.run.stopping {
			t.restart = true
		}
		return
	}
	ctx, cancel := context.WithCancel(e.ctx)
	files := swarmFiles(t.prio)
	r := &torrentRun{cancel: cancel, files: files, filesKick: make(chan struct{}, 1), allowed: t.allowed}
	announced := make(chan struct{})
	spec := runSpec{
		ih: t.ih, mi: t.mi, magnet: t.magnet, dir: t.dir, sources: t.sources, peers: t.peers,
		ignoreSpace: t.ignoreSpace, resumePath: t.resumePath(), after: t.announced, announced: announced,
		recheck: t.recheck, checkOnly: checkOnly, waitFiles: t.waitFiles, down: t.down, up: t.up,
		spread: e.restoring,
	}
	if n := e.net; n != nil {
		spec.port, spec.dht, spec.dial, spec.ip6, spec.lsd = n.port, n.dht, n.dial, n.ip6, n.lsd
	}
	if t.magnet != nil {
		spec.trackers = t.magnet.Trackers
	}
	t.run, t.announced, t.ignoreSpace, t.recheck, t.err = r, announced, false, false, nil
	t.state = StateChecking
	if t.mi == nil {
		t.state = StateMetadata
	}
	s := &service{e: e, t: t, r: r, spec: spec}
	e.running++
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		res := s.Serve(ctx)
		e.msgs.put(func() { e.stopped(t, r, res) })
	}()
}

// stop cancels the torrent's run and the move of its data, if any, and
// has then done once they have stopped (at once when neither runs). It
// never waits (Run goroutine).
func (e *Engine) stop(t *torrent, then func()) {
	t.restart = false
	if t.run == nil && t.move == nil {
		if then != nil {
			then()
		}
		return
	}
	if then != nil {
		t.afterStop = append(t.afterStop, then)
	}
	if t.run != nil && !t.run.stopping {
		t.run.stopping = true
		t.run.cancel()
	}
	if t.move != nil {
		t.move.cancel()
	}
}

// tell has the Run goroutine apply a transition of run r of t, unless r
// was stopped or replaced meanwhile (any goroutine).
func (e *Engine) tell(t *torrent, r *torrentRun, f func()) {
	e.msgs.put(func() {
		if t.run == r && !r.stopping && !t.removed {
			f()
		}
	})
}

// stopped records the end of run r of t (Run goroutine): its final
// pieces, its error when it failed by itself, then what waited for the
// stop, then a restart if one was asked for.
func (e *Engine) stopped(t *torrent, r *torrentRun, res runResult) {
	e.running--
	r.cancel()
	if t.run == r {
		t.run = nil
	}
	t.last = r
	if res.have.Len() > 0 {
		t.have, t.partial = res.have, res.partial
	}
	if t.move != nil {
		// It stopped for its data to be moved: the move begins; what
		// waits for the stop waits for the move's end.
		e.beginMove(t)
		e.changed = true
		return
	}
	switch {
	case t.waitFiles && t.mi != nil:
		t.state, t.err = StateWaitingFiles, nil
	case res.err != nil && !r.stopping && e.ctx.Err() == nil:
		t.state, t.err = StateError, res.err
		e.emit(TorrentFailed{InfoHash: t.ih.String(), Name: t.name(), Err: res.err})
	case t.paused:
		t.state, t.err = StatePaused, nil
	}
	after := t.afterStop
	t.afterStop = nil
	for _, f := range after {
		f()
	}
	if t.restart && !t.paused {
		t.restart = false
		e.start(t)
	}
	e.changed = true
}
