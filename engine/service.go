package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"sync"

	"github.com/swarmdrop/swarmdrop/engine/bitfield"
	"github.com/swarmdrop/swarmdrop/engine/dht"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/storage"
	"github.com/swarmdrop/swarmdrop/engine/swarm"
	"github.com/swarmdrop/swarmdrop/engine/tracker"
)

// runSpec is what one run of a torrent's service starts from: copies of
// the torrent's record, taken by the Run goroutine, so that the service
// never reads the record itself.
type runSpec struct {
	ih          metainfo.Hash
	mi          *metainfo.MetaInfo // nil for a magnet link until its metadata arrives
	magnet      *metainfo.Magnet
	trackers    []string // a magnet link's
	dir         string
	sources     []string
	peers       []netip.AddrPort
	ignoreSpace bool
	// spread delays the first DHT lookup of a complete torrent by a
	// random part of Timing.SeedLookupEvery (set for torrents restored
	// together from the saved list).
	spread     bool
	resumePath string
	port       int       // our listening port, 0 when not listening
	dht        *dht.Node // nil with the DHT off
	// after is closed when the previous run's stopped announces are done
	// (nil: nothing to wait for); announced is closed when this run's
	// are.
	after     <-chan struct{}
	announced chan struct{}
}

// runResult is what a run ends with: why it failed (nil when it was
// stopped) and the pieces verified then.
type runResult struct {
	err  error
	have bitfield.Bitfield
}

// service is one run of a torrent: it owns the torrent's storage (for a
// .torrent file and a magnet link alike), its resume saver, its swarm,
// its tracker announcer and its DHT lookups, all ended by the context
// given to Serve. It tells the Run goroutine of its transitions
// (checking, downloading, seeding) by messages; t is only captured for
// those messages, which run on the Run goroutine.
type service struct {
	e    *Engine
	t    *torrent
	r    *torrentRun
	spec runSpec

	// mu guards st, saver, have and wasDone, set by whichever goroutine
	// opens the storage (Serve, or the swarm's for a magnet link).
	mu       sync.Mutex
	st       *storage.Torrent
	saver    *storage.ResumeSaver
	have     bitfield.Bitfield // the verified pieces as last told
	wasDone  bool              // complete when the storage was checked
	finished bool              // the seeding transition was told
	// resumeCurrent is set when the resume data on disk already says
	// what the check found (same pieces, same files): the saver then
	// has nothing to write until a piece changes.
	resumeCurrent bool
}

// Serve runs the torrent until ctx ends or it fails, and returns only
// once every goroutine it started has ended, its final resume data is
// saved and its storage is closed. The stopped announce to its trackers
// is handed to the engine, to go out after.
func (s *service) Serve(parent context.Context) runResult {
	ctx, cancel := context.WithCancel(parent)
	var children sync.WaitGroup
	var announcer *tracker.Announcer
	err := s.serve(ctx, &children, &announcer)
	cancel()
	children.Wait()
	s.mu.Lock()
	st, have := s.st, s.have
	s.mu.Unlock()
	if st != nil {
		if cerr := st.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("closing files: %w", cerr)
		}
	}
	s.announceStopped(announcer)
	if parent.Err() != nil {
		err = nil // stopped, not failed
	}
	return runResult{err: err, have: have}
}

