package ui

import (
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"github.com/swarmdrop/swarmdrop/engine"
)

// The list's state filters.
const (
	filterAll         = "All"
	filterDownloading = "Downloading"
	filterSeeding     = "Seeding"
	filterPaused      = "Paused"
	filterError       = "Error"
)

var stateFilters = []string{filterAll, filterDownloading, filterSeeding, filterPaused, filterError}

// torrentList is the list of torrents: a header whose titles sort and
// whose edges resize the columns, and one row per torrent that passes the
// state filter and the name search. Any number of rows can be selected
// (Ctrl and Shift with the mouse and the arrows, Ctrl+A); the current
// row is the one whose details are shown. Only rows that changed are
// redrawn. Used on the Fyne thread only.
type torrentList struct {
	table  *rowList
	header *listHeader
	cols   *columnSet
	empty  *fyne.Container // the hint shown over an empty list
	hint   *widget.Label

	sortKey  string // a column's key, or "" for the order added
	sortDesc bool
	filter   string
	search   string

	all  []engine.TorrentStatus // the torrents last applied, in the order added
	rows []torrentRow           // the rows shown, in order
	// spare is the rows shown before the last ones, emptied, whose room
	// the next rebuild fills (no new thousand rows per snapshot).
	spare []torrentRow

	selection map[string]bool // info hashes of the selected rows
	current   string          // the current row's info hash, "" for none
	anchor    string          // where a Shift range starts

	// onSelect is told that the selection or the current row changed.
	onSelect func()
	// onOpen opens a torrent's data (double-click, Return).
	onOpen func(infoHash string)
	// onMenu shows the selection's context menu at pos (absolute).
	onMenu func(pos fyne.Position)
	// onKey handles Space, Delete and the other keys the list does not
	// use itself (nil: none); onShortcut the shortcuts.
	onKey      func(ev *fyne.KeyEvent)
	onShortcut func(s fyne.Shortcut)
	// onLayout is told that the sort or the column widths changed.
	onLayout func()
}

// torrentRow is one row: the torrent and what its cells show.
type torrentRow struct {
	t    engine.TorrentStatus
	view rowView
}

// rowView is what one row shows; rows whose view did not change are not
// redrawn.
type rowView struct {
	InfoHash, Name, Size, State, Down, Up, Peers, ETA string
	Progress                                          float64
	Failed                                            bool
	Selected, Current                                 bool
}

