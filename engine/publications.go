package engine

import (
	"context"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht"
	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/publish"
)

// PublicationStatus describes an updatable publication (BEP 46) that we
// publish (we hold its key) or follow.
type PublicationStatus struct {
	// ID names the publication in commands: its public key and salt in
	// hex, "KEY/SALT".
	ID   string
	Link string // magnet:?xs=urn:btpk:...
	Name string
	// Publisher: we publish it; else we follow it.
	Publisher bool
	// Path is a publisher's published file or folder: Publish it again
	// (PublishRequest.Path) to make the next version.
	Path string
	// KeyFile is a publisher's key file (mode 0600): copying it (and
	// using it with PublishRequest.KeyFile elsewhere) moves the
	// publication to another machine.
	KeyFile string
	// Version is the sequence number of the version in the torrent list,
	// InfoHash its torrent; 0 and "" before the first is found.
	Version  int64
	InfoHash string
	// Available is a newer version found and not downloaded because
	// AutoUpdate is off (0: none).
	Available  int64
	AutoUpdate bool
	// LastCheck and NextCheck are a follower's lookups of new versions.
	LastCheck, NextCheck time.Time
	// LastPut is when the item was last stored in the DHT, on Stored
	// nodes (publishers put every hour; followers too, to keep it alive).
	LastPut time.Time
	Stored  int
	// Err is the last lookup's or put's failure, "" after a success.
	Err string
}

// publications are the publications published and followed; owned by
// the Run goroutine.
type publications struct {
	published map[string]*publishing
	followed  map[string]*following
}

// publishing is a publication we publish: its keep-alive runs until
// cancel is called.
type publishing struct {
	link    *metainfo.MutableMagnet
	path    string
	keyFile string
	seq     int64
	ih      metainfo.Hash
	cancel  context.CancelFunc
	lastPut time.Time
	stored  int
	err     string
}

// publicationID returns the ID of the publication of link.
func publicationID(link *metainfo.MutableMagnet) string {
	return hex.EncodeToString(link.PublicKey[:]) + "/" + hex.EncodeToString(link.Salt)
}

func (e *Engine) pubsInit() {
	if e.pubs.published == nil {
		e.pubs.published = make(map[string]*publishing)
		e.pubs.followed = make(map[string]*following)
	}
}

// startPublishing keeps the item it of the publication of link (of path,
// whose key is in keyFile), the
// version whose torrent is ih, alive in the DHT: put now, then every
// dht.ItemRepublish, replacing the keep-alive of an older version (Run
// goroutine).
func (e *Engine) startPublishing(link *metainfo.MutableMagnet, path, keyFile string, it krpc.Item, ih metainfo.Hash) {
	if e.ctx == nil || e.ctx.Err() != nil {
		return
	}
	e.pubsInit()
	id := publicationID(link)
	if old := e.pubs.published[id]; old != nil {
		old.cancel()
	}
	ctx, cancel := context.WithCancel(e.ctx)
	p := &publishing{link: link, path: path, keyFile: keyFile, seq: it.Seq, ih: ih, cancel: cancel}
	e.pubs.published[id] = p
	e.changed = true
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.KeepItemAlive(ctx, it, 0, dht.ItemRepublish, publicationRetry, publicationPut, func(res dht.PutResult, err error) {
			now := time.Now()
			e.queue.put(func() {
				if e.pubs.published[id] != p {
					return
				}
				if err != nil {
					p.err = err.Error()
				} else {
					p.err, p.lastPut, p.stored = "", now, res.Stored
				}
				if res.Newer.V != nil {
					p.err = fmt.Sprintf("the DHT holds version %d, newer than ours: was it published from another machine?", res.Newer.Seq)
				}
				e.changed = true
			})
		})
	}()
}

// restorePublishing starts the keep-alive of every publication recorded
// in the state folder whose current version is in the torrent list (Run
// goroutine, after restoreList). A record or key that cannot be read is
// reported as a Problem.
func (e *Engine) restorePublishing() {
	if e.cfg.StateDir == "" {
		return
	}
	files, _ := filepath.Glob(filepath.Join(e.cfg.StateDir, "publications", "*.json"))
	for _, f := range files {
		rec, err := publish.LoadRecord(f)
		if err != nil {
			e.emit(Problem{Err: err})
			continue
		}
		ih, err := parseHash(rec.InfoHash)
		t := e.torrents[ih]
		if err != nil || t == nil {
			continue
		}
		key, err := publish.LoadKey(rec.KeyFile)
		if err != nil {
			e.emit(Problem{InfoHash: rec.InfoHash, Name: t.name(), Err: fmt.Errorf("publication: %w", err)})
			continue
		}
		it, err := krpc.SignItem(key, rec.Salt, rec.Seq, krpc.InfoHashValue(ih))
		if err != nil {
			continue
		}
		e.startPublishing(publish.Link(key, rec.Salt, t.name()), rec.Path, rec.KeyFile, it, ih)
	}
}

// publicationStatuses describes the publications, by ID (Run goroutine).
func (e *Engine) publicationStatuses() []PublicationStatus {
	var out []PublicationStatus
	for id, p := range e.pubs.published {
		out = append(out, PublicationStatus{ID: id, Link: p.link.String(), Name: p.link.Name, Publisher: true,
			Path: p.path, KeyFile: p.keyFile, Version: p.seq, InfoHash: p.ih.String(), LastPut: p.lastPut, Stored: p.stored, Err: p.err})
	}
	for id, f := range e.pubs.followed {
		out = append(out, f.status(id))
	}
	slices.SortFunc(out, func(a, b PublicationStatus) int { return strings.Compare(a.ID, b.ID) })
	return out
}
