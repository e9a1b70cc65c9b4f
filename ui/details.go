package ui

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/swarmdrop/swarmdrop/engine"
)

// detailsPanel shows the current torrent: a summary, the piece strip and
// tabs for its files (a tree), peers (with a legend of their flags) and
// sources.
type detailsPanel struct {
	t       engine.TorrentStatus
	shown   bool
	now     time.Time
	summary *widget.Label
	problem *widget.Label
	// startAnyway starts a download refused for lack of free space.
	startAnyway *widget.Button
	// pub is the updatable publication of the torrent (pubShown):
	// its version, and for one we follow, Update now and auto-update.
	pub       engine.PublicationStatus
	pubShown  bool
	pubNote   *widget.Label
	updateNow *widget.Button
	autoCheck *widget.Check
	pubRow    *fyne.Container
	// onUpdateNow and onAutoUpdate are called with the publication shown.
	onUpdateNow  func(engine.PublicationStatus)
	onAutoUpdate func(p engine.PublicationStatus, on bool)
	strip        *pieceStrip
	files        *fileTree
	peers        *widget.Table
	sources      *widget.Label
	tabs         *tabStrip
	root         *fyne.Container
}

var (
	peerHeads  = []string{"Address", "Via", "Client", "Source", "Down", "Up", "Has", "Flags"}
	peerWidths = []float32{170, 80, 170, 80, 90, 90, 60, 70}
)

// peerLegend explains the letters of the peers' Flags column.
const peerLegend = "Flags: D downloading from the peer · d we want its pieces, it chokes us · U uploading to it\n" +
	"u it wants ours, we choke it · I it connected to us · E extension protocol · X fast extension"