func viewOf(t engine.TorrentStatus) rowView {
	name := t.Name
	if name == "" {
		name = t.InfoHash
	}
	v := rowView{
		InfoHash: t.InfoHash, Name: name, Size: formatSize(t.Size), State: string(t.State),
		Down: formatRate(t.RateDown), Up: formatRate(t.RateUp),
		Peers: peersText(t), ETA: "–", Progress: t.Progress,
	}
	switch {
	case t.Size == 0:
		v.Size = "?"
	case t.Wanted > 0 && t.Wanted < t.Size:
		// Some files skipped: what it downloads, as its progress.
		v.Size = formatSize(t.Wanted)
	}
	if t.State == engine.StateDownloading {
		v.ETA = formatETA(t.ETA)
	}
	if t.State == engine.StateMoving {
		v.State = fmt.Sprintf("moving (%s)", formatPercent(t.Moving))
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

// peersText is the peers cell: connections and, of them, seeds, as
// "12 (3)"; when the DHT estimated the swarm (BEP 33, trackerless
// torrents above all), the connections and the swarm's size, seeds and
// peers together, as qBittorrent shows a tracker's count: "12 (~40 DHT)".
func peersText(t engine.TorrentStatus) string {
	if n, ok := dhtSwarmSize(t); ok {
		return formatCount(t.Peers) + " (~" + formatCount(n) + " DHT)"
	}
	if t.Seeds == 0 {
		return formatCount(t.Peers)
	}
	return formatCount(t.Peers) + " (" + formatCount(t.Seeds) + ")"
}

// sortLayout is the list's saved order.
type sortLayout struct {
	Key  string
	Desc bool
}

func newTorrentList(widths map[string]float32, order sortLayout) *torrentList {
	l := &torrentList{filter: filterAll, selection: map[string]bool{}, onSelect: func() {},
		onOpen: func(string) {}, onMenu: func(fyne.Position) {}, onLayout: func() {}}
	l.cols = newColumnSet(torrentColumns, widths, 3)
	for _, c := range torrentColumns {
		if c.key == order.Key {
			l.sortKey, l.sortDesc = order.Key, order.Desc
		}
	}
	l.table = newRowList(l)
	l.header = newListHeader(l.cols, l.sortBy, l.table.Refresh, func() { l.onLayout() })
	l.header.showSort(l.sortKey, l.sortDesc)
	return l
}

// content returns the header and the list.
func (l *torrentList) content() fyne.CanvasObject {
	l.hint = widget.NewLabelWithStyle(emptyHint, fyne.TextAlignCenter, fyne.TextStyle{Italic: true})
	l.hint.Importance = widget.LowImportance
	// Not wrapped: a wrapped label in a centring container is given its
	// minimum width, one letter, and grows as tall as the text is long.
	l.empty = container.NewCenter(l.hint)
	l.showHint()
	return container.NewBorder(l.header, nil, nil, nil, container.NewStack(l.table, l.empty))
}

const (
	emptyHint = "Drop files or folders here to publish them as a trackerless torrent,\n" +
		"or open a .torrent file or a magnet link."
	noMatchHint = "No torrent matches the filter."
)

func (l *torrentList) showHint() {
	if l.empty == nil {
		return
	}
	hidden, text := len(l.rows) > 0, emptyHint
	if len(l.all) > 0 {
		text = noMatchHint
	}
	if l.hint.Text != text {
		l.hint.SetText(text)
	}
	if l.empty.Hidden != hidden {
		l.empty.Hidden = hidden
		l.empty.Refresh()
	}
}

// sortBy sorts by the column key: ascending, then descending, then back
// to the order added.
func (l *torrentList) sortBy(key string) {
	switch {
	case l.sortKey != key:
		l.sortKey, l.sortDesc = key, false
	case !l.sortDesc:
		l.sortDesc = true
	default:
		l.sortKey, l.sortDesc = "", false
	}
	l.header.showSort(l.sortKey, l.sortDesc)
	l.rebuild()
	l.onLayout()
}

// setFilter shows only the torrents in a state filter.
func (l *torrentList) setFilter(f string) {
	if l.filter != f {
		l.filter = f
		l.rebuild()
	}
}

// setSearch shows only the torrents whose name holds s (any case).
func (l *torrentList) setSearch(s string) {
	s = strings.ToLower(strings.TrimSpace(s))
	if l.search != s {
		l.search = s
		l.rebuild()
	}
}

// matches tells whether t passes the filter and the search.
func (l *torrentList) matches(t engine.TorrentStatus) bool {
	if l.search != "" && !strings.Contains(strings.ToLower(t.Name), l.search) {
		return false
	}
	return filterMatches(l.filter, t.State)
}

func filterMatches(filter string, s engine.TorrentState) bool {
	switch filter {
	case filterDownloading:
		return s != engine.StateSeeding && s != engine.StatePaused && s != engine.StateError
	case filterSeeding:
		return s == engine.StateSeeding
	case filterPaused:
		return s == engine.StatePaused
	case filterError:
		return s == engine.StateError
	}
	return true
}

// apply shows a snapshot's torrents.
func (l *torrentList) apply(ts []engine.TorrentStatus) {
	l.all = ts
	l.rebuild()
}

// rebuild filters and sorts the torrents into rows, drops the selection
// of rows no longer shown, and redraws what changed.
func (l *torrentList) rebuild() {
	rows := l.spare[:0]
	l.spare = nil
	for _, t := range l.all {
		if l.matches(t) {
			rows = append(rows, torrentRow{t: t})
		}
	}
	if l.sortKey != "" {
		rows = l.sorted(rows)
	}
	changed := false
	if len(l.selection) > 0 || l.current != "" {
		shown := make(map[string]bool, len(rows))
		for _, r := range rows {
			shown[r.t.InfoHash] = true
		}
		for ih := range l.selection {
			if !shown[ih] {
				delete(l.selection, ih)
				changed = true
			}
		}
		if l.current != "" && !shown[l.current] {
			l.current, changed = "", true
		}
	}
	for i := range rows {
		rows[i].view = viewOf(rows[i].t)
	}
	l.setRows(rows)
	if changed {
		l.onSelect()
	}
}

// sorted returns rows in the list's order. It sorts their indexes, not
// the rows: a row is the whole TorrentStatus, and moving a thousand of
// them about took most of the time of a sorted snapshot.
func (l *torrentList) sorted(rows []torrentRow) []torrentRow {
	cmp := rowCompare(l.sortKey)
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if l.sortDesc {
			a, b = b, a
		}
		return cmp(&rows[a].t, &rows[b].t)
	})
	out := make([]torrentRow, len(rows))
	for i, j := range order {
		out[i] = rows[j]
	}
	return out
}

