package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/publish"
)

// Updated: a followed publication moved to version Version, whose
// torrent InfoHash replaces the previous one in the same folder (First:
// the first version found, after Follow).
type Updated struct {
	Publication    string // PublicationStatus.ID
	Version        int64
	InfoHash, Name string
	First          bool
}

func (Updated) isEvent() {}

// following is a publication we follow (Run goroutine), its lookups run
// by followLoop until cancel.
type following struct {
	link      *metainfo.MutableMagnet
	dir       string
	seq       int64 // the version in the list, publish.NoVersion before the first
	ih        metainfo.Hash
	item      dht.Item // that version's item (V nil before the first)
	auto      bool
	available publish.Version // newer than seq when Seq > seq (auto off)
	kick      chan struct{}
	cancel    context.CancelFunc
	// prev is the torrent of the version before seq, complete and kept
	// seeding until seq's is (hasPrev); stale are the files of versions
	// dropped before they were complete, removed from the folder with
	// prev's that seq no longer has (see versionSeeding).
	prev    metainfo.Hash
	hasPrev bool
	stale   []staleFile

	lastCheck, nextCheck, lastPut time.Time
	stored                        int
	err                           string
}

func (f *following) status(id string) PublicationStatus {
	ps := PublicationStatus{ID: id, Link: f.link.String(), Name: f.link.Name, AutoUpdate: f.auto,
		LastCheck: f.lastCheck, NextCheck: f.nextCheck, LastPut: f.lastPut, Stored: f.stored, Err: f.err}
	if f.seq != publish.NoVersion {
		ps.Version, ps.InfoHash = f.seq, f.ih.String()
	}
	if f.available.Seq > f.seq && f.available.Seq > 0 {
		ps.Available = f.available.Seq
	}
	return ps
}

// Follow follows an updatable link (magnet:?xs=urn:btpk:...): the engine
// looks the publication up in the DHT at once and then every
// Timing.FollowCheck, downloads its current version into opt.Dir (the
// engine's download folder if ""), and, while auto-update is on (it is
// at first), downloads each newer version into the same folder, where
// it finds the unchanged files and verifies them in place instead of
// fetching them. The previous version keeps seeding until the new one is
// complete, but only the pieces the new one does not rewrite (see
// safePieces): a peer never gets from it a piece that fails its hash
// check. Then it stops, and the files it had that the new one has
// not are removed from the folder (see removeStale). Versions only move forward: an item not signed by
// the link's key, or of a seq not above the current one, is ignored. The
// item of the current version is put again every dht.ItemRepublish, so
// that the publication stays in the DHT while its publisher is away.
// With KeepList, followed publications are kept in the state folder and
// followed again after a restart. It returns the publication's ID.
func (e *Engine) Follow(uri string, opt AddOptions) (string, error) {
	link, err := metainfo.ParseMutableMagnet(uri)
	if err != nil {
		return "", err
	}
	if e.cfg.NoDHT {
		return "", errors.New("following an updatable link needs the DHT")
	}
	id := publicationID(link)
	e.queue.put(func() {
		e.pubsInit()
		if e.pubs.followed[id] != nil {
			return
		}
		dir := opt.Dir
		if dir == "" {
			dir = e.cfg.DownloadDir
		}
		f := &following{link: link, dir: dir, seq: publish.NoVersion, auto: true}
		e.pubs.followed[id] = f
		e.startFollowing(id, f)
		e.saveFollows()
		e.changed = true
	})
	return id, nil
}

// SetAutoUpdate turns the automatic download of new versions of a
// followed publication on or off; turned on, a newer version already
// found is downloaded now.
func (e *Engine) SetAutoUpdate(id string, on bool) {
	e.queue.put(func() {
		f := e.pubs.followed[id]
		if f == nil {
			return
		}
		f.auto = on
		if on && f.available.Seq > f.seq {
			e.applyVersion(id, f)
		}
		e.saveFollows()
		e.changed = true
	})
}

// UpdateNow downloads the newer version found of a followed publication
// whose auto-update is off, and looks for a newer one at once.
func (e *Engine) UpdateNow(id string) {
	e.queue.put(func() {
		f := e.pubs.followed[id]
		if f == nil {
			return
		}
		if f.available.Seq > f.seq {
			e.applyVersion(id, f)
			e.saveFollows()
		}
		select {
		case f.kick <- struct{}{}:
		default:
		}
	})
}

