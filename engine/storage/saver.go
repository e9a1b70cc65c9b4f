package storage

import (
	"context"
	"sync"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/bitfield"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// ResumeSaver keeps a torrent's resume data up to date on disk: Update
// hands it the verified pieces, and Serve writes them at most once per
// delay, fsyncing the torrent's files first so that the record never
// claims a piece the disk might not hold after a crash. Update is safe for
// concurrent use.
type ResumeSaver struct {
	path   string
	t      *Torrent
	ih     metainfo.Hash
	delay  time.Duration
	report func(error)
	kick   chan struct{} // one slot: "there is something to save"

	mu      sync.Mutex // guards have, partial, skip and dirty
	have    bitfield.Bitfield
	partial bitfield.Bitfield
	skip    []bool
	dirty   bool
}

// SaverConfig configures a ResumeSaver.
type SaverConfig struct {
	Path     string        // where the resume data goes
	Torrent  *Torrent      // the storage it describes, fsynced before each save
	InfoHash metainfo.Hash // the torrent's
	// Delay is the least time between two saves, and the wait before a
	// failed save is tried again.
	Delay time.Duration
	// Report, when set, is called from Serve's goroutine after each save
	// with its error, or nil when it succeeded.
	Report func(error)
}

// NewResumeSaver returns a saver for cfg. It does nothing until Serve runs.
func NewResumeSaver(cfg SaverConfig) *ResumeSaver {
	return &ResumeSaver{path: cfg.Path, t: cfg.Torrent, ih: cfg.InfoHash, delay: cfg.Delay,
		report: cfg.Report, kick: make(chan struct{}, 1)}
}

// Update records have (copied) as the verified pieces to save, partial
// (copied; may be empty) as those written without the bytes of the files
// skip marks (kept: not to be modified). It does not block.
func (s *ResumeSaver) Update(have, partial bitfield.Bitfield, skip []bool) {
	s.mu.Lock()
	s.have, s.partial, s.skip = have.Clone(), partial.Clone(), skip
	s.dirty = true
	s.mu.Unlock()
	s.wake()
}

func (s *ResumeSaver) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Serve saves after each Update, waiting delay after the first unsaved
// Update so that saves are at least delay apart, and saves once more
// when ctx ends, then returns. A failed save is reported and retried
// after delay.
func (s *ResumeSaver) Serve(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			s.save()
			return
		case <-s.kick:
		}
		timer := time.NewTimer(s.delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			s.save()
			return
		case <-timer.C:
		}
		if s.save() != nil {
			s.wake()
		}
	}
}

// save writes the resume data if there is an unsaved Update, and
// reports the result.
func (s *ResumeSaver) save() error {
	s.mu.Lock()
	if !s.dirty {
		s.mu.Unlock()
		return nil
	}
	r := &Resume{InfoHash: s.ih, Have: s.have, Partial: s.partial, Skip: s.skip}
	s.dirty = false
	s.mu.Unlock()
	err := s.t.Sync()
	if err == nil {
		r.Files, r.SavedAt = s.t.Stamps(), time.Now()
		err = SaveResume(s.path, r)
	}
	if err != nil {
		s.mu.Lock()
		s.dirty = true
		s.mu.Unlock()
	}
	if s.report != nil {
		s.report(err)
	}
	return err
}
