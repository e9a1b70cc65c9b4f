package ui

import (
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/swarmdrop/swarmdrop/engine"
)

// upCell returns the upload rate shown by the row object of row i, which
// must be on screen.
func upCell(t *testing.T, m *mainWindow, i int) string {
	t.Helper()
	w := m.list.table.rowWidgetOf(i)
	if w == nil {
		t.Fatalf("row %d is not on screen", i)
	}
	return w.cells.Objects[5].(*cellLabel).Text
}

// TestListRedrawsChangedRows: with 1,001 torrents, a changed rate shows on
// the row on screen at once, and on a row off screen once scrolled to.
func TestListRedrawsChangedRows(t *testing.T) {
	m := newTestWindow(t, newFakeBackend())
	m.win.Show()
	s := scaleSnapshot(scaleTorrents)
	m.applySnapshot(s)
	if got := upCell(t, m, 2); got != formatRate(0) {
		t.Fatalf("row 2 up %q before", got)
	}
	s = nextSnapshot(s, 0, 0)
	s.Torrents[2].RateUp, s.Torrents[900].RateUp = 3<<10, 5<<10
	m.applySnapshot(s)
	if got := upCell(t, m, 2); got != formatRate(3<<10) {
		t.Errorf("row 2 up %q, want %q", got, formatRate(3<<10))
	}
	m.list.table.ScrollTo(900)
	if got := upCell(t, m, 900); got != formatRate(5<<10) {
		t.Errorf("row 900 up %q after scrolling, want %q", got, formatRate(5<<10))
	}
}

// TestListSortOrder: ascending, descending, and torrents that compare
// equal keep the order added either way.
func TestListSortOrder(t *testing.T) {
	test.NewTempApp(t)
	l := newTorrentList(nil, sortLayout{})
	ts := []engine.TorrentStatus{
		{InfoHash: "a", Name: "b", Size: 2}, {InfoHash: "b", Name: "A", Size: 1},
		{InfoHash: "c", Name: "c", Size: 2}, {InfoHash: "d", Name: "a", Size: 3},
	}
	l.apply(ts)
	order := func() string {
		var s string
		for _, r := range l.rows {
			s += r.t.InfoHash
		}
		return s
	}
	for _, c := range []struct{ key, want string }{
		{"size", "bacd"}, {"size", "dacb"}, {"size", "abcd"}, // ascending, descending, as added
		{"name", "bdac"}, {"name", "cabd"},
	} {
		l.sortBy(c.key)
		if got := order(); got != c.want {
			t.Errorf("sorted by %s (desc %v): %s, want %s", c.key, l.sortDesc, got, c.want)
		}
	}
}
