package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/maker"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// CreateRequest asks for a new torrent made of files on disk.
type CreateRequest struct {
	Paths       []string
	Name        string // "" = from the paths
	PieceLength int64  // 0 = chosen from the total size
	// Nodes are the `nodes` contacts, "host:port, host:port".
	Nodes    string
	Trackers []string // none = trackerless
	Private  bool
	Comment  string
	// NoSeed makes the torrent without adding it; by default it starts
	// seeding at once, from where the files are.
	NoSeed bool
}

// CreatePlan is what a torrent of some paths would hold, for the create
// dialog to show before hashing.
type CreatePlan struct {
	Name        string
	Files       int
	Total       int64
	PieceLength int64 // the automatic choice
}

// PlanCreate scans paths without hashing them.
func PlanCreate(paths []string, name string) (CreatePlan, error) {
	p, err := maker.Scan(paths, name)
	if err != nil {
		return CreatePlan{}, err
	}
	return CreatePlan{Name: p.Name, Files: len(p.Files), Total: p.Total, PieceLength: p.PieceLength}, nil
}

// Create makes a torrent in the background and returns the request's id.
// Progress comes as EventCreateProgress; the result as EventCreated (with
// the .torrent bytes and the magnet link) or EventError, each carrying the
// id. Unless req.NoSeed, the new torrent is added and seeds in place.
func (e *Engine) Create(req CreateRequest) int {
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
			e.create(ctx, id, req, nodes)
		}()
	})
	return id
}

// CancelCreate stops a torrent creation or a publication (Publish); it
// ends with a CreateFailed event whose Err wraps ErrCancelled.
func (e *Engine) CancelCreate(id int) {
	e.queue.put(func() {
		if c := e.creates[id]; c != nil {
			c()
		}
	})
}

func (e *Engine) create(ctx context.Context, id int, req CreateRequest, nodes []metainfo.Node) {
	last := time.Time{}
	res, err := maker.Make(ctx, maker.Options{
		Paths: req.Paths, Name: req.Name, PieceLength: req.PieceLength,
		Nodes: nodes, Trackers: req.Trackers, Private: req.Private, Comment: req.Comment,
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
		if errors.Is(err, context.Canceled) {
			err = ErrCancelled
		}
		e.emit(CreateFailed{Request: id, Err: fmt.Errorf("creating torrent: %w", err)})
		return
	}
	data, err := res.MetaInfo.Encode()
	if err != nil {
		e.emit(CreateFailed{Request: id, Err: fmt.Errorf("creating torrent: %w", err)})
		return
	}
	ih := res.MetaInfo.InfoHash.String()
	if !req.NoSeed {
		if _, err := e.AddTorrent(data, AddOptions{Sources: res.Sources}); err != nil {
			e.emit(CreateFailed{Request: id, Err: fmt.Errorf("seeding the new torrent: %w", err)})
			return
		}
	}
	e.emit(Created{Request: id, InfoHash: ih, Name: res.MetaInfo.Info.Name,
		Torrent: data, Magnet: res.MetaInfo.Magnet().String()})
}
