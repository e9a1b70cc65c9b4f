package engine

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/bitfield"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/storage"
	"github.com/swarmdrop/swarmdrop/engine/swarm"
	"github.com/swarmdrop/swarmdrop/engine/tracker"
)

// torrent is the engine's record of one torrent. The fields above mu are
// set when it is added and changed only by the Run goroutine; mu guards
// the rest, which the torrent's own goroutines update.
type torrent struct {
	e       *Engine
	ih      metainfo.Hash
	dir     string
	sources []string // explicit file paths (seeding created files in place)
	peers   []netip.AddrPort
	magnet  *metainfo.Magnet
	addedAt time.Time
	paused  bool
	cancel  context.CancelFunc
	done    chan struct{} // closed when the torrent's goroutines have ended

	mu        sync.Mutex
	mi        *metainfo.MetaInfo // nil while a magnet's metadata is unknown
	paths     []string           // mi's safe file paths, once computed for a snapshot
	sourceDir string             // where a torrent seeded in place has its files, once computed
	state     TorrentState
	err       string
	sw        *swarm.Swarm
	store     *storage.Torrent
	announcer *tracker.Announcer
	dht       TorrentDHTStatus
	checked   float64 // share verified during StateChecking
	finished  bool    // EventFinished sent
	wasDone   bool    // complete when it started (no EventFinished)
	pexPeers  int
}

// name returns the torrent's display name.
func (t *torrent) name() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.mi != nil {
		return t.mi.Info.Name
	}
	if t.magnet != nil && t.magnet.Name != "" {
		return t.magnet.Name
	}
	return t.ih.String()
}

// start runs the torrent's goroutines under the engine's context.
func (t *torrent) start() {
	if t.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(t.e.ctx)
	t.cancel = cancel
	t.done = make(chan struct{})
	t.e.wg.Add(1)
	go func() {
		defer t.e.wg.Done()
		defer close(t.done)
		err := t.run(ctx)
		t.mu.Lock()
		if err != nil && ctx.Err() == nil {
			t.state, t.err = StateError, err.Error()
		}
		t.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			t.e.emit(Event{Kind: EventError, InfoHash: t.ih.String(), Name: t.name(), Err: err.Error()})
		}
	}()
}

// stop ends the torrent's goroutines and waits for them.
func (t *torrent) stop() {
	if t.cancel == nil {
		return
	}
	t.cancel()
	<-t.done
	t.cancel = nil
}

// resumePath is where this torrent's resume state lives ("" = nowhere).
func (t *torrent) resumePath() string {
	if t.e.cfg.StateDir == "" {
		return ""
	}
	return storage.ResumePath(t.e.cfg.StateDir, t.ih)
}

// open opens storage for info and verifies what is on disk.
func (t *torrent) open(ctx context.Context, info *metainfo.Info) (*storage.Torrent, bitfield.Bitfield, error) {
	var st *storage.Torrent
	var err error
	if len(t.sources) > 0 {
		st, err = storage.OpenFiles(t.sources, info)
	} else {
		if err := os.MkdirAll(t.dir, 0o755); err != nil {
			return nil, bitfield.Bitfield{}, fmt.Errorf("creating download folder: %w", err)
		}
		st, err = storage.Open(t.dir, info)
	}
	if err != nil {
		return nil, bitfield.Bitfield{}, err
	}
	var trust *storage.Resume
	if p := t.resumePath(); p != "" {
		if r, err := storage.LoadResume(p); err == nil && r.InfoHash == t.ih {
			trust = r
		}
	}
	t.mu.Lock()
	t.state = StateChecking
	t.mu.Unlock()
	have, err := st.Verify(ctx, runtime.NumCPU(), trust, func(done, total int) {
		t.mu.Lock()
		if total > 0 {
			t.checked = float64(done) / float64(total)
		}
		t.mu.Unlock()
	})
	if err != nil {
		st.Close()
		return nil, bitfield.Bitfield{}, fmt.Errorf("checking existing data: %w", err)
	}
	return st, have, nil
}