// setRows shows rows, marking the selection, and redraws the rows that
// changed (all of them when rows moved).
func (l *torrentList) setRows(rows []torrentRow) {
	for i := range rows {
		ih := rows[i].t.InfoHash
		rows[i].view.Selected, rows[i].view.Current = l.selection[ih], ih == l.current
	}
	old := l.rows
	l.rows = rows
	defer func() {
		clear(old) // holds no snapshot's files and peers
		l.spare = old[:0]
	}()
	l.showHint()
	if len(old) != len(rows) {
		l.table.Refresh()
		return
	}
	changed := map[int]bool{}
	for i := range rows {
		if rows[i].view != old[i].view {
			changed[i] = true
		}
	}
	l.redraw(changed)
}

// redraw fills again the row objects on screen whose row changed; rows
// off screen are filled when scrolled into view (UpdateItem reads
// l.rows). Not Fyne's List.RefreshItem: each call of it refreshes the
// whole list, 36 ms with a thousand torrents, so 50 changed rates took
// 1.8 s per snapshot (BenchmarkApplySnapshot).
func (l *torrentList) redraw(changed map[int]bool) {
	if len(changed) == 0 {
		return
	}
	for w := range l.table.shown {
		if w.id >= 0 && changed[w.id] && w.Visible() {
			w.show(w.id, l.rows[w.id].view, l.table.focused)
		}
	}
}

// remark redraws the rows after the selection changed.
func (l *torrentList) remark() { l.setRows(slices.Clone(l.rows)) }

// index returns the row of a torrent, or -1.
func (l *torrentList) index(ih string) int {
	for i, r := range l.rows {
		if r.t.InfoHash == ih {
			return i
		}
	}
	return -1
}

// selected returns the selected torrents in row order.
func (l *torrentList) selected() []engine.TorrentStatus {
	var out []engine.TorrentStatus
	for _, r := range l.rows {
		if l.selection[r.t.InfoHash] {
			out = append(out, r.t)
		}
	}
	return out
}

// currentTorrent returns the current row's torrent.
func (l *torrentList) currentTorrent() (engine.TorrentStatus, bool) {
	if i := l.index(l.current); i >= 0 {
		return l.rows[i].t, true
	}
	return engine.TorrentStatus{}, false
}

// modifiers are the keyboard modifiers held now (none without a desktop
// driver, as in tests).
func modifiers() fyne.KeyModifier {
	if d, ok := fyne.CurrentApp().Driver().(desktop.Driver); ok {
		return d.CurrentKeyModifiers()
	}
	return 0
}

// click selects row i as a click with mods does: alone, Ctrl toggles it,
// Shift selects the range from the anchor.
func (l *torrentList) click(i int, mods fyne.KeyModifier) {
	if i < 0 || i >= len(l.rows) {
		return
	}
	ih := l.rows[i].t.InfoHash
	switch {
	case mods&fyne.KeyModifierShift != 0:
		l.selectRange(i)
	case mods&fyne.KeyModifierShortcutDefault != 0:
		if l.selection[ih] {
			delete(l.selection, ih)
		} else {
			l.selection[ih] = true
		}
		l.anchor = ih
	default:
		clear(l.selection)
		l.selection[ih] = true
		l.anchor = ih
	}
	l.current = ih
	l.remark()
	l.onSelect()
}

// selectRange selects the rows from the anchor to row i.
func (l *torrentList) selectRange(i int) {
	a := l.index(l.anchor)
	if a < 0 {
		a = i
		l.anchor = l.rows[i].t.InfoHash
	}
	clear(l.selection)
	for j := min(a, i); j <= max(a, i); j++ {
		l.selection[l.rows[j].t.InfoHash] = true
	}
}

// selectIndex selects row i alone and makes it current.
func (l *torrentList) selectIndex(i int) { l.click(i, 0) }

