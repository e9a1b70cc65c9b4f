package ui

import (
	"fyne.io/fyne/v2"
)

// listColumn is one column of the torrent list.
type listColumn struct {
	key   string  // its name in the settings and for sorting
	title string  // its header
	width float32 // default width; the name column takes what is left
	min   float32 // narrowest it can be dragged to
	// drop is the order in which a narrow window hides the column, 1
	// first; 0 never.
	drop int
}

// torrentColumns are the torrent list's columns, the name first.
var torrentColumns = []listColumn{
	{"name", "Name", 0, 0, 0},
	{"size", "Size", 80, 50, 4},
	{"progress", "Progress", 110, 60, 0},
	{"state", "State", 150, 80, 0},
	{"down", "Down", 90, 60, 3},
	{"up", "Up", 90, 60, 1},
	{"peers", "Peers", 105, 45, 2},
	{"eta", "ETA", 70, 45, 5},
}

// colPad is the gap between two columns.
const colPad = 6

// columnSet is the columns' widths, shared by the header and every row
// so that they line up; the user's widths (dragged in the header) are
// kept across restarts. Used on the Fyne thread only.
type columnSet struct {
	cols []listColumn
	// grow is the column that a wide window widens (-1: none); only the
	// name column grows otherwise.
	grow int
	// user holds the widths the user dragged, by key.
	user map[string]float32
	// placed caches the last placement, for width placedFor.
	placed    []colPlace
	placedFor float32
}

// colPlace is where one column is drawn; Hidden when the window is too
// narrow for it.
type colPlace struct {
	X, W   float32
	Hidden bool
}

func newColumnSet(cols []listColumn, user map[string]float32, grow int) *columnSet {
	s := &columnSet{cols: cols, grow: grow, user: map[string]float32{}}
	for _, c := range cols[1:] {
		if w, ok := user[c.key]; ok && w >= c.min && w <= 1000 {
			s.user[c.key] = w
		}
	}
	return s
}

// widthOf is column i's width before the window's share is added.
func (s *columnSet) widthOf(i int) float32 {
	if w, ok := s.user[s.cols[i].key]; ok {
		return w
	}
	return s.cols[i].width
}

// place lays the columns out in width total: the name gets at least a
// third of it (the columns that fit least are hidden to make room), and a
// wide window also gives some of its room to the grow column (the state,
// where errors are told) unless the user sized that column.
func (s *columnSet) place(total float32) []colPlace {
	if s.placed != nil && s.placedFor == total {
		return s.placed
	}
	n := len(s.cols)
	hidden := make([]bool, n)
	nameMin := max(150, total/3)
	fixed := func() float32 {
		var f float32
		for i := 1; i < n; i++ {
			if !hidden[i] {
				f += s.widthOf(i) + colPad
			}
		}
		return f
	}
	for drop := 1; total-fixed() < nameMin; drop++ {
		found, any := false, false
		for i := 1; i < n; i++ {
			if s.cols[i].drop >= drop {
				any = true
			}
			if s.cols[i].drop == drop {
				hidden[i], found = true, true
			}
		}
		if !found && !any {
			break
		}
	}
	widths := make([]float32, n)
	for i := 1; i < n; i++ {
		widths[i] = s.widthOf(i)
	}
	left := total - fixed()
	if g := s.grow; g > 0 && left > 600 && !hidden[g] {
		if _, set := s.user[s.cols[g].key]; !set {
			grow := (left - 600) / 2
			widths[g] += grow
			left -= grow
		}
	}
	widths[0] = max(left, 0)
	out := make([]colPlace, n)
	x := float32(0)
	for i := range n {
		if hidden[i] {
			out[i] = colPlace{X: x, Hidden: true}
			continue
		}
		out[i] = colPlace{X: x, W: widths[i]}
		x += widths[i] + colPad
	}
	s.placed, s.placedFor = out, total
	return out
}

// drag resizes the column whose right edge is grip (a visible column
// other than the last) by dx: a fixed column grows with dx, and the
// name's edge moves the first visible column after it.
func (s *columnSet) drag(grip int, dx float32) {
	i := grip
	if grip == 0 {
		for i = 1; i < len(s.cols) && s.placed != nil && s.placed[i].Hidden; i++ {
		}
		if i >= len(s.cols) {
			return
		}
		dx = -dx
	}
	c := s.cols[i]
	s.user[c.key] = min(max(s.widthOf(i)+dx, c.min), 1000)
	s.placed = nil
}

// saved returns the user's widths for the settings.
func (s *columnSet) saved() map[string]float32 {
	if len(s.user) == 0 {
		return nil
	}
	out := make(map[string]float32, len(s.user))
	for k, v := range s.user {
		out[k] = v
	}
	return out
}

// columnsLayout places a row's cells (one object per column) as the
// column set says; the header and the rows each use one.
type columnsLayout struct{ set *columnSet }

// Layout places the cells side by side, centred vertically; cells of
// hidden columns are hidden.
func (c columnsLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	places := c.set.place(size.Width)
	for i, o := range objs {
		if i >= len(places) {
			break
		}
		p := places[i]
		if p.Hidden {
			o.Hide()
			continue
		}
		o.Show()
		h := min(o.MinSize().Height, size.Height)
		o.Move(fyne.NewPos(p.X, (size.Height-h)/2))
		o.Resize(fyne.NewSize(p.W, h))
	}
}

// MinSize is small: the set hides columns to fit any width.
func (c columnsLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	h := float32(0)
	for _, o := range objs {
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(200, h)
}
