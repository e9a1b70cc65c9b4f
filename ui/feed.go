package ui

import (
	"context"
	"sync"

	"fyne.io/fyne/v2"

	swapp "github.com/swarmdrop/swarmdrop/app"
	"github.com/swarmdrop/swarmdrop/engine"
)

// feed brings snapshots, events and handed-over arguments to the Fyne
// thread until ctx ends, and quits as the user would when stop fires
// (SIGINT or SIGTERM).
//
// Snapshots are coalesced: at most one is waiting for the Fyne thread, and
// it is always the newest. A window that draws slower than the engine
// snapshots (a slow machine, a thousand torrents) then skips stale states
// instead of queueing them without bound behind the user's key presses.
//
// Nothing here touches a widget: Fyne runs a function given to fyne.Do on
// the caller's goroutine once the app is shutting down, so the feed must
// have ended before quit (mainWindow.quit waits for it).
func (m *mainWindow) feed(ctx context.Context, handover <-chan swapp.Handover, stop <-chan struct{}) {
	snaps, events := m.be.Snapshots(), m.be.Events()
	var latest snapshotSlot
	for {
		select {
		case <-ctx.Done():
			return
		case <-stop:
			stop = nil
			fyne.Do(m.quit)
		case s := <-snaps:
			if latest.put(s) {
				fyne.Do(func() {
					if s, ok := latest.take(); ok {
						m.applySnapshot(s)
					}
				})
			}
		case ev := <-events:
			fyne.Do(func() { m.handleEvent(ev) })
		case h, ok := <-handover:
			if !ok {
				handover = nil
				continue
			}
			// The process that handed them over prints the error and
			// exits 1; the window shows it too.
			fyne.Do(func() { h.Reply(m.intake(h.Args)) })
		}
	}
}

// snapshotSlot holds the newest snapshot not yet shown.
type snapshotSlot struct {
	mu   sync.Mutex
	snap engine.Snapshot
	full bool
}

// put stores s and reports whether the slot was empty (the caller then
// schedules a take on the Fyne thread).
func (l *snapshotSlot) put(s engine.Snapshot) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	wasEmpty := !l.full
	l.snap, l.full = s, true
	return wasEmpty
}

// take empties the slot.
func (l *snapshotSlot) take() (engine.Snapshot, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.snap, l.full
	l.snap, l.full = engine.Snapshot{}, false
	return s, ok
}