// selectAll selects every row shown.
func (l *torrentList) selectAll() {
	for _, r := range l.rows {
		l.selection[r.t.InfoHash] = true
	}
	if l.current == "" && len(l.rows) > 0 {
		l.current = l.rows[0].t.InfoHash
	}
	l.remark()
	l.onSelect()
}

// unselectAll empties the selection.
func (l *torrentList) unselectAll() {
	clear(l.selection)
	l.current = ""
	l.remark()
	l.onSelect()
}

// moveTo makes row i current and selected (with Shift: the range from
// the anchor), scrolling to it.
func (l *torrentList) moveTo(i int, shift bool) {
	if len(l.rows) == 0 {
		return
	}
	i = min(max(i, 0), len(l.rows)-1)
	if shift {
		l.selectRange(i)
		l.current = l.rows[i].t.InfoHash
		l.remark()
		l.onSelect()
	} else {
		l.click(i, 0)
	}
	l.table.ScrollTo(i)
}

// typedKey is the list's keyboard: arrows, Page Up/Down, Home and End
// move (with Shift: select a range), Return opens, Menu shows the
// context menu, Escape empties the selection; others go to onKey.
func (l *torrentList) typedKey(ev *fyne.KeyEvent) {
	mods := modifiers()
	shift := mods&fyne.KeyModifierShift != 0
	cur := l.index(l.current)
	switch ev.Name {
	case fyne.KeyDown:
		l.moveTo(cur+1, shift)
	case fyne.KeyUp:
		if cur < 0 {
			cur = len(l.rows)
		}
		l.moveTo(cur-1, shift)
	case fyne.KeyPageDown:
		l.moveTo(cur+l.pageRows(), shift)
	case fyne.KeyPageUp:
		l.moveTo(cur-l.pageRows(), shift)
	case fyne.KeyHome:
		l.moveTo(0, shift)
	case fyne.KeyEnd:
		l.moveTo(len(l.rows)-1, shift)
	case fyne.KeyReturn, fyne.KeyEnter:
		if l.current != "" {
			l.onOpen(l.current)
		}
	case desktop.KeyMenu:
		l.menuAtCurrent()
	case fyne.KeyF10:
		if shift {
			l.menuAtCurrent()
		}
	case fyne.KeyEscape:
		if len(l.selection) > 0 {
			l.unselectAll()
		}
	default:
		if l.onKey != nil {
			l.onKey(ev)
		}
	}
}

// pageRows is how many rows a page holds.
func (l *torrentList) pageRows() int {
	h := l.table.Size().Height
	row := l.rowHeight()
	if row <= 0 || h <= row {
		return 1
	}
	return int(h / row)
}

func (l *torrentList) rowHeight() float32 {
	return newRowWidget(l).MinSize().Height
}

// menuAtCurrent shows the context menu next to the current row (or the
// list's corner).
func (l *torrentList) menuAtCurrent() {
	if len(l.selection) == 0 {
		return
	}
	d := fyne.CurrentApp().Driver()
	pos := d.AbsolutePositionForObject(l.table)
	if r := l.table.rowWidgetOf(l.index(l.current)); r != nil {
		pos = d.AbsolutePositionForObject(r).Add(fyne.NewPos(40, r.Size().Height))
	}
	l.onMenu(pos)
}

// secondaryClick shows the context menu of row i at pos, selecting the
// row alone first unless it is selected.
func (l *torrentList) secondaryClick(i int, pos fyne.Position) {
	if i < 0 || i >= len(l.rows) {
		return
	}
	if !l.selection[l.rows[i].t.InfoHash] {
		l.click(i, 0)
	} else if l.current != l.rows[i].t.InfoHash {
		l.current = l.rows[i].t.InfoHash
		l.remark()
		l.onSelect()
	}
	l.onMenu(pos)
}

// typedShortcut selects all on Ctrl+A and gives the others to the window.
func (l *torrentList) typedShortcut(s fyne.Shortcut) {
	if _, ok := s.(*fyne.ShortcutSelectAll); ok {
		l.selectAll()
		return
	}
	if l.onShortcut != nil {
		l.onShortcut(s)
	}
}

// layout returns the sort and the column widths, for the settings.
func (l *torrentList) layout() (sortLayout, map[string]float32) {
	return sortLayout{l.sortKey, l.sortDesc}, l.cols.saved()
}
