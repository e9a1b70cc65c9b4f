package ui

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/swarmdrop/swarmdrop/engine"
)

// The window with a thousand torrents (issue 17): the time to apply one
// engine snapshot of 1,000 small seeding torrents and one of 64 GiB to
// the main window, and to scroll its list by a page. Fyne's test driver
// lays out and updates the widgets as the real one does but paints
// nothing, so these figures are the window's own work per snapshot, not
// the GPU's. Run with `make bench-scale-ui`; one frame is 16.7 ms.

const scaleTorrents = 1001

// scaleSnapshot returns n seeding torrents as the engine reports them
// after a restart, the last one 64 GiB.
func scaleSnapshot(n int) engine.Snapshot {
	words := []string{"debian", "ubuntu", "fedora", "arch", "photos", "music", "scans", "backup"}
	ts := make([]engine.TorrentStatus, n)
	added := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range ts {
		size := int64(256<<10 + i*4096)
		if i == n-1 {
			size = 64 << 30
		}
		ts[i] = engine.TorrentStatus{
			InfoHash: fmt.Sprintf("%040x", i+1), Name: fmt.Sprintf("%s-%04d.iso", words[i*7%len(words)], (i*389)%n),
			Dir: "/home/user/Downloads", Size: size, Wanted: size, Progress: 1, State: engine.StateSeeding,
			ETA: -1, PiecesHave: 16, PiecesTotal: 16, PieceLength: size / 16, Have: []byte{0xff, 0xff},
			AddedAt: added.Add(time.Duration(i) * time.Minute),
		}
	}
	return engine.Snapshot{Time: added, Torrents: ts}
}

// nextSnapshot returns s as the engine's next snapshot: a new slice, with
// the upload rate and peers of `changed` rows (spread over the list) set
// from round.
func nextSnapshot(s engine.Snapshot, round, changed int) engine.Snapshot {
	ts := slices.Clone(s.Torrents)
	for k := range changed {
		i := (k*len(ts)/changed + round) % len(ts)
		ts[i].RateUp = float64((round*131+k*17)%5000) * 1024
		ts[i].Peers = (round + k) % 7
	}
	s.Torrents, s.Time = ts, s.Time.Add(time.Second)
	return s
}

// newScaleWindow builds the main window (1000x640) with the torrents of
// s shown.
func newScaleWindow(b *testing.B, s engine.Snapshot) *mainWindow {
	b.Helper()
	a := test.NewTempApp(b)
	m := newMainWindow(a, newFakeBackend())
	b.Cleanup(m.win.Close)
	m.win.Show()
	m.applySnapshot(s)
	if len(m.list.rows) != len(s.Torrents) {
		b.Fatalf("%d rows shown, want %d", len(m.list.rows), len(s.Torrents))
	}
	if len(m.list.table.shown) == 0 {
		b.Fatal("the list made no row widgets: it is not laid out")
	}
	return m
}

// benchApply applies a new snapshot per iteration, with `changed` rows
// whose rates differ from the last one, and reports ms per apply.
func benchApply(b *testing.B, m *mainWindow, s engine.Snapshot, changed int) {
	b.Helper()
	snaps := make([]engine.Snapshot, 64)
	for r := range snaps {
		snaps[r] = nextSnapshot(s, r, changed)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		m.applySnapshot(snaps[i%len(snaps)])
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/apply")
}

func BenchmarkApplySnapshot(b *testing.B) {
	s := scaleSnapshot(scaleTorrents)
	b.Run("unchanged", func(b *testing.B) {
		m := newScaleWindow(b, s)
		benchApply(b, m, s, 0)
	})
	b.Run("rates50", func(b *testing.B) {
		m := newScaleWindow(b, s)
		benchApply(b, m, s, 50)
	})
	b.Run("filtered", func(b *testing.B) {
		m := newScaleWindow(b, s)
		test.Type(m.search, "ubuntu")
		if n := len(m.list.rows); n == 0 || n == len(s.Torrents) {
			b.Fatalf("the search shows %d of %d rows", n, len(s.Torrents))
		}
		benchApply(b, m, s, 50)
	})
	b.Run("sortedName", func(b *testing.B) {
		m := newScaleWindow(b, s)
		m.list.sortBy("name")
		benchApply(b, m, s, 50)
	})
	b.Run("sortedUp", func(b *testing.B) {
		m := newScaleWindow(b, s)
		m.list.sortBy("up")
		benchApply(b, m, s, 50)
	})
	b.Run("selected", func(b *testing.B) {
		// A current row: the details panel follows each snapshot too.
		m := newScaleWindow(b, s)
		m.list.selectIndex(3)
		benchApply(b, m, s, 50)
	})
}

// BenchmarkScrollPage scrolls the 1,001-row list down by a page per
// iteration (back to the top at the end), as the scroll bar and the wheel
// do, and reports ms per page.
func BenchmarkScrollPage(b *testing.B) {
	s := scaleSnapshot(scaleTorrents)
	m := newScaleWindow(b, s)
	page := m.list.table.Size().Height
	if page <= m.list.rowHeight() {
		b.Fatalf("the list is %v high, rows %v", page, m.list.rowHeight())
	}
	end := float32(len(s.Torrents)) * m.list.rowHeight()
	off := float32(0)
	b.ReportAllocs()
	for b.Loop() {
		off += page
		if off > end {
			off = 0
		}
		m.list.table.ScrollToOffset(off)
	}
	if m.list.table.GetScrollOffset() == 0 && off != 0 {
		b.Fatal("the list did not scroll")
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/page")
}

// BenchmarkPageDown moves the current row down by a page with the
// keyboard (Page Down; Home at the end), which also shows its details.
func BenchmarkPageDown(b *testing.B) {
	s := scaleSnapshot(scaleTorrents)
	m := newScaleWindow(b, s)
	m.list.selectIndex(0)
	b.ReportAllocs()
	for b.Loop() {
		if m.list.index(m.list.current) == len(m.list.rows)-1 {
			m.list.typedKey(&fyne.KeyEvent{Name: fyne.KeyHome})
		} else {
			m.list.typedKey(&fyne.KeyEvent{Name: fyne.KeyPageDown})
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/page")
}

// BenchmarkStatusBar applies to the status bar alone a snapshot whose
// total rates changed, as while anything transfers, and reports ms per
// snapshot.
func BenchmarkStatusBar(b *testing.B) {
	s := scaleSnapshot(scaleTorrents)
	m := newScaleWindow(b, s)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.RateDown, s.RateUp, s.Peers = float64(i%5000)*1024, float64(i%3000)*1024, i%50
		m.status.apply(s, true)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/snapshot")
}