// newDetailsPanel builds the panel; onStartAnyway is called with the info
// hash of a torrent refused for lack of space that the user starts anyway.
func newDetailsPanel(onStartAnyway func(infoHash string)) *detailsPanel {
	d := &detailsPanel{summary: widget.NewLabel(noSelection),
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
	d.files = newFileTree(false, nil)
	d.peers = newGrid(peerHeads, peerWidths, func() int { return len(d.t.PeerList) }, d.peerCell)
	legend := widget.NewLabel(peerLegend)
	// Two lines, not wrapped, scrolled sideways in a narrow window: a
	// wrapped label's minimum height, before its first layout, is that
	// of one letter a line, which made the window taller than the screen.
	legend.SizeName = theme.SizeNameCaptionText
	d.sources.Wrapping = fyne.TextWrapWord
	d.tabs = newTabStrip([]string{"Files", "Peers", "Sources"}, []fyne.CanvasObject{
		d.files.root,
		container.NewBorder(nil, container.NewHScroll(legend), nil, nil, d.peers),
		container.NewVScroll(d.sources),
	})
	d.pubNote = widget.NewLabel("")
	d.pubNote.Truncation = fyne.TextTruncateEllipsis
	d.updateNow = widget.NewButton("Update now", func() {
		if d.pubShown && d.onUpdateNow != nil {
			d.onUpdateNow(d.pub)
		}
	})
	d.updateNow.Importance = widget.HighImportance
	d.autoCheck = widget.NewCheck("Update automatically", nil)
	d.pubRow = container.NewBorder(nil, nil, nil, container.NewHBox(d.updateNow, d.autoCheck), d.pubNote)
	d.pubRow.Hide()
	top := container.NewVBox(d.summary, d.pubRow, container.NewBorder(nil, nil, nil, d.startAnyway, d.problem), d.strip)
	d.root = container.NewBorder(top, nil, nil, nil, d.tabs.root)
	return d
}

const noSelection = "Select a torrent to see its files, peers and sources."

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

func bold(s string) *widget.Label {
	return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
}

func (d *detailsPanel) peerCell(r, c int) string {
	if r >= len(d.t.PeerList) {
		return ""
	}
	p := d.t.PeerList[r]
	return [...]string{p.Addr, peerVia(p), p.Client, p.Source, formatRate(p.RateDown), formatRate(p.RateUp),
		formatPercent(p.Progress), p.Flags}[c]
}

// peerVia is how we talk with a peer: "uTP v6", "TCP v4".
func peerVia(p engine.PeerStatus) string {
	return strings.TrimSpace(p.Transport + " " + strings.Replace(p.Family, "IP", "", 1))
}

// fileEntries are a torrent's files for a file tree.
func fileEntries(fs []engine.FileStatus) []fileEntry {
	out := make([]fileEntry, len(fs))
	for i, f := range fs {
		out[i] = fileEntry{Index: f.Index, Path: filepath.ToSlash(f.Path), Size: f.Size, Progress: f.Progress, Priority: f.Priority}
	}
	return out
}

// show displays t (shown false: nothing selected).
func (d *detailsPanel) show(t engine.TorrentStatus, shown bool, now time.Time) {
	d.t, d.shown, d.now = t, shown, now
	if !shown {
		d.t = engine.TorrentStatus{}
		showLabel(d.summary, noSelection, d.summary.Importance)
		d.problem.Hide()
		d.startAnyway.Hide()
		d.strip.set(nil, 0)
		showLabel(d.sources, "", d.sources.Importance)
		d.files.set(nil)
	} else {
		showLabel(d.summary, summaryText(t), d.summary.Importance)
		switch {
		case t.Err != nil:
			showLabel(d.problem, "Error: "+t.Err.Error(), d.problem.Importance)
			d.problem.Show()
		case t.Warning != "":
			showLabel(d.problem, "Warning: "+t.Warning, d.problem.Importance)
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
		showLabel(d.sources, sourcesText(t, now), d.sources.Importance)
		d.files.set(fileEntries(t.Files))
	}
	files, peers := "Files", "Peers"
	if shown {
		files = "Files (" + formatCount(len(t.Files)) + ")"
		peers = "Peers (" + formatCount(len(t.PeerList)) + ")"
	}
	d.tabs.setTitle(0, files)
	d.tabs.setTitle(1, peers)
	d.peers.Refresh()
}

// showPublication shows the current torrent's publication (ok false:
// it is none).
func (d *detailsPanel) showPublication(p engine.PublicationStatus, ok bool) {
	d.pub, d.pubShown = p, ok && d.shown
	if !d.pubShown {
		d.pubRow.Hide()
		return
	}
	d.pubNote.SetText(publicationText(p))
	if p.Publisher {
		d.updateNow.Hide()
		d.autoCheck.Hide()
	} else {
		d.updateNow.Show()
		if p.Available > p.Version {
			d.updateNow.SetText(fmt.Sprintf("Update to version %d", p.Available))
			d.updateNow.Enable()
		} else {
			d.updateNow.SetText("Update now")
			d.updateNow.Disable()
		}
		// Set without calling back: only the user's click is a command.
		d.autoCheck.OnChanged = nil
		d.autoCheck.SetChecked(p.AutoUpdate)
		d.autoCheck.OnChanged = func(on bool) {
			if d.pubShown && d.onAutoUpdate != nil {
				d.onAutoUpdate(d.pub, on)
			}
		}
		d.autoCheck.Show()
	}
	d.pubRow.Show()
}

// summaryText is the line over the details: name, size, pieces, the
// swarm's size by the DHT (BEP 33) once known, folder.
func summaryText(t engine.TorrentStatus) string {
	if t.PiecesTotal == 0 {
		return fmt.Sprintf("%s — size not known yet%s — in %s", t.Name, dhtSwarmText(t), t.Dir)
	}
	size := formatSize(t.Size)
	if t.Wanted > 0 && t.Wanted < t.Size {
		size = formatSize(t.Wanted) + " chosen of " + size
	}
	return fmt.Sprintf("%s — %s, %s of %s, %s done%s — in %s", t.Name, size,
		plural(t.PiecesTotal, "piece"), formatSize(t.PieceLength), formatCount(t.PiecesHave), dhtSwarmText(t), t.Dir)
}

// dhtSwarmText is " — about N seeds, M peers (DHT)", the DHT's estimate
// of the swarm (BEP 33 scrape), or "" while there is none.
func dhtSwarmText(t engine.TorrentStatus) string {
	if _, ok := dhtSwarmSize(t); !ok {
		return ""
	}
	return fmt.Sprintf(" — about %s, %s (DHT)", plural(t.DHTSeeds, "seed"), plural(t.DHTPeers, "peer"))
}

// dhtSwarmSize is the DHT's estimate of the swarm's size, seeds and
// peers together; ok is false while there is none.
func dhtSwarmSize(t engine.TorrentStatus) (n int, ok bool) {
	if t.DHTSeeds < 0 || t.DHTPeers < 0 || t.DHTScrapedAt.IsZero() {
		return 0, false
	}
	return t.DHTSeeds + t.DHTPeers, true
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
		fmt.Fprintf(&b, "DHT: %s found, last lookup %s", plural(t.DHT.PeersFound, "peer"), formatAge(now, t.DHT.LastLookup))
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
		fmt.Fprintf(&b, "PEX: %s learnt\n", plural(t.PEXPeers, "address"))
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
			status = fmt.Sprintf("working, %s (%s, %s), %s", plural(tr.Peers, "peer"), plural(tr.Seeders, "seeder"), plural(tr.Leechers, "leecher"), formatAge(now, tr.LastAnnounce))
		}
		if tr.LastWarning != "" {
			status += ", warning: " + tr.LastWarning
		}
		fmt.Fprintf(&b, "Tracker (tier %d) %s: %s\n", tr.Tier, tr.URL, status)
	}
	fmt.Fprintf(&b, "Info hash: %s\n", t.InfoHash)
	return strings.TrimSuffix(b.String(), "\n")
}