// run opens storage (after fetching metadata for a magnet), runs the swarm
// and its peer sources until ctx ends or the torrent fails.
func (t *torrent) run(ctx context.Context) error {
	e := t.e
	t.mu.Lock()
	mi := t.mi
	t.mu.Unlock()
	cfg := swarm.Config{
		InfoHash:  t.ih,
		PeerID:    e.peerID,
		Port:      e.net.port,
		Limit:     e.limit,
		Hashers:   e.hashers,
		Memory:    e.memory,
		DownLimit: e.down,
		UpLimit:   e.up,
		Client:    e.client,
		Logf:      e.cfg.Logf,
	}
	if e.net.dht != nil {
		cfg.DHTPort = e.net.port
		node := e.net.dht
		cfg.OnDHTPort = func(a netip.AddrPort) { node.AddPeerDHTPort(a) }
	}
	var saver *storage.ResumeSaver
	var saverMu sync.Mutex
	startSaver := func(st *storage.Torrent, have bitfield.Bitfield) {
		if p := t.resumePath(); p != "" {
			saverMu.Lock()
			saver = storage.NewResumeSaver(p, st, t.ih, 2*time.Second)
			saver.Update(have)
			s := saver
			saverMu.Unlock()
			e.wg.Add(1)
			go func() {
				defer e.wg.Done()
				s.Serve(ctx)
			}()
		}
	}
	cfg.OnHave = func(have bitfield.Bitfield) {
		saverMu.Lock()
		s := saver
		saverMu.Unlock()
		if s != nil {
			s.Update(have)
		}
		if have.Full() {
			e.queue.put(e.publish) // say it is finished now, not at the next tick
		}
	}
	if mi != nil {
		st, have, err := t.open(ctx, &mi.Info)
		if err != nil {
			return err
		}
		defer st.Close()
		t.mu.Lock()
		t.store = st
		t.wasDone = have.Full()
		t.mu.Unlock()
		cfg.Info, cfg.InfoBytes, cfg.Storage, cfg.Have, cfg.Private = &mi.Info, mi.InfoBytes, st, have, mi.Info.Private
		startSaver(st, have)
	} else {
		t.mu.Lock()
		t.state = StateMetadata
		t.mu.Unlock()
		cfg.OnMetadata = func(raw []byte, info *metainfo.Info) (swarm.Storage, bitfield.Bitfield, error) {
			return t.gotMetadata(ctx, raw, info, startSaver)
		}
	}
	sw, err := swarm.New(cfg)
	if err != nil {
		return err
	}
	t.mu.Lock()
	t.sw = sw
	if t.state != StateMetadata {
		t.state = StateDownloading
	}
	t.mu.Unlock()
	e.routesMu.Lock()
	e.routes[t.ih] = sw
	e.routesMu.Unlock()
	defer func() {
		e.routesMu.Lock()
		delete(e.routes, t.ih)
		e.routesMu.Unlock()
	}()
	if t.magnet != nil { // first, so that they are labelled as the magnet's
		sw.AddPeers(parsePeers(t.magnet.Peers), swarm.SourceMagnet)
	}
	sw.AddPeers(t.peers, swarm.SourceManual)
	var wg sync.WaitGroup
	defer wg.Wait()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	private := mi != nil && mi.Info.Private
	if e.net.dht != nil && !private {
		if mi != nil && len(mi.Nodes) > 0 {
			e.net.dht.AddContacts(nodeStrings(mi.Nodes))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.lookupLoop(sctx, sw)
		}()
	}
	if tiers := t.trackerTiers(); len(tiers) > 0 {
		a := t.newAnnouncer(tiers, sw)
		t.mu.Lock()
		t.announcer = a
		t.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.Serve(sctx)
		}()
	}
	err = sw.Run(sctx)
	if err != nil {
		return describeStorageError(err)
	}
	return nil
}

// gotMetadata is called by the swarm when a magnet's info dictionary has
// been fetched: it keeps the metadata (so a restart does not fetch it
// again), opens storage and verifies what is on disk.
func (t *torrent) gotMetadata(ctx context.Context, raw []byte, info *metainfo.Info, startSaver func(*storage.Torrent, bitfield.Bitfield)) (swarm.Storage, bitfield.Bitfield, error) {
	mi := &metainfo.MetaInfo{Info: *info, InfoBytes: raw, InfoHash: t.ih}
	if t.magnet != nil && len(t.magnet.Trackers) > 0 {
		mi.Announce = t.magnet.Trackers[0]
		for _, tr := range t.magnet.Trackers {
			mi.AnnounceList = append(mi.AnnounceList, []string{tr})
		}
	}
	t.mu.Lock()
	t.mi = mi
	t.mu.Unlock()
	t.e.queue.put(func() { t.e.saveTorrentFile(t); t.e.saveList() })
	st, have, err := t.open(ctx, info)
	if err != nil {
		return nil, have, err
	}
	t.mu.Lock()
	t.store = st
	t.state = StateDownloading
	t.mu.Unlock()
	startSaver(st, have)
	return st, have, nil
}

// describeStorageError turns a storage failure into words for the user.
func describeStorageError(err error) error {
	switch {
	case errors.Is(err, storage.ErrNoSpace):
		return fmt.Errorf("no space left on the disk: %w (free some space, then resume)", err)
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("permission denied: %w", err)
	}
	return err
}

// parsePeers reads host:port strings, skipping bad ones.
func parsePeers(ss []string) []netip.AddrPort {
	var out []netip.AddrPort
	for _, s := range ss {
		if a, err := netip.ParseAddrPort(s); err == nil {
			out = append(out, a)
		}
	}
	return out
}

func nodeStrings(nodes []metainfo.Node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.String()
	}
	return out
}

// dataPath returns where the torrent's data starts on disk.
func (t *torrent) dataPath() string {
	if len(t.sources) > 0 {
		return t.sources[0]
	}
	return filepath.Join(t.dir, t.name())
}
