package engine

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/bitfield"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/storage"
	"github.com/swarmdrop/swarmdrop/engine/swarm"
)

// AddOptions are the choices made when adding a torrent.
type AddOptions struct {
	// Dir is the download folder; "" means the engine's.
	Dir string
	// Peers are addresses ("host:port" with an IP address) to connect to
	// directly, besides those the DHT, trackers and PEX find.
	Peers []string
	// Paused adds the torrent without starting it.
	Paused bool
	// Sources, when set, are the absolute paths of the torrent's files in
	// torrent order: the data is used where it is (seeding files the user
	// just made a torrent of) instead of under Dir.
	Sources []string
	// IgnoreSpace starts the download even when what it still has to
	// write does not fit in its folder's free space (checked otherwise
	// before anything is written, and at each resume).
	IgnoreSpace bool
	// Files holds each file's priority, by its place in the torrent's
	// file list (pad files included, their value ignored); nil wants
	// every file. See SetFilePriorities.
	Files []FilePriority
	// WaitForFiles holds the torrent in StateWaitingFiles once its
	// metadata is known (at once for a .torrent; when it arrives for a
	// magnet link), with nothing opened or written, until StartChosen.
	WaitForFiles bool
}

// AddTorrent adds a .torrent file's content. It returns the info hash, or
// an error describing why the file is not a usable torrent; the download
// itself starts on the engine goroutine. Adding a torrent that is already
// there is not an error: its extra peers are used, and TorrentDuplicate
// tells it.
func (e *Engine) AddTorrent(data []byte, opt AddOptions) (string, error) {
	mi, err := metainfo.Parse(data)
	if err != nil {
		return "", err
	}
	peers, err := parsePeerList(opt.Peers)
	if err != nil {
		return "", err
	}
	if len(opt.Sources) > 0 && len(opt.Sources) != len(mi.Info.Files) {
		return "", fmt.Errorf("%d source files for a torrent of %d files", len(opt.Sources), len(mi.Info.Files))
	}
	e.queue.put(func() { e.add(mi, nil, peers, opt, time.Now()) })
	return mi.InfoHash.String(), nil
}

// AddTorrentFile reads and adds a .torrent file.
func (e *Engine) AddTorrentFile(path string, opt AddOptions) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("opening torrent: %w", err)
	}
	if st.IsDir() {
		return "", fmt.Errorf("%s is a folder, not a .torrent file", path)
	}
	if st.Size() > metainfo.MaxTorrentSize {
		return "", fmt.Errorf("%s: %w: file of %d bytes is over the %d byte limit", path, metainfo.ErrInvalid, st.Size(), metainfo.MaxTorrentSize)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading torrent: %w", err)
	}
	ih, err := e.AddTorrent(data, opt)
	if err != nil {
		return "", fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return ih, nil
}

// AddMagnet adds a magnet link; the metadata is fetched from peers. An
// updatable link (BEP 46, xs=urn:btpk: and no xt) is followed instead
// (see Follow), and the ID returned is then the publication's
// (PublicationStatus.ID), not an info hash.
func (e *Engine) AddMagnet(uri string, opt AddOptions) (string, error) {
	m, err := metainfo.ParseMagnet(uri)
	if err != nil {
		if _, perr := metainfo.ParseMutableMagnet(uri); perr == nil {
			return e.Follow(uri, opt)
		}
		return "", err
	}
	peers, err := parsePeerList(opt.Peers)
	if err != nil {
		return "", err
	}
	e.queue.put(func() { e.add(nil, m, peers, opt, time.Now()) })
	return m.InfoHash.String(), nil
}

// parsePeerList reads "ip:port" peer addresses.
func parsePeerList(ss []string) ([]netip.AddrPort, error) {
	var out []netip.AddrPort
	for _, s := range ss {
		a, err := netip.ParseAddrPort(s)
		if err != nil {
			return nil, fmt.Errorf("peer address %q: want IP:port", s)
		}
		out = append(out, a)
	}
	return out, nil
}

