package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/publish"
	"github.com/swarmdrop/swarmdrop/internal/atomicfile"
)

// followEntry is one followed publication in StateDir/follows.json: the
// link, the folder, whether auto-update is on, and the current version
// with its signed item (to keep putting it after a restart).
type followEntry struct {
	Link       string `json:"link"`
	Dir        string `json:"dir"`
	AutoUpdate bool   `json:"auto_update"`
	Seq        int64  `json:"seq"` // -1: no version yet
	InfoHash   string `json:"info_hash,omitempty"`
	// Value and Sig are the item's `v` and signature, in hex.
	Value publish.HexBytes `json:"value,omitempty"`
	Sig   publish.HexBytes `json:"sig,omitempty"`
	// PrevInfoHash is the previous version's torrent, still seeding
	// until the current one is complete.
	PrevInfoHash string `json:"prev_info_hash,omitempty"`
}

// maxFollows bounds what is read back from follows.json.
const maxFollows = 10000

func (e *Engine) followsPath() string { return filepath.Join(e.cfg.StateDir, "follows.json") }

// saveFollows writes the followed publications, with KeepList (Run
// goroutine).
func (e *Engine) saveFollows() {
	if !e.cfg.KeepList || e.cfg.StateDir == "" {
		return
	}
	list := []followEntry{}
	for _, f := range e.pubs.followed {
		fe := followEntry{Link: f.link.String(), Dir: f.dir, AutoUpdate: f.auto, Seq: f.seq}
		if f.seq != publish.NoVersion {
			fe.InfoHash, fe.Value, fe.Sig = f.ih.String(), f.item.V, f.item.Sig[:]
		}
		if f.hasPrev {
			fe.PrevInfoHash = f.prev.String()
		}
		list = append(list, fe)
	}
	data, err := json.MarshalIndent(list, "", "  ")
	if err == nil {
		err = os.MkdirAll(e.cfg.StateDir, 0o700)
	}
	if err == nil {
		err = atomicfile.Write(e.followsPath(), data, 0o600)
	}
	if err != nil {
		e.emit(Problem{Err: fmt.Errorf("saving the followed publications: %w", err)})
	}
}

// restoreFollows follows again the publications of follows.json (Run
// goroutine, after restoreList). An entry whose item does not pass
// publish.Check is followed from no version.
func (e *Engine) restoreFollows() {
	if e.cfg.StateDir == "" {
		return
	}
	data, err := os.ReadFile(e.followsPath())
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	list, err := parseFollows(data, err)
	if err != nil {
		e.emit(Problem{Err: fmt.Errorf("reading the followed publications: %w", err)})
		return
	}
	e.pubsInit()
	for _, fe := range list {
		id, f, ok := followOf(fe)
		if !ok || e.pubs.followed[id] != nil {
			continue
		}
		e.pubs.followed[id] = f
		e.endOverlap(f)
		e.startFollowing(id, f)
	}
	e.saveFollows()
}

// endOverlap removes the previous version of f still seeding when the
// engine stopped (Run goroutine, at restore): after a restart it could
// check its files again and fetch back, over the new version's, the
// pieces the new version replaced. Its files are kept, and those the
// current version lacks are removed once it is complete.
func (e *Engine) endOverlap(f *following) {
	if !f.hasPrev {
		return
	}
	if t := e.torrents[f.prev]; t != nil && f.prev != f.ih {
		f.stale = append(f.stale, versionFiles(t)...)
		e.removeTorrent(t, false, nil)
	}
	f.prev, f.hasPrev = metainfo.Hash{}, false
}

// followOf reads a saved entry: the publication's ID and its state, and
// whether the link could be read. A version whose item does not pass
// publish.Check is dropped: the publication is then followed from no
// version.
func followOf(fe followEntry) (string, *following, bool) {
	link, err := metainfo.ParseMutableMagnet(fe.Link)
	if err != nil {
		return "", nil, false
	}
	f := &following{link: link, dir: fe.Dir, seq: publish.NoVersion, auto: fe.AutoUpdate}
	if ih, err := parseHash(fe.InfoHash); err == nil && fe.Seq >= 0 && len(fe.Sig) == krpc.SigLen {
		it := krpc.Item{V: fe.Value, Mutable: true, Key: link.PublicKey, Seq: fe.Seq}
		copy(it.Sig[:], fe.Sig)
		if v, err := publish.Check(it, link, publish.NoVersion); err == nil && v.InfoHash == ih {
			f.seq, f.ih, f.item = v.Seq, v.InfoHash, v.Item
			if prev, err := parseHash(fe.PrevInfoHash); err == nil && prev != ih {
				f.prev, f.hasPrev = prev, true
			}
		}
	}
	return publicationID(link), f, true
}

// parseFollows decodes follows.json (readErr: the error reading it).
func parseFollows(data []byte, readErr error) ([]followEntry, error) {
	if readErr != nil {
		return nil, readErr
	}
	var list []followEntry
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, err
	}
	if len(list) > maxFollows {
		return nil, fmt.Errorf("%d entries, more than %d", len(list), maxFollows)
	}
	return list, nil
}