// serve is Serve's body; the goroutines it starts are counted in
// children and end with ctx.
func (s *service) serve(ctx context.Context, children *sync.WaitGroup, announcer **tracker.Announcer) error {
	e, spec := s.e, s.spec
	go1 := func(f func()) {
		children.Add(1)
		go func() {
			defer children.Done()
			f()
		}()
	}
	cfg := swarm.Config{
		InfoHash:  spec.ih,
		PeerID:    e.peerID,
		Port:      spec.port,
		Limit:     e.limit,
		Hashers:   e.hashers,
		Memory:    e.memory,
		DownLimit: e.down,
		UpLimit:   e.up,
		Client:    e.client,
		Logf:      e.cfg.Logf,
		OnHave:    func(have bitfield.Bitfield) { s.onHave(have) },
	}
	if spec.dht != nil {
		cfg.DHTPort = spec.port
		node := spec.dht
		cfg.OnDHTPort = func(a netip.AddrPort) { node.AddPeerDHTPort(a) }
	}
	mi := spec.mi
	if mi != nil {
		st, have, err := s.open(ctx, &mi.Info)
		if err != nil {
			return err
		}
		s.startSaver(ctx, go1, st, have)
		cfg.Info, cfg.InfoBytes, cfg.Storage, cfg.Have, cfg.Private = &mi.Info, mi.InfoBytes, st, have, mi.Info.Private
	} else {
		cfg.OnMetadata = func(raw []byte, info *metainfo.Info) (swarm.Storage, bitfield.Bitfield, error) {
			return s.gotMetadata(ctx, go1, raw, info)
		}
	}
	sw, err := swarm.New(cfg)
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	s.r.sw = sw
	s.r.mu.Unlock()
	e.routesMu.Lock()
	e.routes[spec.ih] = sw
	e.routesMu.Unlock()
	defer func() {
		e.routesMu.Lock()
		if e.routes[spec.ih] == sw {
			delete(e.routes, spec.ih)
		}
		e.routesMu.Unlock()
	}()
	if spec.magnet != nil { // first, so that they are labelled as the magnet's
		sw.AddPeers(parsePeers(spec.magnet.Peers), swarm.SourceMagnet)
	}
	sw.AddPeers(spec.peers, swarm.SourceManual)
	if spec.dht != nil && !(mi != nil && mi.Info.Private) {
		if mi != nil && len(mi.Nodes) > 0 {
			spec.dht.AddContacts(nodeStrings(mi.Nodes))
		}
		go1(func() { s.lookupLoop(ctx, sw) })
	}
	if tiers := s.trackerTiers(); len(tiers) > 0 {
		a := s.newAnnouncer(tiers, sw)
		*announcer = a
		s.r.mu.Lock()
		s.r.announcer = a
		s.r.mu.Unlock()
		go1(func() {
			// The previous run's stopped event goes out first.
			if spec.after != nil {
				select {
				case <-spec.after:
				case <-ctx.Done():
					return
				}
			}
			a.Serve(ctx)
		})
	}
	if err := sw.Run(ctx); err != nil {
		return describeStorageError(err)
	}
	return nil
}

// announceStopped hands the stopped announce of a to the engine: it goes
// out in parallel with everything else, bounded by Timing.TrackerStop
// (and, when quitting, by the engine's stops), and closes spec.announced
// when done.
func (s *service) announceStopped(a *tracker.Announcer) {
	if a == nil {
		close(s.spec.announced)
		return
	}
	s.e.wg.Add(1)
	go func() {
		defer s.e.wg.Done()
		defer close(s.spec.announced)
		a.AnnounceStopped(s.e.stops)
	}()
}

// open checks the free space (unless told not to), opens storage for
// info and verifies what is on disk. The storage is kept in s.st at once,
// so that Serve closes it on every path.
func (s *service) open(ctx context.Context, info *metainfo.Info) (*storage.Torrent, bitfield.Bitfield, error) {
	spec := s.spec
	var st *storage.Torrent
	var err error
	if len(spec.sources) > 0 {
		st, err = storage.OpenFiles(spec.sources, info)
	} else {
		if !spec.ignoreSpace {
			if err := checkSpace(spec.dir, info); err != nil {
				return nil, bitfield.Bitfield{}, err
			}
		}
		if err := os.MkdirAll(spec.dir, 0o755); err != nil {
			return nil, bitfield.Bitfield{}, fmt.Errorf("creating download folder: %w", err)
		}
		st, err = storage.Open(spec.dir, info)
	}
	if err != nil {
		return nil, bitfield.Bitfield{}, err
	}
	s.mu.Lock()
	s.st = st
	s.mu.Unlock()
	var trust *storage.Resume
	if p := spec.resumePath; p != "" {
		if r, err := storage.LoadResume(p); err == nil && r.InfoHash == spec.ih {
			trust = r
		}
	}
	have, err := st.Verify(ctx, runtime.NumCPU(), trust, func(done, total int) {
		if total > 0 {
			s.r.mu.Lock()
			s.r.checked = float64(done) / float64(total)
			s.r.mu.Unlock()
		}
	})
	if err != nil {
		return nil, bitfield.Bitfield{}, fmt.Errorf("checking existing data: %w", err)
	}
	full := have.Full()
	current := trust != nil && bytes.Equal(trust.Have.Bytes(), have.Bytes()) && slices.Equal(trust.Files, st.Stamps())
	s.mu.Lock()
	s.have, s.wasDone, s.finished, s.resumeCurrent = have, full, full, current
	s.mu.Unlock()
	state := StateDownloading
	if full {
		state = StateSeeding
	}
	s.e.tell(s.t, s.r, func() { s.t.state = state })
	return st, have, nil
}

