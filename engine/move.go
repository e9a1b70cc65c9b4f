package engine

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"

	"github.com/swarmdrop/swarmdrop/engine/storage"
)

// moveJob is the move of a torrent's data to another folder. The Run
// goroutine owns it; the copying goroutine writes only done and total.
type moveJob struct {
	dir         string // the new folder, absolute
	ctx         context.Context
	cancel      context.CancelFunc
	done, total atomic.Int64 // bytes copied, bytes to copy
}

// progress returns how far the copy has come, 0..1.
func (m *moveJob) progress() float64 {
	d, n := m.done.Load(), m.total.Load()
	if n <= 0 {
		return 0
	}
	return float64(d) / float64(n)
}

// Move moves a torrent's data to newDir: the torrent stops, its files
// are copied (each synced, modification time kept, so no re-check is
// needed), the torrent is recorded in newDir, and only then are the old
// files removed; it then goes on from newDir (or stays paused). The
// status shows StateMoving with Moving's progress meanwhile. It ends
// with MoveFinished, or with MoveFailed when the copy fails or is
// cancelled (Remove, Pause does not): what was copied is removed, and the
// torrent goes on from its old folder, its data untouched. A file of the
// same name in newDir fails the move (never overwritten). A torrent
// seeded in place from its own files is not moved (MoveFailed); one
// with nothing on disk yet (a magnet link's metadata unknown, or waiting
// for its file choice) only changes folder.
func (e *Engine) Move(infoHash, newDir string) {
	e.withTorrent(infoHash, func(t *torrent) {
		fail := func(err error) {
			e.emit(MoveFailed{InfoHash: t.ih.String(), Name: t.name(), Err: err})
		}
		switch {
		case t.move != nil:
			fail(errors.New("its data is being moved already"))
			return
		case newDir == "":
			fail(errors.New("no folder given"))
			return
		case len(t.sources) > 0:
			fail(errors.New("it is seeded from where its files were made: move those files yourself and add the torrent again"))
			return
		}
		dir, err := filepath.Abs(newDir)
		if err != nil {
			fail(fmt.Errorf("folder %s: %w", newDir, err))
			return
		}
		if dir == t.dir {
			e.emit(MoveFinished{InfoHash: t.ih.String(), Name: t.name(), Dir: dir})
			return
		}
		if t.mi == nil || t.waitFiles {
			t.dir = dir
			e.emit(MoveFinished{InfoHash: t.ih.String(), Name: t.name(), Dir: dir})
			return
		}
		ctx, cancel := context.WithCancel(e.ctx)
		running := t.run != nil
		e.stop(t, nil) // before t.move is set: stops only the run
		t.move = &moveJob{dir: dir, ctx: ctx, cancel: cancel}
		t.state = StateMoving
		if !running {
			e.beginMove(t)
		}
		// else stopped begins it once the run has closed its files.
	})
}

// beginMove starts copying t's data for t.move (Run goroutine), once no
// run of t has its files open. The copy's goroutine counts as running,
// so that the engine waits for it when it stops.
func (e *Engine) beginMove(t *torrent) {
	m, info, from := t.move, &t.mi.Info, t.dir
	t.state = StateMoving
	e.running++
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		err := storage.CopyFiles(m.ctx, from, m.dir, info, func(done, total int64) {
			m.total.Store(total)
			m.done.Store(done)
		})
		var rerr error
		if err == nil {
			// Recorded in the new folder before the old files go: a
			// crash in between leaves two whole copies, never none.
			recorded := make(chan struct{})
			e.msgs.put(func() {
				t.dir = m.dir
				e.saveList()
				close(recorded)
			})
			<-recorded // the Run goroutine takes messages until every run has ended
			rerr = storage.RemoveFiles(from, info)
		}
		e.msgs.put(func() { e.moveEnded(t, m, from, err, rerr) })
	}()
}

// moveEnded records the end of move m of t (Run goroutine): err is why
// the copy failed (the data is still in from), rerr why removing the old
// copy failed after a good one. The torrent starts again unless paused
// or removed, and what waited for it to stop runs.
func (e *Engine) moveEnded(t *torrent, m *moveJob, from string, err, rerr error) {
	e.running--
	m.cancel()
	t.move = nil
	ih, name := t.ih.String(), t.name()
	switch {
	case err != nil && m.ctx.Err() != nil:
		e.emit(MoveFailed{InfoHash: ih, Name: name, Err: fmt.Errorf("%w: %w", ErrCancelled, err)})
	case err != nil:
		e.emit(MoveFailed{InfoHash: ih, Name: name, Err: describeStorageError(err)})
	default:
		e.emit(MoveFinished{InfoHash: ih, Name: name, Dir: m.dir})
		if rerr != nil {
			e.emit(Problem{InfoHash: ih, Name: name, Err: fmt.Errorf("the data was moved to %s, but its old copy in %s could not all be removed: %w", m.dir, from, rerr)})
		}
	}
	t.state, t.err = StatePaused, nil
	after := t.afterStop
	t.afterStop = nil
	for _, f := range after {
		f()
	}
	if !t.paused {
		e.start(t)
	}
	e.saveList()
	e.changed = true
}