// add records and starts a torrent (Run goroutine).
func (e *Engine) add(mi *metainfo.MetaInfo, m *metainfo.Magnet, peers []netip.AddrPort, opt AddOptions, added time.Time) {
	ih := infoHashOf(mi, m)
	if t := e.torrents[ih]; t != nil {
		e.duplicate(t, mi, m, peers)
		return
	}
	if old := e.leaving[ih]; old != nil {
		// Removed a moment ago and still stopping: added again once its
		// files are closed and its state forgotten.
		old.afterStop = append(old.afterStop, func() { e.add(mi, m, peers, opt, added) })
		return
	}
	dir := opt.Dir
	if dir == "" {
		dir = e.cfg.DownloadDir
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	if m != nil {
		// A magnet's x.pe peers are the torrent's own direct peers: kept in
		// the list like --peer ones, so a restart dials them again.
		for _, a := range parsePeers(m.Peers) {
			if !slices.Contains(peers, a) {
				peers = append(peers, a)
			}
		}
	}
	t := &torrent{e: e, ih: ih, dir: dir, sources: opt.Sources, peers: peers, magnet: m,
		mi: mi, addedAt: added, paused: opt.Paused, ignoreSpace: opt.IgnoreSpace,
		prio: slices.Clone(opt.Files), waitFiles: opt.WaitForFiles,
		down: swarm.NewRateLimit(0), up: swarm.NewRateLimit(0)}
	e.torrents[ih] = t
	e.order = append(e.order, ih)
	if !e.restoring { // else its file is where it was read, and the list is saved once at the end
		if mi != nil {
			e.saveTorrentFile(t)
		}
		e.listDirty = true // saved after this batch of commands: once for many adds
	}
	e.emit(TorrentAdded{InfoHash: ih.String(), Name: t.name()})
	if t.paused {
		t.state = StatePaused
		t.have, t.partial = e.savedHave(t)
		return
	}
	e.start(t)
}

// savedHave returns the pieces t's resume data says are verified, whole
// and partly kept, for a torrent shown paused without checking its files
// (Run goroutine).
func (e *Engine) savedHave(t *torrent) (have, partial bitfield.Bitfield) {
	if t.mi == nil || t.resumePath() == "" {
		return
	}
	r, err := storage.LoadResume(t.resumePath())
	if err != nil || r.InfoHash != t.ih || r.Have.Len() != t.mi.Info.NumPieces() {
		return
	}
	return r.Have, r.Partial
}

// Remove removes a torrent; withData also deletes its downloaded files
// (never files it was seeding in place from where the user keeps them).
// The torrent leaves the list at once; its files are deleted and its
// state forgotten once it has stopped.
func (e *Engine) Remove(infoHash string, withData bool) {
	e.queue.put(func() {
		ih, err := parseHash(infoHash)
		if t := e.torrents[ih]; err == nil && t != nil {
			e.removeTorrent(t, withData, nil)
		}
	})
}

// removeTorrent is Remove on the Run goroutine; then, when set, runs
// once t has stopped (its files closed).
func (e *Engine) removeTorrent(t *torrent, withData bool, then func()) {
	ih, infoHash := t.ih, t.ih.String()
	t.removed = true
	delete(e.torrents, ih)
	e.order = slices.DeleteFunc(e.order, func(h metainfo.Hash) bool { return h == ih })
	e.saveList()
	finish := func() {
		delete(e.leaving, ih)
		if withData && len(t.sources) == 0 && t.mi != nil {
			if err := storage.RemoveFiles(t.dir, &t.mi.Info); err != nil {
				e.emit(Problem{InfoHash: infoHash, Name: t.name(), Err: fmt.Errorf("%w: %w", ErrRemovingData, err)})
			}
		}
		e.forget(t)
		if then != nil {
			then()
		}
	}
	if t.run != nil || t.move != nil {
		e.leaving[ih] = t
	}
	e.stop(t, finish)
	e.changed = true
}

// Pause stops a torrent's transfers and closes its connections and files.
func (e *Engine) Pause(infoHash string) { e.withTorrent(infoHash, e.pause) }

// Resume restarts a paused or failed torrent, checking the free space
// again.
func (e *Engine) Resume(infoHash string) {
	e.withTorrent(infoHash, func(t *torrent) { e.resume(t, false) })
}

// ResumeIgnoringSpace restarts a paused or failed torrent without the
// free-space check: the user's "start anyway" after ErrNotEnoughSpace.
func (e *Engine) ResumeIgnoringSpace(infoHash string) {
	e.withTorrent(infoHash, func(t *torrent) { e.resume(t, true) })
}

// withTorrent runs f on the Run goroutine for the torrent named, then
// saves the list.
func (e *Engine) withTorrent(infoHash string, f func(*torrent)) {
	e.queue.put(func() {
		ih, err := parseHash(infoHash)
		if t := e.torrents[ih]; err == nil && t != nil {
			f(t)
			e.saveList()
			e.changed = true
		}
	})
}

// PauseAll and ResumeAll act on every torrent. Neither waits for a
// torrent to stop.
func (e *Engine) PauseAll()  { e.forAll(e.pause) }
func (e *Engine) ResumeAll() { e.forAll(func(t *torrent) { e.resume(t, false) }) }

func (e *Engine) forAll(f func(*torrent)) {
	e.queue.put(func() {
		for _, ih := range e.order {
			f(e.torrents[ih])
		}
		e.saveList()
		e.changed = true
	})
}

// pause stops t for good (Run goroutine): it shows as paused once its
// run has stopped.
func (e *Engine) pause(t *torrent) {
	t.paused = true
	if t.move != nil {
		return // the move goes on; the torrent stays stopped after it
	}
	if t.run == nil {
		t.state, t.err = StatePaused, nil
		return
	}
	e.stop(t, nil)
}

// resume starts t again (Run goroutine); ignoreSpace skips the free-space
// check this once.
func (e *Engine) resume(t *torrent, ignoreSpace bool) {
	t.paused = false
	if ignoreSpace {
		t.ignoreSpace = true
	}
	e.start(t)
}

// infoHashOf returns the info hash of whichever of mi and m is set.
func infoHashOf(mi *metainfo.MetaInfo, m *metainfo.Magnet) metainfo.Hash {
	if mi != nil {
		return mi.InfoHash
	}
	return m.InfoHash
}
