package ui

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// rowList is the torrent list's scrolling part: a Fyne list whose rows
// handle the mouse themselves and whose keyboard is the torrent list's.
type rowList struct {
	widget.List
	l       *torrentList
	focused bool
	shown   map[*rowWidget]bool // the row objects made, to find one by row
}

func newRowList(l *torrentList) *rowList {
	r := &rowList{l: l, shown: map[*rowWidget]bool{}}
	r.Length = func() int { return len(l.rows) }
	r.CreateItem = func() fyne.CanvasObject {
		w := newRowWidget(l)
		r.shown[w] = true
		return w
	}
	r.UpdateItem = func(i widget.ListItemID, o fyne.CanvasObject) {
		if i < len(l.rows) {
			o.(*rowWidget).show(i, l.rows[i].view, r.focused)
		}
	}
	r.ExtendBaseWidget(r)
	return r
}

// rowWidgetOf returns the object showing row i, if it is on screen.
func (r *rowList) rowWidgetOf(i int) *rowWidget {
	for w := range r.shown {
		if w.id == i && w.Visible() && i >= 0 {
			return w
		}
	}
	return nil
}

// FocusGained shows the focus mark on the current row.
func (r *rowList) FocusGained() {
	r.focused = true
	r.Refresh()
}

// FocusLost hides the focus mark.
func (r *rowList) FocusLost() {
	r.focused = false
	r.Refresh()
}

// TypedKey is the torrent list's keyboard.
func (r *rowList) TypedKey(ev *fyne.KeyEvent) { r.l.typedKey(ev) }

// TypedRune ignores typing.
func (r *rowList) TypedRune(rune) {}

// TypedShortcut handles Ctrl+A and passes on the window's shortcuts.
func (r *rowList) TypedShortcut(s fyne.Shortcut) { r.l.typedShortcut(s) }

// focus gives the keyboard to the list.
func (r *rowList) focus() {
	if c := fyne.CurrentApp().Driver().CanvasForObject(r); c != nil {
		c.Focus(r)
	}
}

// rowWidget is one row of the torrent list: its cells, the selection's
// background and the keyboard focus mark. A click selects (with Ctrl or
// Shift as usual), a double click opens, a right click shows the menu.
type rowWidget struct {
	widget.BaseWidget
	l     *torrentList
	id    int
	cells *fyne.Container
	bg    *canvas.Rectangle
	mark  *canvas.Rectangle

	lastDown time.Time // of the last primary button press, for double clicks
}

func newRowWidget(l *torrentList) *rowWidget {
	bar := widget.NewProgressBar()
	bar.TextFormatter = func() string { return formatPercent(bar.Value) }
	cells := []fyne.CanvasObject{newCellLabel(fyne.TextTruncateEllipsis), newCellLabel(fyne.TextTruncateClip),
		bar, newCellLabel(fyne.TextTruncateEllipsis)}
	for range 4 {
		cells = append(cells, newCellLabel(fyne.TextTruncateClip))
	}
	w := &rowWidget{l: l, id: -1, cells: container.New(columnsLayout{l.cols}, cells...),
		bg: canvas.NewRectangle(theme.Color(theme.ColorNameSelection)), mark: canvas.NewRectangle(nil)}
	w.mark.StrokeColor = theme.Color(theme.ColorNamePrimary)
	w.mark.StrokeWidth = 2
	w.mark.FillColor = nil
	w.bg.Hide()
	w.mark.Hide()
	w.ExtendBaseWidget(w)
	return w
}

// show fills the row with v; focused says whether the list has the
// keyboard (the current row then shows the focus mark). Only the cells
// whose text or value changed are refreshed: a label's SetText lays its
// text out again even when it is the same, and scrolling a page of the
// list re-shows every row on screen.
func (w *rowWidget) show(id int, v rowView, focused bool) {
	w.id = id
	cells := w.cells.Objects
	setLabel(cells[0], v.Name)
	setLabel(cells[1], v.Size)
	if bar := cells[2].(*widget.ProgressBar); bar.Value != v.Progress {
		bar.SetValue(v.Progress)
	}
	imp := widget.MediumImportance
	if v.Failed {
		imp = widget.DangerImportance
	}
	cells[3].(*cellLabel).show(v.State, imp)
	setLabel(cells[4], v.Down)
	setLabel(cells[5], v.Up)
	setLabel(cells[6], v.Peers)
	setLabel(cells[7], v.ETA)
	setHidden(w.bg, !v.Selected)
	setHidden(w.mark, !(v.Current && focused))
}

// setLabel shows text in cell o unless it shows it already.
func setLabel(o fyne.CanvasObject, text string) {
	l := o.(*cellLabel)
	l.show(text, l.Importance)
}

// setHidden hides or shows o when it is not so already.
func setHidden(o fyne.CanvasObject, hidden bool) {
	switch {
	case hidden && o.Visible():
		o.Hide()
	case !hidden && !o.Visible():
		o.Show()
	}
}

// MouseDown opens the row's data on a double click (two presses of the
// primary button within half a second).
func (w *rowWidget) MouseDown(ev *desktop.MouseEvent) {
	if ev.Button != desktop.MouseButtonPrimary {
		return
	}
	now := time.Now()
	if now.Sub(w.lastDown) < 500*time.Millisecond && w.id >= 0 && w.id < len(w.l.rows) {
		w.lastDown = time.Time{}
		w.l.onOpen(w.l.rows[w.id].t.InfoHash)
		return
	}
	w.lastDown = now
}

// MouseUp does nothing; MouseDown needs it.
func (w *rowWidget) MouseUp(*desktop.MouseEvent) {}

// Tapped selects the row.
func (w *rowWidget) Tapped(*fyne.PointEvent) {
	w.l.table.focus()
	w.l.click(w.id, modifiers())
}

// TappedSecondary shows the context menu.
func (w *rowWidget) TappedSecondary(ev *fyne.PointEvent) {
	w.l.table.focus()
	w.l.secondaryClick(w.id, ev.AbsolutePosition)
}

func (w *rowWidget) CreateRenderer() fyne.WidgetRenderer {
	return &rowRenderer{w: w, objs: []fyne.CanvasObject{w.bg, w.cells, w.mark}}
}

type rowRenderer struct {
	w    *rowWidget
	objs []fyne.CanvasObject
}

func (r *rowRenderer) Layout(s fyne.Size) {
	pad := theme.Padding() / 2
	r.w.bg.Move(fyne.NewPos(-pad, 0))
	r.w.bg.Resize(fyne.NewSize(s.Width+2*pad, s.Height))
	r.w.mark.Move(fyne.NewPos(-pad+1, 1))
	r.w.mark.Resize(fyne.NewSize(s.Width+2*pad-2, s.Height-2))
	r.w.cells.Resize(s)
}

func (r *rowRenderer) MinSize() fyne.Size { return r.w.cells.MinSize() }

func (r *rowRenderer) Refresh() {
	r.w.bg.FillColor = theme.Color(theme.ColorNameSelection)
	r.w.mark.StrokeColor = theme.Color(theme.ColorNamePrimary)
	r.Layout(r.w.Size())
	for _, o := range r.objs {
		o.Refresh()
	}
}

func (r *rowRenderer) Objects() []fyne.CanvasObject { return r.objs }
func (r *rowRenderer) Destroy()                     {}
