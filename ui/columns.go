package ui

import "fyne.io/fyne/v2"

// columns lays objects out in one row: the first takes the width left
// over, each other one has its fixed width. The torrent list's header and
// rows share one, so that they line up.
type columns struct {
	widths []float32 // of objects 1..n
}

// Layout places objects side by side, centred vertically.
func (c columns) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	const pad = 6
	fixed := float32(0)
	for _, w := range c.widths {
		fixed += w + pad
	}
	x := float32(0)
	for i, o := range objs {
		w := size.Width - fixed
		if i > 0 {
			w = c.widths[i-1]
		}
		if w < 0 {
			w = 0
		}
		h := o.MinSize().Height
		if h > size.Height {
			h = size.Height
		}
		o.Move(fyne.NewPos(x, (size.Height-h)/2))
		o.Resize(fyne.NewSize(w, h))
		x += w + pad
	}
}

// MinSize is the fixed widths plus room for a short name.
func (c columns) MinSize(objs []fyne.CanvasObject) fyne.Size {
	w, h := float32(160), float32(0)
	for _, cw := range c.widths {
		w += cw + 6
	}
	for _, o := range objs {
		if m := o.MinSize().Height; m > h {
			h = m
		}
	}
	return fyne.NewSize(w, h)
}
