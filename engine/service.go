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
	"github.com/swarmdrop/swarmdrop/engine/lsd"
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
	recheck     bool // verify every piece, trusting no resume data
	checkOnly   bool // stop once the data is checked
	waitFiles   bool // a magnet link's: hold once the metadata is known
	down, up    *swarm.RateLimit
	// spread delays the first DHT lookup of a complete torrent by a
	// random part of Timing.SeedLookupEvery (set for torrents restored
	// together from the saved list).
	spread     bool
	resumePath string
	port       int          // our listening port, 0 when not listening
	dht        *dht.Node    // nil with the DHT off
	dial       *peerDialer  // nil when not listening: TCP only
	ip6        netip.Addr   // our global IPv6 address, if known
	lsd        *lsd.Service // local peer discovery; nil when not listening
	// after is closed when the previous run's stopped announces are done
	// (nil: nothing to wait for); announced is closed when this run's
	// are.
	after     <-chan struct{}
	announced chan struct{}
}

// runResult is what a run ends with: why it failed (nil when it was
// stopped) and the pieces verified then.
type runResult struct {
	err           error
	have, partial bitfield.Bitfield
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

	// mu guards the fields below, set by whichever goroutine opens the
	// storage (Serve, or the swarm's for a magnet link), then by the
	// swarm's reports.
	mu      sync.Mutex
	st      *storage.Torrent
	saver   *storage.ResumeSaver
	have    bitfield.Bitfield // the pieces verified whole, as last told
	partial bitfield.Bitfield // the pieces partly kept, as last told
	// wasDone: every wanted file was complete when the storage was
	// checked (no TorrentFinished then); finished: the seeding
	// transition was told; wasFull and sentCompleted: every piece was
	// whole at the check, the tracker was told "completed".
	wasDone, finished      bool
	wasFull, sentCompleted bool
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
	st, have, partial := s.st, s.have, s.partial
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
	return runResult{err: err, have: have, partial: partial}
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
		IPv6:      spec.ip6,
		Logf:      e.cfg.Logf,
		OnHave:    func(p swarm.Pieces) { s.onHave(p) },
		OnYourIP:  e.yourIP.add,

		OwnDownLimit: spec.down,
		OwnUpLimit:   spec.up,
	}
	if spec.dial != nil {
		cfg.Dial = spec.dial.DialContext
		cfg.Refused = spec.dial.Refused
	}
	if spec.dht != nil {
		cfg.DHTPort = spec.port
		node := spec.dht
		cfg.OnDHTPort = func(a netip.AddrPort) { node.AddPeerDHTPort(a) }
	}
	mi := spec.mi
	if mi != nil {
		c, err := s.open(ctx, &mi.Info)
		if err != nil {
			return err
		}
		s.startSaver(ctx, go1, &mi.Info, c)
		if spec.checkOnly {
			return nil
		}
		cfg.Info, cfg.InfoBytes, cfg.Private = &mi.Info, mi.InfoBytes, mi.Info.Private
		cfg.Storage, cfg.Have, cfg.Partial, cfg.Files = c.Storage, c.Have, c.Partial, c.Files
	} else {
		cfg.OnMetadata = func(raw []byte, info *metainfo.Info) (swarm.Content, error) {
			return s.gotMetadata(ctx, go1, raw, info)
		}
	}
	sw, err := swarm.New(cfg)
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	s.r.sw = sw
	if s.r.allowed != nil {
		applyRestriction(sw, s.r.allowed)
	}
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
	go1(func() { s.filesLoop(ctx, sw) })
	if spec.magnet != nil { // first, so that they are labelled as the magnet's
		sw.AddPeers(parsePeers(spec.magnet.Peers), swarm.SourceMagnet)
	}
	sw.AddPeers(spec.peers, swarm.SourceManual)
	if spec.lsd != nil && !(mi != nil && mi.Info.Private) {
		// Announced on the LAN while it runs (a magnet's until its
		// metadata says it is private); its swarm is routed already, to
		// take the peers heard.
		spec.lsd.Add(spec.ih)
		defer spec.lsd.Remove(spec.ih)
	}
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
// info with the run's file priorities and verifies what is on disk. The
// storage is kept in s.st at once, so that Serve closes it on every path.
func (s *service) open(ctx context.Context, info *metainfo.Info) (swarm.Content, error) {
	spec := s.spec
	files := s.r.currentFiles()
	skip := swarm.SkipMask(info, files)
	var st *storage.Torrent
	var err error
	if len(spec.sources) > 0 {
		st, err = storage.OpenFiles(spec.sources, info)
	} else {
		if !spec.ignoreSpace {
			if err := checkSpace(spec.dir, info, skip); err != nil {
				return swarm.Content{}, err
			}
		}
		if err := os.MkdirAll(spec.dir, 0o755); err != nil {
			return swarm.Content{}, fmt.Errorf("creating download folder: %w", err)
		}
		st, err = storage.OpenSkipping(spec.dir, info, skip)
	}
	if err != nil {
		return swarm.Content{}, err
	}
	s.mu.Lock()
	s.st = st
	s.mu.Unlock()
	var trust *storage.Resume
	if p := spec.resumePath; p != "" && !spec.recheck {
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
		return swarm.Content{}, fmt.Errorf("checking existing data: %w", err)
	}
	partial := st.TrustedPartial(trust)
	for i := range partial.Len() {
		if have.Has(i) {
			partial.Clear(i)
		}
	}
	done := swarm.Done(info, files, have, partial)
	s.mu.Lock()
	s.have, s.partial = have, partial
	s.wasDone, s.finished = done, done
	s.wasFull = have.Full()
	s.resumeCurrent = resumeCurrent(trust, st, have, partial, swarm.SkipMask(info, files))
	s.mu.Unlock()
	state := StateDownloading
	if done {
		state = StateSeeding
	}
	s.e.tell(s.t, s.r, func() {
		s.t.state, s.t.have, s.t.partial = state, have, partial
		if done {
			s.e.versionSeeding(s.t)
		}
	})
	return swarm.Content{Storage: st, Have: have, Partial: partial, Files: files}, nil
}

