package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/storage"
	"github.com/swarmdrop/swarmdrop/internal/atomicfile"
)

// listEntry is one torrent in the saved list (StateDir/torrents.json). The
// .torrent itself is kept as StateDir/torrents/HASH.torrent; a magnet link
// whose metadata is not fetched yet is kept as its URI.
type listEntry struct {
	InfoHash string    `json:"info_hash"`
	Dir      string    `json:"dir"`
	Sources  []string  `json:"sources,omitempty"`
	Peers    []string  `json:"peers,omitempty"`
	Paused   bool      `json:"paused,omitempty"`
	AddedAt  time.Time `json:"added_at"`
	Magnet   string    `json:"magnet,omitempty"`
	// Files holds the file priorities (absent: every file normal);
	// WaitFiles a torrent waiting for StartChosen.
	Files     []FilePriority `json:"files,omitempty"`
	WaitFiles bool           `json:"wait_files,omitempty"`
	// DownLimit and UpLimit are its own rate limits (bytes/s; absent: none).
	DownLimit int64 `json:"down_limit,omitempty"`
	UpLimit   int64 `json:"up_limit,omitempty"`
}

func (e *Engine) listPath() string { return filepath.Join(e.cfg.StateDir, "torrents.json") }

func (e *Engine) torrentFilePath(ih metainfo.Hash) string {
	return filepath.Join(e.cfg.StateDir, "torrents", ih.String()+".torrent")
}

// saveList writes the torrent list (Run goroutine).
func (e *Engine) saveList() {
	if !e.cfg.KeepList || e.cfg.StateDir == "" {
		return
	}
	var list []listEntry
	for _, ih := range e.order {
		t := e.torrents[ih]
		le := listEntry{InfoHash: ih.String(), Dir: t.dir, Sources: t.sources, Paused: t.paused, AddedAt: t.addedAt,
			Files: t.prio, WaitFiles: t.waitFiles, DownLimit: t.down.Rate(), UpLimit: t.up.Rate()}
		for _, p := range t.peers {
			le.Peers = append(le.Peers, p.String())
		}
		if t.mi == nil && t.magnet != nil {
			le.Magnet = t.magnet.String()
		}
		list = append(list, le)
	}
	data, err := json.MarshalIndent(list, "", "  ")
	if err == nil {
		err = os.MkdirAll(e.cfg.StateDir, 0o700)
	}
	if err == nil {
		err = atomicfile.Write(e.listPath(), data, 0o600)
	}
	if err != nil {
		e.emit(Problem{Err: fmt.Errorf("saving the torrent list: %w", err)})
	}
}

// saveTorrentFile keeps a copy of the torrent's metadata in the state
// folder (Run goroutine).
func (e *Engine) saveTorrentFile(t *torrent) {
	if !e.cfg.KeepList || e.cfg.StateDir == "" {
		return
	}
	mi := t.mi
	if mi == nil {
		return
	}
	data, err := mi.Encode()
	if err == nil {
		err = os.MkdirAll(filepath.Dir(e.torrentFilePath(t.ih)), 0o700)
	}
	if err == nil {
		err = atomicfile.Write(e.torrentFilePath(t.ih), data, 0o600)
	}
	if err != nil {
		e.emit(Problem{InfoHash: t.ih.String(), Name: t.name(), Err: fmt.Errorf("saving the torrent: %w", err)})
	}
}

// maxListEntries bounds what is read back from a torrent list.
const maxListEntries = 100000

// parseList decodes a saved torrent list.
func parseList(data []byte) ([]listEntry, error) {
	var list []listEntry
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, err
	}
	if len(list) > maxListEntries {
		return nil, fmt.Errorf("%d torrents in the list, more than %d", len(list), maxListEntries)
	}
	return list, nil
}

// restoreList adds the torrents of the saved list (Run goroutine).
func (e *Engine) restoreList() {
	if e.cfg.StateDir == "" {
		return
	}
	data, err := os.ReadFile(e.listPath())
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	var list []listEntry
	if err == nil {
		list, err = parseList(data)
	}
	if err != nil {
		e.emit(Problem{Err: fmt.Errorf("reading the saved torrent list: %w", err)})
		return
	}
	for _, le := range list {
		ih, err := parseHash(le.InfoHash)
		if err != nil {
			continue
		}
		opt := AddOptions{Dir: le.Dir, Sources: le.Sources, Paused: le.Paused, Files: le.Files, WaitForFiles: le.WaitFiles}
		peers := parsePeers(le.Peers) // a damaged entry loses only itself
		if raw, err := os.ReadFile(e.torrentFilePath(ih)); err == nil {
			mi, err := metainfo.Parse(raw)
			if err == nil && mi.InfoHash == ih {
				e.add(mi, nil, peers, opt, le.AddedAt)
				e.restoreLimits(ih, le)
				continue
			}
		}
		if le.Magnet != "" {
			if m, err := metainfo.ParseMagnet(le.Magnet); err == nil && m.InfoHash == ih {
				e.add(nil, m, peers, opt, le.AddedAt)
				e.restoreLimits(ih, le)
				continue
			}
		}
		e.emit(Problem{InfoHash: le.InfoHash, Err: errors.New("a saved torrent could not be restored: its metadata is missing")})
	}
}

// restoreLimits gives the torrent ih restored from le its own rate
// limits (Run goroutine).
func (e *Engine) restoreLimits(ih metainfo.Hash, le listEntry) {
	if t := e.torrents[ih]; t != nil {
		t.down.SetRate(max(le.DownLimit, 0))
		t.up.SetRate(max(le.UpLimit, 0))
	}
}

// forget deletes what the state folder keeps for a removed torrent.
func (e *Engine) forget(t *torrent) {
	if e.cfg.StateDir == "" {
		return
	}
	os.Remove(storage.ResumePath(e.cfg.StateDir, t.ih))
	os.Remove(e.torrentFilePath(t.ih))
}
