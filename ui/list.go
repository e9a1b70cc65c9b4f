package ui

import (
	"fmt"
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/swarmdrop/swarmdrop/engine"
)

// listColumns are the widths of the torrent list's columns after the name:
// size, progress, state, down, up, peers, ETA.
var listColumns = columns{widths: []float32{80, 130, 150, 90, 90, 60, 70}}

// rowView is what one row of the torrent list shows, as text; rows whose
// view did not change are not redrawn.
type rowView struct {
	InfoHash, Name, Size, State, Down, Up, Peers, ETA string
	Progress                                          float64
	Failed                                            bool
}

func viewOf(t engine.TorrentStatus) rowView {
	name := t.Name
	if name == "" {
		name = t.InfoHash
	}
	v := rowView{
		InfoHash: t.InfoHash, Name: name, Size: formatSize(t.Size), State: string(t.State),
		Down: formatRate(t.RateDown), Up: formatRate(t.RateUp),
		Peers: fmt.Sprintf("%d (%d)", t.Peers, t.Seeds), ETA: "–", Progress: t.Progress,
	}
	if t.Size == 0 {
		v.Size = "?"
	}
	if t.State == engine.StateDownloading {
		v.ETA = formatETA(t.ETA)
	}
	if t.State == engine.StateError {
		v.State, v.Failed = "error", true
		if t.Err != nil {
			v.State = "error: " + t.Err.Error()
		}
	} else if t.Warning != "" {
		v.State += " (" + t.Warning + ")"
	}
	return v
}

// sortOrder names the torrent list's orders.
const (
	sortAdded = "Order added"
	sortName  = "Name"
)

// torrentList is the list of torrents: a header and one row per torrent,
// sorted by add order or name. Only rows that changed are redrawn.
type torrentList struct {
	list  *widget.List
	empty *fyne.Container // the hint shown over an empty list
	order string
	rows  []rowView
	last  []engine.TorrentStatus // the torrents last applied
	// selected is the info hash of the selected torrent, "" for none.
	selected string

	onSelect func(infoHash string)
}

func newTorrentList(onSelect func(string)) *torrentList {
	l := &torrentList{order: sortAdded, onSelect: onSelect}
	l.list = widget.NewList(
		func() int { return len(l.rows) },
		newRowObject,
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i < len(l.rows) {
				showRow(o, l.rows[i])
			}
		},
	)
	l.list.OnSelected = func(i widget.ListItemID) {
		if i < len(l.rows) && l.rows[i].InfoHash != l.selected {
			l.selected = l.rows[i].InfoHash
			l.onSelect(l.selected)
		}
	}
	l.list.OnUnselected = func(i widget.ListItemID) {
		if i < len(l.rows) && l.rows[i].InfoHash == l.selected {
			l.selected = ""
			l.onSelect("")
		}
	}
	return l
}

// content returns the header and the list.
func (l *torrentList) content() fyne.CanvasObject {
	header := container.New(listColumns,
		bold("Name"), bold("Size"), bold("Progress"), bold("State"),
		bold("Down"), bold("Up"), bold("Peers"), bold("ETA"))
	hint := widget.NewLabelWithStyle("Drop files or folders here to publish them as a trackerless torrent,\n"+
		"or open a .torrent file or a magnet link.", fyne.TextAlignCenter, fyne.TextStyle{Italic: true})
	hint.Importance = widget.LowImportance
	l.empty = container.NewCenter(hint)
	l.empty.Hidden = len(l.rows) > 0
	return container.NewBorder(header, nil, nil, nil, container.NewStack(l.list, l.empty))
}

// sortChoice returns the choice of the list's order.
func (l *torrentList) sortChoice() fyne.CanvasObject {
	sortBy := widget.NewSelect([]string{sortAdded, sortName}, func(s string) {
		if s != l.order {
			l.order = s
			l.apply(l.last)
		}
	})
	sortBy.SetSelected(l.order)
	return container.NewHBox(widget.NewLabel("Sort by"), sortBy)
}

func bold(s string) *widget.Label {
	return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
}

// apply shows a snapshot's torrents, redrawing only the rows that changed
// and keeping the selection on the same torrent.
func (l *torrentList) apply(ts []engine.TorrentStatus) {
	l.last = ts
	rows := make([]rowView, len(ts))
	for i, t := range ts {
		rows[i] = viewOf(t)
	}
	if l.order == sortName {
		sort.SliceStable(rows, func(i, j int) bool {
			return strings.ToLower(rows[i].Name) < strings.ToLower(rows[j].Name)
		})
	}
	old := l.rows
	l.rows = rows
	if l.empty != nil && l.empty.Hidden != (len(rows) > 0) {
		l.empty.Hidden = len(rows) > 0
		l.empty.Refresh()
	}
	moved := len(old) != len(rows)
	for i := 0; !moved && i < len(rows); i++ {
		moved = old[i].InfoHash != rows[i].InfoHash
	}
	if moved {
		l.list.Refresh()
		l.reselect()
		return
	}
	for i := range rows {
		if rows[i] != old[i] {
			l.list.RefreshItem(i)
		}
	}
}

// reselect selects the row of the selected torrent after the rows moved.
func (l *torrentList) reselect() {
	for i, r := range l.rows {
		if r.InfoHash == l.selected {
			l.list.Select(i)
			return
		}
	}
	if l.selected != "" {
		l.selected = ""
		l.list.UnselectAll()
		l.onSelect("")
	}
}

// newRowObject builds an empty row.
func newRowObject() fyne.CanvasObject {
	name := widget.NewLabel("")
	name.Truncation = fyne.TextTruncateEllipsis
	state := widget.NewLabel("")
	state.Truncation = fyne.TextTruncateEllipsis
	cells := []fyne.CanvasObject{name, widget.NewLabel(""), widget.NewProgressBar(), state}
	for range 4 {
		cells = append(cells, widget.NewLabel(""))
	}
	return container.New(listColumns, cells...)
}

// showRow fills a row object with v.
func showRow(o fyne.CanvasObject, v rowView) {
	cells := o.(*fyne.Container).Objects
	cells[0].(*widget.Label).SetText(v.Name)
	cells[1].(*widget.Label).SetText(v.Size)
	cells[2].(*widget.ProgressBar).SetValue(v.Progress)
	st := cells[3].(*widget.Label)
	st.Importance = widget.MediumImportance
	if v.Failed {
		st.Importance = widget.DangerImportance
	}
	st.SetText(v.State)
	st.Refresh()
	for i, s := range []string{v.Down, v.Up, v.Peers, v.ETA} {
		cells[4+i].(*widget.Label).SetText(s)
	}
}
