package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/swarmdrop/swarmdrop/engine"
)

// peersCell returns the peers cell shown by the row object of row i.
func peersCell(t *testing.T, m *mainWindow, i int) string {
	t.Helper()
	w := m.list.table.rowWidgetOf(i)
	if w == nil {
		t.Fatalf("row %d is not on screen", i)
	}
	return w.cells.Objects[6].(*cellLabel).Text
}

// TestPeersCellShowsDHTSwarm: a torrent whose swarm the DHT estimated
// (BEP 33) shows its connections and the estimate in the list's Peers
// column, "12 (~40 DHT)", as qBittorrent shows a tracker's count; without
// an estimate (unknown: -1, or never scraped) the cell is connections and
// seeds as before. The details pane says the same in words.
func TestPeersCellShowsDHTSwarm(t *testing.T) {
	now := time.Now()
	for _, c := range []struct {
		peers, seeds, dhtSeeds, dhtPeers int
		scraped                          time.Time
		want                             string
	}{
		{12, 3, 31, 9, now, "12 (~40 DHT)"},
		{0, 0, 0, 0, now, "0 (~0 DHT)"},
		{12, 3, -1, -1, now, "12 (3)"},
		{12, 0, 31, 9, time.Time{}, "12"},
		{2, 0, 5, -1, now, "2"},
	} {
		ts := engine.TorrentStatus{InfoHash: strings.Repeat("a", 40), Name: "x", Peers: c.peers, Seeds: c.seeds,
			DHTSeeds: c.dhtSeeds, DHTPeers: c.dhtPeers, DHTScrapedAt: c.scraped}
		if got := viewOf(ts).Peers; got != c.want {
			t.Errorf("%+v: peers cell %q, want %q", c, got, c.want)
		}
	}

	// In the window at 1366x768, where the column is shown.
	m := newTestWindow(t, newFakeBackend())
	m.win.Resize(fyne.NewSize(1366, 768))
	m.win.Show()
	a := engine.TorrentStatus{InfoHash: strings.Repeat("a", 40), Name: "trackerless", State: engine.StateDownloading,
		Size: 1 << 20, PiecesTotal: 4, Peers: 12, DHTSeeds: 31, DHTPeers: 9, DHTScrapedAt: now}
	b := engine.TorrentStatus{InfoHash: strings.Repeat("b", 40), Name: "unscraped", State: engine.StateDownloading,
		Size: 1 << 20, PiecesTotal: 4, Peers: 2, Seeds: 1, DHTSeeds: -1, DHTPeers: -1}
	m.applySnapshot(snapOf(a, b))
	if got := peersCell(t, m, 0); got != "12 (~40 DHT)" {
		t.Errorf("row of a scraped torrent shows %q", got)
	}
	if got := peersCell(t, m, 1); got != "2 (1)" {
		t.Errorf("row of an unscraped torrent shows %q", got)
	}
	if p := m.list.cols.place(m.list.table.Size().Width); p[6].Hidden || p[6].W < 100 {
		t.Errorf("at 1366 px the Peers column is %+v, want shown and at least 100 px wide", p[6])
	}
	m.list.selectIndex(0)
	if s := m.details.summary.Text; !strings.Contains(s, "about 31 seeds, 9 peers (DHT)") {
		t.Errorf("details summary %q lacks the estimate", s)
	}
}

// TestRowWidgetUpdatesOnlyChanges: a row object shown again with the same
// view keeps its cells as they are; recycled for another row (scrolling)
// it shows that row's texts; selecting shows its background, and the
// focus mark follows the keyboard.
func TestRowWidgetUpdatesOnlyChanges(t *testing.T) {
	m := newTestWindow(t, newFakeBackend())
	m.win.Show()
	s := scaleSnapshot(scaleTorrents)
	m.applySnapshot(s)
	w := m.list.table.rowWidgetOf(0)
	if w == nil {
		t.Fatal("row 0 not on screen")
	}
	name := w.cells.Objects[0].(*cellLabel)
	if name.Text != s.Torrents[0].Name {
		t.Fatalf("row 0 shows %q, want %q", name.Text, s.Torrents[0].Name)
	}
	if w.bg.Visible() || w.mark.Visible() {
		t.Error("an unselected row shows the selection or the focus mark")
	}
	m.list.selectIndex(0)
	if !w.bg.Visible() {
		t.Error("the selected row shows no selection")
	}
	m.list.table.FocusGained()
	if w = m.list.table.rowWidgetOf(0); w == nil || !w.mark.Visible() {
		t.Error("the current row of the focused list shows no focus mark")
	}
	m.list.table.FocusLost()
	if w = m.list.table.rowWidgetOf(0); w == nil || w.mark.Visible() {
		t.Error("the focus mark stayed after the list lost the focus")
	}
	m.list.table.ScrollTo(700)
	for i := 690; i <= 700; i++ {
		if w := m.list.table.rowWidgetOf(i); w != nil {
			if got := w.cells.Objects[0].(*cellLabel).Text; got != m.list.rows[i].view.Name {
				t.Errorf("row %d shows %q, want %q", i, got, m.list.rows[i].view.Name)
			}
			if w.bg.Visible() {
				t.Errorf("row %d, not selected, shows the selection", i)
			}
		}
	}
}

// TestCellLabelTruncatesOnlyWhenTooWide: a cell label wants the width a
// plain label of its text needs (so the status bar does not cut "Port
// 44019" short); laid out wider it does not truncate, narrower it cuts
// its text as told, and widened again it shows it all.
func TestCellLabelTruncatesOnlyWhenTooWide(t *testing.T) {
	test.NewTempApp(t)
	for _, text := range []string{"Port 44019", "↓ 1.2 MiB/s   ↑ 300.0 KiB/s   12 peers", "UPnP: off"} {
		l := newCellLabel(fyne.TextTruncateEllipsis)
		l.SetText(text)
		plain := widget.NewLabel(text).MinSize().Width
		if got := wantWidth(l); got < plain || got > plain+fitSlack+1 {
			t.Errorf("%q: wants %v, a label needs %v", text, got, plain)
		}
		l.Resize(fyne.NewSize(plain, 30))
		if l.Truncation != fyne.TextTruncateOff {
			t.Errorf("%q at its full width: truncation %v", text, l.Truncation)
		}
		l.Resize(fyne.NewSize(plain/2, 30))
		if l.Truncation != fyne.TextTruncateEllipsis {
			t.Errorf("%q at half its width: truncation %v", text, l.Truncation)
		}
		l.Resize(fyne.NewSize(plain+20, 30))
		if l.Truncation != fyne.TextTruncateOff {
			t.Errorf("%q widened again: truncation %v", text, l.Truncation)
		}
	}
}
