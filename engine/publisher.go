package engine

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht"
	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
	"github.com/swarmdrop/swarmdrop/engine/maker"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/publish"
)

// PublishRequest asks to publish a file or folder as updatable (BEP 46):
// the first time, as version 1 of a new publication; again on the same
// path, as its next version.
type PublishRequest struct {
	Path string
	// KeyFile is the key file to use from now on, made if missing; ""
	// keeps the publication's (a key of its own in the state folder for
	// a new one). See publish.Open.
	KeyFile string
	// Salt tells apart the publications of one key; empty keeps the
	// publication's (the base name of Path for a new one).
	Salt []byte
	// Nodes are the `nodes` contacts of the torrent, "host:port, ...".
	Nodes string
}

// Published: the Publish request Request made version Version of a
// publication, which seeds in place and is put in the DHT (PublicationStatus
// says where the put stands): its .torrent, and the link to share.
type Published struct {
	Request        int
	Publication    string // PublicationStatus.ID
	Version        int64
	InfoHash, Name string
	Link           string
	Torrent        []byte
}

func (Published) isEvent() {}

// Publication timings: a put's bound, and the first wait before trying a
// failed put again (it doubles up to dht.ItemRepublish).
const (
	publicationPut   = 60 * time.Second
	publicationRetry = 5 * time.Second
	// nextSeqLookup bounds the wait for the version the DHT holds before
	// a new one is put: a DHT still joining (no node to ask yet) delays
	// the publication at most this long.
	nextSeqLookup = 20 * time.Second
)

// Publish makes the torrent of req.Path in the background, with the
// piece length of the publication's first version (so that unchanged
// files keep their pieces), seeds it in place, removes the previous
// version's torrent (its files are the same ones, never deleted), and
// puts the new version in the DHT; it returns the request's id. Progress
// comes as CreateProgress events, the result as Published or
// CreateFailed. CancelCreate stops it until the version is put (then
// CreateFailed's Err wraps ErrCancelled): nothing of the new version is
// left behind, no torrent, no record and no new key, and the previous
// version goes on. While the engine runs the item is put again every
// dht.ItemRepublish (and, with KeepList, after each start). The
// publication's record and key live in StateDir/publications (mode
// 0600), so Publish needs a StateDir.
func (e *Engine) Publish(req PublishRequest) int {
	nodes, nerr := metainfo.ParseNodes(req.Nodes)
	id := e.newRequestID()
	ctx, cancel := context.WithCancel(context.Background())
	e.queue.put(func() {
		if e.ctx == nil {
			cancel()
			return
		}
		e.creates[id] = cancel
		stop := context.AfterFunc(e.ctx, cancel)
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			defer stop()
			defer e.queue.put(func() { delete(e.creates, id) })
			if nerr != nil {
				e.emit(CreateFailed{Request: id, Err: fmt.Errorf("nodes: %w", nerr)})
				return
			}
			if err := e.publishPath(ctx, id, req, nodes); err != nil {
				if errors.Is(err, context.Canceled) {
					err = ErrCancelled
				}
				e.emit(CreateFailed{Request: id, Err: fmt.Errorf("publishing %s: %w", filepath.Base(req.Path), err)})
			}
		}()
	})
	return id
}

// publishPath is the work of Publish, on a goroutine of its own, until
// ctx is cancelled.
func (e *Engine) publishPath(ctx context.Context, id int, req PublishRequest, nodes []metainfo.Node) error {
	if e.cfg.StateDir == "" {
		return errors.New("publishing needs a state folder")
	}
	path, err := filepath.Abs(req.Path)
	if err != nil {
		return err
	}
	rec, recFile, key, err := publish.Open(e.cfg.StateDir, path, req.KeyFile, req.Salt)
	if err != nil {
		return err
	}
	last := time.Time{}
	res, err := maker.Make(ctx, maker.Options{
		Paths: []string{path}, PieceLength: rec.PieceLength, Nodes: nodes,
		CreatedBy: e.client, CreationDate: time.Now(),
		Progress: func(p maker.Progress) {
			if time.Since(last) < 200*time.Millisecond && p.Hashed < p.Total {
				return
			}
			last = time.Now()
			e.emit(CreateProgress{Request: id, Hashed: p.Hashed, Total: p.Total})
		},
	})
	if err != nil {
		return err
	}
	mi := res.MetaInfo
	data, err := mi.Encode()
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := e.AddTorrent(data, AddOptions{Sources: res.Sources}); err != nil {
		return fmt.Errorf("seeding the new version: %w", err)
	}
	newTorrent := rec.InfoHash != mi.InfoHash.String()
	link := publish.Link(key, rec.Salt, mi.Info.Name)
	seq := e.nextSeq(ctx, rec, link, mi.InfoHash)
	if err := ctx.Err(); err != nil { // cancelled: the new version goes, the previous one stays
		if newTorrent {
			e.Remove(mi.InfoHash.String(), false)
		}
		return err
	}
	// From here on the version is made: no more cancelling.
	if rec.InfoHash != "" && newTorrent {
		e.Remove(rec.InfoHash, false) // seeded in place: its files are never deleted
	}
	it, err := krpc.SignItem(key, rec.Salt, seq, krpc.InfoHashValue(mi.InfoHash))
	if err != nil {
		return err
	}
	if err := publish.SaveKey(rec.KeyFile, key); err != nil {
		return err
	}
	rec.Seq, rec.InfoHash, rec.PieceLength = seq, mi.InfoHash.String(), mi.Info.PieceLength
	if err := rec.Save(recFile); err != nil {
		return err
	}
	e.emit(Published{Request: id, Publication: publicationID(link), Version: seq, InfoHash: rec.InfoHash, Name: mi.Info.Name,
		Link: link.String(), Torrent: data})
	e.queue.put(func() { e.startPublishing(link, rec.Path, rec.KeyFile, it, mi.InfoHash) })
	return nil
}

// nextSeq returns the sequence number of the version with info hash ih:
// the recorded one when the torrent did not change, else one more than
// the highest of the record's and the DHT's (the key may have published
// from another machine). The DHT is asked for at most nextSeqLookup (or
// LookupTimeout if shorter), and not at all when it is off.
func (e *Engine) nextSeq(ctx context.Context, rec *publish.Record, link *metainfo.MutableMagnet, ih metainfo.Hash) int64 {
	top, topIH := rec.Seq, rec.InfoHash
	lctx, cancel := context.WithTimeout(ctx, min(nextSeqLookup, e.timing.LookupTimeout))
	defer cancel()
	for {
		v, _, err := e.LatestVersion(lctx, link, rec.Seq)
		if err == nil {
			top, topIH = v.Seq, v.InfoHash.String()
			break
		}
		if errors.Is(err, dht.ErrItemNotFound) || errors.Is(err, ErrNoDHT) || lctx.Err() != nil {
			break
		}
		select { // the DHT is starting: no node to ask yet
		case <-lctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
	if topIH == ih.String() && top > 0 {
		return top
	}
	return top + 1
}

// ImportKey saves a key file's content (made by another machine's
// Swarmdrop, see publish.FormatKey) in the state folder, mode 0600, and
// returns its path: publishing a folder with it (PublishRequest.KeyFile,
// and the salt of the publication) goes on with that publication's
// versions. Content that is not a key file gives an error wrapping
// publish.ErrBadKeyFile.
func (e *Engine) ImportKey(data []byte) (string, error) {
	if e.cfg.StateDir == "" {
		return "", errors.New("importing a key needs a state folder")
	}
	return publish.ImportKey(e.cfg.StateDir, data)
}
