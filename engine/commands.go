package engine

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
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
}

// AddTorrent adds a .torrent file's content. It returns the info hash, or
// an error describing why the file is not a usable torrent; the download
// itself starts on the engine goroutine. Adding a torrent that is already
// there is not an error: its extra peers are used.
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

// AddMagnet adds a magnet link; the metadata is fetched from peers.
func (e *Engine) AddMagnet(uri string, opt AddOptions) (string, error) {
	m, err := metainfo.ParseMagnet(uri)
	if err != nil {
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
		t.mu.Lock()
		sw := t.sw
		t.mu.Unlock()
		if sw != nil && len(peers) > 0 {
			sw.AddPeers(peers, swarm.SourceManual)
		}
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
		mi: mi, addedAt: added, paused: opt.Paused, state: StateDownloading}
	if t.paused {
		t.state = StatePaused
	}
	e.torrents[ih] = t
	e.order = append(e.order, ih)
	if mi != nil {
		e.saveTorrentFile(t)
	}
	e.saveList()
	e.emit(TorrentAdded{InfoHash: ih.String(), Name: t.name()})
	if !t.paused {
		t.start()
	}
}

// Remove removes a torrent; withData also deletes its downloaded files
// (never files it was seeding in place from where the user keeps them).
func (e *Engine) Remove(infoHash string, withData bool) {
	e.queue.put(func() {
		ih, err := parseHash(infoHash)
		t := e.torrents[ih]
		if err != nil || t == nil {
			return
		}
		t.stop()
		delete(e.torrents, ih)
		for i, h := range e.order {
			if h == ih {
				e.order = append(e.order[:i], e.order[i+1:]...)
				break
			}
		}
		if withData && len(t.sources) == 0 {
			if err := t.removeData(); err != nil {
				e.emit(Problem{InfoHash: infoHash, Name: t.name(), Err: fmt.Errorf("%w: %w", ErrRemovingData, err)})
			}
		}
		e.forget(t)
		e.saveList()
	})
}

// Pause stops a torrent's transfers and closes its connections.
func (e *Engine) Pause(infoHash string) { e.setPaused(infoHash, true) }

// Resume restarts a paused or failed torrent.
func (e *Engine) Resume(infoHash string) { e.setPaused(infoHash, false) }

func (e *Engine) setPaused(infoHash string, paused bool) {
	e.queue.put(func() {
		ih, err := parseHash(infoHash)
		if t := e.torrents[ih]; err == nil && t != nil {
			e.pauseTorrent(t, paused)
			e.saveList()
		}
	})
}

// PauseAll and ResumeAll act on every torrent.
func (e *Engine) PauseAll()  { e.setAllPaused(true) }
func (e *Engine) ResumeAll() { e.setAllPaused(false) }

func (e *Engine) setAllPaused(paused bool) {
	e.queue.put(func() {
		for _, t := range e.torrents {
			e.pauseTorrent(t, paused)
		}
		e.saveList()
	})
}

func (e *Engine) pauseTorrent(t *torrent, paused bool) {
	if paused {
		t.stop()
		t.paused = true
		t.mu.Lock()
		t.state, t.err, t.sw = StatePaused, nil, nil
		t.mu.Unlock()
		return
	}
	t.stop() // a failed torrent's goroutines have ended; clear them
	t.paused = false
	t.mu.Lock()
	t.state, t.err = StateDownloading, nil
	t.mu.Unlock()
	t.start()
}

// infoHashOf returns the info hash of whichever of mi and m is set.
func infoHashOf(mi *metainfo.MetaInfo, m *metainfo.Magnet) metainfo.Hash {
	if mi != nil {
		return mi.InfoHash
	}
	return m.InfoHash
}