// startSaver starts the resume saver of c's storage, if the torrent
// keeps resume data; it ends with ctx, after a final save.
func (s *service) startSaver(ctx context.Context, go1 func(func()), info *metainfo.Info, c swarm.Content) {
	if s.spec.resumePath == "" {
		return
	}
	r := s.r
	st := c.Storage.(*storage.Torrent)
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
		saver.Update(c.Have, c.Partial, swarm.SkipMask(info, c.Files))
	}
	go1(func() { saver.Serve(ctx) })
}

// onHave receives the verified pieces from the swarm: they go to the
// resume saver; the torrent turns to seeding when every wanted piece is
// verified, and back to downloading when a file is wanted again.
func (s *service) onHave(p swarm.Pieces) {
	s.mu.Lock()
	saver := s.saver
	s.have, s.partial = p.Have, p.Partial
	turnOn, turnOff := p.Done && !s.finished, !p.Done && s.finished
	if turnOn {
		s.finished = true
	}
	if turnOff {
		s.finished, s.wasDone = false, false
	}
	wasDone := s.wasDone
	completed := p.Complete && !s.wasFull && !s.sentCompleted
	if completed {
		s.sentCompleted = true
	}
	s.mu.Unlock()
	if saver != nil {
		saver.Update(p.Have, p.Partial, p.Skip)
	}
	s.r.mu.Lock()
	a := s.r.announcer
	s.r.mu.Unlock()
	if a != nil && completed {
		a.Completed()
	}
	t, e := s.t, s.e
	switch {
	case turnOn:
		e.tell(t, s.r, func() {
			t.state = StateSeeding
			e.versionSeeding(t)
			if !wasDone {
				e.emit(TorrentFinished{InfoHash: t.ih.String(), Name: t.name()})
			}
			e.changed = true // say it is finished now, not at the next tick
		})
	case turnOff:
		e.tell(t, s.r, func() {
			t.state = StateDownloading
			e.changed = true
		})
	}
}