// Unfollow stops following a publication; its current version's
// torrent stays in the list (Remove it to drop it too). A previous
// version still seeding while the current one downloads leaves the list,
// its files kept.
func (e *Engine) Unfollow(id string) {
	e.queue.put(func() {
		f := e.pubs.followed[id]
		if f == nil {
			return
		}
		if t := e.torrents[f.prev]; f.hasPrev && t != nil && f.prev != f.ih {
			e.removeTorrent(t, false, nil)
		}
		f.cancel()
		delete(e.pubs.followed, id)
		e.saveFollows()
		e.changed = true
	})
}

// startFollowing starts f's lookups (Run goroutine).
func (e *Engine) startFollowing(id string, f *following) {
	if e.ctx == nil || e.ctx.Err() != nil {
		f.cancel = func() {}
		return
	}
	ctx, cancel := context.WithCancel(e.ctx)
	f.cancel, f.kick = cancel, make(chan struct{}, 1)
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.followLoop(ctx, id, f.link, f.seq, f.item, f.kick)
	}()
}

// followLoop looks up newer versions of the publication of link than
// after, at once and then every Timing.FollowCheck (sooner, from 1 s and
// doubling, while no version was ever found), and reports each lookup to
// the Run goroutine. It puts the newest item it knows again every
// dht.ItemRepublish. It owns its arguments.
func (e *Engine) followLoop(ctx context.Context, id string, link *metainfo.MutableMagnet, after int64, item dht.Item, kick chan struct{}) {
	var wait, retry time.Duration
	var nextPut time.Time
	for {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-kick:
		case <-t.C:
		}
		t.Stop()
		lctx, cancel := context.WithTimeout(ctx, e.timing.LookupTimeout)
		v, _, err := e.LatestVersion(lctx, link, after)
		cancel()
		if ctx.Err() != nil {
			return
		}
		found := err == nil
		switch {
		case found:
			after, item = v.Seq, v.Item
			wait, retry = e.timing.FollowCheck, 0
		case after == publish.NoVersion:
			retry = min(max(2*retry, time.Second), e.timing.FollowCheck)
			wait = retry
		default:
			wait = e.timing.FollowCheck
			if errors.Is(err, dht.ErrItemNotFound) {
				err = nil // nothing newer: the normal case
			}
		}
		var put *dht.PutResult
		var putErr error
		if item.V != nil && !time.Now().Before(nextPut) {
			pctx, cancel := context.WithTimeout(ctx, publicationPut)
			res, perr := e.PutItem(pctx, item, dht.PutOptions{})
			cancel()
			if ctx.Err() != nil {
				return
			}
			put, putErr = &res, perr
			nextPut = time.Now().Add(dht.ItemRepublish)
			if perr != nil {
				nextPut = time.Now().Add(e.timing.FollowCheck)
			}
		}
		next := time.Now().Add(wait)
		e.queue.put(func() { e.checked(id, v, found, err, put, putErr, next) })
	}
}

// checked takes in a lookup of followLoop (Run goroutine).
func (e *Engine) checked(id string, v publish.Version, found bool, err error, put *dht.PutResult, putErr error, next time.Time) {
	f := e.pubs.followed[id]
	if f == nil {
		return
	}
	now := time.Now()
	f.lastCheck, f.nextCheck, f.err = now, next, ""
	if err != nil {
		f.err = err.Error()
	}
	if put != nil {
		if putErr != nil {
			f.err = fmt.Sprintf("putting the item again: %v", putErr)
		} else {
			f.lastPut, f.stored = now, put.Stored
		}
	}
	if found && v.Seq > f.seq && v.Seq > f.available.Seq {
		f.available = v
		if f.auto || f.seq == publish.NoVersion {
			e.applyVersion(id, f)
		}
		e.saveFollows()
	}
	e.changed = true
}

// applyVersion makes f's available version its current one (Run
// goroutine): its torrent is added into the same folder, where it finds
// the unchanged files and verifies them in place. The version it
// replaces keeps seeding until the new one is complete (see
// versionSeeding), unless it was not complete itself: then it stops now.
func (e *Engine) applyVersion(id string, f *following) {
	v := f.available
	first := f.seq == publish.NoVersion
	old, had := f.ih, !first
	f.seq, f.ih, f.item = v.Seq, v.InfoHash, v.Item
	if had && old == v.InfoHash {
		return // the same torrent under a higher seq
	}
	if had {
		e.supersede(f, old)
	}
	m := &metainfo.Magnet{InfoHash: v.InfoHash, Name: f.link.Name, Peers: f.link.Peers}
	e.add(nil, m, nil, AddOptions{Dir: f.dir}, time.Now())
	e.restrictPrev(f) // the new version's metadata may be known already
	e.emit(Updated{Publication: id, Version: v.Seq, InfoHash: v.InfoHash.String(), Name: f.link.Name, First: first})
}