// startSaver starts the resume saver of st, if the torrent keeps resume
// data; it ends with ctx, after a final save.
func (s *service) startSaver(ctx context.Context, go1 func(func()), st *storage.Torrent, have bitfield.Bitfield) {
	if s.spec.resumePath == "" {
		return
	}
	r := s.r
	saver := storage.NewResumeSaver(storage.SaverConfig{
		Path: s.spec.resumePath, Torrent: st, InfoHash: s.spec.ih, Delay: s.e.timing.ResumeSaveEvery,
		Report: func(err error) {
			if err != nil {
				err = fmt.Errorf("%w: %w", ErrResumeNotSaved, err)
			}
			r.mu.Lock()
			r.saveErr = err
			r.mu.Unlock()
		},
	})
	s.mu.Lock()
	current := s.resumeCurrent
	s.saver = saver
	s.mu.Unlock()
	if !current {
		// Rewriting unchanged resume data of every torrent at each
		// start made 1,000 torrents sync 1,000 files at once.
		saver.Update(have)
	}
	go1(func() { saver.Serve(ctx) })
}

// onHave receives the verified pieces from the swarm: they go to the
// resume saver, and the first time they are complete the torrent turns
// to seeding.
func (s *service) onHave(have bitfield.Bitfield) {
	s.mu.Lock()
	saver := s.saver
	s.have = have
	turn := have.Full() && !s.finished
	if turn {
		s.finished = true
	}
	wasDone := s.wasDone
	s.mu.Unlock()
	if saver != nil {
		saver.Update(have)
	}
	if !turn {
		return
	}
	s.r.mu.Lock()
	a := s.r.announcer
	s.r.mu.Unlock()
	if a != nil && !wasDone {
		a.Completed()
	}
	t, e := s.t, s.e
	e.tell(t, s.r, func() {
		t.state = StateSeeding
		if !wasDone {
			e.emit(TorrentFinished{InfoHash: t.ih.String(), Name: t.name()})
		}
		e.changed = true // say it is finished now, not at the next tick
	})
}

// gotMetadata is called by the swarm when a magnet's info dictionary has
// been fetched: the Run goroutine keeps the metadata (so that a restart
// does not fetch it again), and the storage is opened and verified.
func (s *service) gotMetadata(ctx context.Context, go1 func(func()), raw []byte, info *metainfo.Info) (swarm.Storage, bitfield.Bitfield, error) {
	mi := &metainfo.MetaInfo{Info: *info, InfoBytes: raw, InfoHash: s.spec.ih}
	for _, tr := range s.spec.trackers {
		if mi.Announce == "" {
			mi.Announce = tr
		}
		mi.AnnounceList = append(mi.AnnounceList, []string{tr})
	}
	t, e := s.t, s.e
	e.msgs.put(func() {
		if t.removed || t.mi != nil {
			return
		}
		t.mi = mi
		if t.run == s.r && !s.r.stopping {
			t.state = StateChecking
		}
		e.saveTorrentFile(t)
		e.saveList()
	})
	st, have, err := s.open(ctx, info)
	if err != nil {
		return nil, have, err
	}
	s.startSaver(ctx, go1, st, have)
	return st, have, nil
}

// checkSpace fails with ErrNotEnoughSpace when what info still needs
// under dir does not fit in the free space there. A system that cannot
// tell its free space passes.
func checkSpace(dir string, info *metainfo.Info) error {
	need, err := storage.SpaceNeeded(dir, info)
	if err != nil || need == 0 {
		return err
	}
	free, err := storage.FreeSpace(dir)
	if errors.Is(err, storage.ErrFreeSpaceUnknown) {
		return nil
	}
	if err != nil {
		return err
	}
	if need > free {
		return fmt.Errorf("%w in %s: the download needs %s more, %s is free (free some space, or start it anyway)",
			ErrNotEnoughSpace, dir, sizeText(need), sizeText(free))
	}
	return nil
}

// sizeText writes a byte count for people: "3.0 MiB (3145728 bytes)".
func sizeText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB (%d bytes)", float64(n)/float64(div), "KMGTPE"[exp], n)
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
