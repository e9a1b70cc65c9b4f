package ui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/swarmdrop/swarmdrop/engine"
)

// detailsPanel shows the selected torrent: a summary, the piece strip and
// tabs for its files, peers and sources.
type detailsPanel struct {
	t       engine.TorrentStatus
	shown   bool
	now     time.Time
	summary *widget.Label
	problem *widget.Label
	// startAnyway starts a download refused for lack of free space.
	startAnyway *widget.Button
	strip       *pieceStrip
	files       *widget.Table
	peers       *widget.Table
	sources     *widget.Label
	tabs        *container.AppTabs
	root        *fyne.Container
}

var (
	fileHeads  = []string{"File", "Size", "Done"}
	fileWidths = []float32{420, 90, 70}
	peerHeads  = []string{"Address", "Client", "Source", "Down", "Up", "Has", "Flags"}
	peerWidths = []float32{170, 170, 80, 90, 90, 60, 70}
)

// newDetailsPanel builds the panel; onStartAnyway is called with the info
// hash of a torrent refused for lack of space that the user starts anyway.
func newDetailsPanel(onStartAnyway func(infoHash string)) *detailsPanel {
	d := &detailsPanel{summary: widget.NewLabel("Select a torrent to see its files, peers and sources."),
		problem: widget.NewLabel(""), strip: newPieceStrip(), sources: widget.NewLabel("")}
	d.startAnyway = widget.NewButton("Start anyway", func() {
		if d.shown {
			onStartAnyway(d.t.InfoHash)
		}
	})
	d.startAnyway.Importance = widget.WarningImportance
	d.startAnyway.Hide()
	d.summary.Truncation = fyne.TextTruncateEllipsis
	d.problem.Importance = widget.DangerImportance
	d.problem.Wrapping = fyne.TextWrapWord
	d.problem.Hide()
	d.files = newGrid(fileHeads, fileWidths, func() int { return len(d.t.Files) }, d.fileCell)
	d.peers = newGrid(peerHeads, peerWidths, func() int { return len(d.t.PeerList) }, d.peerCell)
	d.sources.Wrapping = fyne.TextWrapWord
	d.tabs = container.NewAppTabs(
		container.NewTabItem("Files", d.files),
		container.NewTabItem("Peers", d.peers),
		container.NewTabItem("Sources", container.NewVScroll(d.sources)),
	)
	top := container.NewVBox(d.summary, container.NewBorder(nil, nil, nil, d.startAnyway, d.problem), d.strip)
	d.root = container.NewBorder(top, nil, nil, nil, d.tabs)
	return d
}

// newGrid builds a table with a header row.
func newGrid(heads []string, widths []float32, rows func() int, cell func(r, c int) string) *widget.Table {
	t := widget.NewTableWithHeaders(
		func() (int, int) { return rows(), len(heads) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) { o.(*widget.Label).SetText(cell(id.Row, id.Col)) },
	)
	t.ShowHeaderColumn = false
	t.CreateHeader = func() fyne.CanvasObject { return bold("") }
	t.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Row < 0 && id.Col >= 0 && id.Col < len(heads) {
			o.(*widget.Label).SetText(heads[id.Col])
		}
	}
	for i, w := range widths {
		t.SetColumnWidth(i, w)
	}
	return t
}

func (d *detailsPanel) fileCell(r, c int) string {
	if r >= len(d.t.Files) {
		return ""
	}
	f := d.t.Files[r]
	return [...]string{f.Path, formatSize(f.Size), fmt.Sprintf("%.0f%%", 100*f.Progress)}[c]
}

func (d *detailsPanel) peerCell(r, c int) string {
	if r >= len(d.t.PeerList) {
		return ""
	}
	p := d.t.PeerList[r]
	return [...]string{p.Addr, p.Client, p.Source, formatRate(p.RateDown), formatRate(p.RateUp),
		fmt.Sprintf("%.0f%%", 100*p.Progress), p.Flags}[c]
}

// show displays t (shown false: nothing selected).
func (d *detailsPanel) show(t engine.TorrentStatus, shown bool, now time.Time) {
	d.t, d.shown, d.now = t, shown, now
	if !shown {
		d.summary.SetText("Select a torrent to see its files, peers and sources.")
		d.problem.Hide()
		d.startAnyway.Hide()
		d.strip.set(nil, 0)
		d.sources.SetText("")
	} else {
		d.summary.SetText(fmt.Sprintf("%s — %s, %d pieces of %s, %d/%d done — in %s",
			t.Name, formatSize(t.Size), t.PiecesTotal, formatSize(t.PieceLength), t.PiecesHave, t.PiecesTotal, t.Dir))
		switch {
		case t.Err != nil:
			d.problem.SetText("Error: " + t.Err.Error())
			d.problem.Show()
		case t.Warning != "":
			d.problem.SetText("Warning: " + t.Warning)
			d.problem.Show()
		default:
			d.problem.Hide()
		}
		if errors.Is(t.Err, engine.ErrNotEnoughSpace) {
			d.startAnyway.Show()
		} else {
			d.startAnyway.Hide()
		}
		d.strip.set(t.Have, t.PiecesTotal)
		d.sources.SetText(sourcesText(t, now))
	}
	d.files.Refresh()
	d.peers.Refresh()
}

// sourcesText describes where a torrent's peers come from.
func sourcesText(t engine.TorrentStatus, now time.Time) string {
	var b strings.Builder
	switch {
	case t.Private:
		b.WriteString("DHT: off (private torrent)\n")
	case !t.DHT.Enabled:
		b.WriteString("DHT: off\n")
	default:
		fmt.Fprintf(&b, "DHT: %d peers found, last lookup %s", t.DHT.PeersFound, formatAge(now, t.DHT.LastLookup))
		if t.DHT.Announced {
			b.WriteString(", announced")
		}
		if t.DHT.LastErr != "" {
			b.WriteString(", last problem: " + t.DHT.LastErr)
		}
		b.WriteString("\n")
	}
	if t.Private {
		b.WriteString("PEX: off (private torrent)\n")
	} else {
		fmt.Fprintf(&b, "PEX: %d addresses learnt\n", t.PEXPeers)
	}
	if len(t.Trackers) == 0 {
		b.WriteString("Trackers: none (trackerless)\n")
	}
	for _, tr := range t.Trackers {
		status := "not contacted yet"
		switch {
		case tr.LastError != "":
			status = "error: " + tr.LastError
		case tr.Working:
			status = fmt.Sprintf("working, %d peers (%d seeders, %d leechers), %s", tr.Peers, tr.Seeders, tr.Leechers, formatAge(now, tr.LastAnnounce))
		}
		if tr.LastWarning != "" {
			status += ", warning: " + tr.LastWarning
		}
		fmt.Fprintf(&b, "Tracker (tier %d) %s: %s\n", tr.Tier, tr.URL, status)
	}
	fmt.Fprintf(&b, "Info hash: %s\n", t.InfoHash)
	return strings.TrimSuffix(b.String(), "\n")
}