// filesLoop hands new file priorities to the storage (which creates the
// files wanted again) and then to the swarm, until ctx ends.
func (s *service) filesLoop(ctx context.Context, sw *swarm.Swarm) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.r.filesKick:
		}
		files := s.r.currentFiles()
		s.mu.Lock()
		st := s.st
		s.mu.Unlock()
		if info, _ := sw.Info(); info != nil && st != nil {
			if err := st.SetSkipped(swarm.SkipMask(info, files)); err != nil && ctx.Err() == nil {
				s.e.emit(Problem{InfoHash: s.spec.ih.String(), Name: info.Name, Err: err})
			}
		}
		sw.SetFilePriorities(files)
	}
}

// gotMetadata is called by the swarm when a magnet's info dictionary has
// been fetched: the Run goroutine keeps the metadata (so that a restart
// does not fetch it again), and the storage is opened and verified; or,
// for a torrent waiting for the user's choice of files, the run ends
// there (errHeld) and the torrent waits in StateWaitingFiles.
func (s *service) gotMetadata(ctx context.Context, go1 func(func()), raw []byte, info *metainfo.Info) (swarm.Content, error) {
	mi := &metainfo.MetaInfo{Info: *info, InfoBytes: raw, InfoHash: s.spec.ih}
	if info.Private && s.spec.lsd != nil {
		s.spec.lsd.Remove(s.spec.ih) // BEP 27: no local discovery
	}
	for _, tr := range s.spec.trackers {
		if mi.Announce == "" {
			mi.Announce = tr
		}
		mi.AnnounceList = append(mi.AnnounceList, []string{tr})
	}
	t, e, r, hold := s.t, s.e, s.r, s.spec.waitFiles
	e.msgs.put(func() {
		if t.removed || t.mi != nil {
			return
		}
		t.mi = mi
		e.metadataKnown(t)
		if t.run == r && !r.stopping {
			t.state = StateChecking
			if hold {
				e.stop(t, nil) // shown waiting once stopped
			}
		}
		e.saveTorrentFile(t)
		e.saveList()
		e.changed = true
	})
	if hold {
		return swarm.Content{}, errHeld
	}
	c, err := s.open(ctx, info)
	if err != nil {
		return swarm.Content{}, err
	}
	s.startSaver(ctx, go1, info, c)
	return c, nil
}

// errHeld ends the run of a magnet link whose metadata arrived while it
// waits for the user's choice of files.
var errHeld = errors.New("waiting for the choice of files")

// checkSpace fails with ErrNotEnoughSpace when what the files of info
// not skipped still need under dir does not fit in the free space there. A system that cannot
// tell its free space passes.
func checkSpace(dir string, info *metainfo.Info, skip []bool) error {
	need, err := storage.SpaceNeeded(dir, info, skip)
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

// describeStorageError adds to a storage failure what the user can do
// about it. The storage's error already says what failed, on which file,
// and why ("writing piece 3 to /dl/a.bin: no space left on the disk"):
// nothing of that is said again.
func describeStorageError(err error) error {
	switch {
	case errors.Is(err, storage.ErrNoSpace):
		return fmt.Errorf("%w (free some space, then resume)", err)
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("%w (move the data to a folder you can write to, or change its permissions)", err)
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

// resumeCurrent reports whether the resume data trusted at the check
// already says what the check found: the same whole pieces and file
// stamps, and no partial piece or skipped file on either side (those are
// rewritten, to be safe).
func resumeCurrent(trust *storage.Resume, st *storage.Torrent, have, partial bitfield.Bitfield, skip []bool) bool {
	if trust == nil || !bytes.Equal(trust.Have.Bytes(), have.Bytes()) {
		return false
	}
	if partial.Count() > 0 || trust.Partial.Count() > 0 || slices.Contains(skip, true) || slices.Contains(trust.Skip, true) {
		return false
	}
	return slices.Equal(trust.Files, st.Stamps())
}
