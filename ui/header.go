package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// listHeader is the torrent list's header: a title per column, which
// sorts the list when clicked, and a grip at each column's right edge to
// drag its width.
type listHeader struct {
	widget.BaseWidget
	set   *columnSet
	cells []*headerCell
	grips []*columnGrip

	onSort    func(key string) // a title was clicked
	onResize  func()           // a grip moved: the rows must follow
	onResized func()           // a drag ended: the widths are worth saving
}

func newListHeader(set *columnSet, onSort func(string), onResize, onResized func()) *listHeader {
	h := &listHeader{set: set, onSort: onSort, onResize: onResize, onResized: onResized}
	for i, c := range set.cols {
		key := c.key
		h.cells = append(h.cells, newHeaderCell(c.title, func() { h.onSort(key) }))
		if i < len(set.cols)-1 {
			h.grips = append(h.grips, &columnGrip{h: h, col: i})
			h.grips[i].ExtendBaseWidget(h.grips[i])
		}
	}
	h.ExtendBaseWidget(h)
	return h
}

// showSort marks the sorted column with an arrow.
func (h *listHeader) showSort(key string, desc bool) {
	for i, c := range h.set.cols {
		t := c.title
		if c.key == key {
			t += map[bool]string{false: " ▲", true: " ▼"}[desc]
		}
		if h.cells[i].Text != t {
			h.cells[i].SetText(t)
		}
	}
}

func (h *listHeader) CreateRenderer() fyne.WidgetRenderer {
	var objs []fyne.CanvasObject
	for _, c := range h.cells {
		objs = append(objs, c)
	}
	for _, g := range h.grips {
		objs = append(objs, g)
	}
	return &headerRenderer{h: h, objs: objs}
}

type headerRenderer struct {
	h    *listHeader
	objs []fyne.CanvasObject
}

func (r *headerRenderer) Layout(size fyne.Size) {
	cells := make([]fyne.CanvasObject, len(r.h.cells))
	for i, c := range r.h.cells {
		cells[i] = c
	}
	columnsLayout{r.h.set}.Layout(cells, size)
	places := r.h.set.place(size.Width)
	last := -1
	for i, p := range places {
		if !p.Hidden {
			last = i
		}
	}
	const gw = 8
	for i, g := range r.h.grips {
		p := places[i]
		if p.Hidden || i == last {
			g.Hide()
			continue
		}
		g.Show()
		g.Move(fyne.NewPos(p.X+p.W+colPad/2-gw/2, 0))
		g.Resize(fyne.NewSize(gw, size.Height))
	}
}

func (r *headerRenderer) MinSize() fyne.Size {
	return fyne.NewSize(200, r.h.cells[0].MinSize().Height)
}

func (r *headerRenderer) Refresh() {
	r.Layout(r.h.Size())
	for _, o := range r.objs {
		o.Refresh()
	}
}

func (r *headerRenderer) Objects() []fyne.CanvasObject { return r.objs }
func (r *headerRenderer) Destroy()                     {}

// headerCell is a column's title; clicking it sorts by the column.
type headerCell struct {
	widget.Label
	tapped func()
}

func newHeaderCell(title string, tapped func()) *headerCell {
	c := &headerCell{tapped: tapped}
	c.Text, c.TextStyle, c.Truncation = title, fyne.TextStyle{Bold: true}, fyne.TextTruncateEllipsis
	c.ExtendBaseWidget(c)
	return c
}

// Tapped sorts by the column.
func (c *headerCell) Tapped(*fyne.PointEvent) { c.tapped() }

// Cursor is the hand: the title is a button.
func (c *headerCell) Cursor() desktop.Cursor { return desktop.PointerCursor }

// columnGrip is the handle at a column's right edge.
type columnGrip struct {
	widget.BaseWidget
	h   *listHeader
	col int
}

// Dragged resizes the column.
func (g *columnGrip) Dragged(ev *fyne.DragEvent) {
	g.h.set.drag(g.col, ev.Dragged.DX)
	g.h.Refresh()
	g.h.onResize()
}

// DragEnd keeps the new width.
func (g *columnGrip) DragEnd() { g.h.onResized() }

// Cursor shows that the edge can be dragged.
func (g *columnGrip) Cursor() desktop.Cursor { return desktop.HResizeCursor }

func (g *columnGrip) CreateRenderer() fyne.WidgetRenderer {
	line := canvas.NewRectangle(theme.Color(theme.ColorNameSeparator))
	return &gripRenderer{line: line}
}

type gripRenderer struct{ line *canvas.Rectangle }

func (r *gripRenderer) Layout(s fyne.Size) {
	r.line.Move(fyne.NewPos(s.Width/2-0.5, s.Height*0.2))
	r.line.Resize(fyne.NewSize(1, s.Height*0.6))
}
func (r *gripRenderer) MinSize() fyne.Size           { return fyne.NewSize(8, 8) }
func (r *gripRenderer) Refresh()                     { r.line.Refresh() }
func (r *gripRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.line} }
func (r *gripRenderer) Destroy()                     {}
