package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// fitRow lays objects out in one row at the width their text wants; when
// the row is too narrow, the labels and links (which truncate) shrink in
// proportion, down to a few characters. Objects after the spacer index
// are pushed against the right edge.
type fitRow struct {
	spacer int // index of the first right-aligned object; len(objs) for none
}

// wantWidth is the width o needs to show all of its text: the minimum
// width of the same text not truncated (measuring the text alone missed
// the padding labels draw around it, and cut "Port 44019" short), and a
// pixel or two more: at exactly its minimum width, a truncating label
// still cuts its last letters.
func wantWidth(o fyne.CanvasObject) float32 {
	switch o := o.(type) {
	case *cellLabel:
		return o.textWidth() + fitSlack
	case *widget.Label:
		l := widget.NewLabelWithStyle(o.Text, o.Alignment, o.TextStyle)
		l.SizeName = o.SizeName
		return l.MinSize().Width + fitSlack
	case *widget.Hyperlink:
		return widget.NewLabelWithStyle(o.Text, o.Alignment, o.TextStyle).MinSize().Width + theme.Padding() + fitSlack
	}
	return o.MinSize().Width
}

// shrinks tells whether o can be drawn narrower than it wants.
func shrinks(o fyne.CanvasObject) bool {
	switch o := o.(type) {
	case *cellLabel:
		return o.cut != fyne.TextTruncateOff
	case *widget.Label:
		return o.Truncation != fyne.TextTruncateOff
	case *widget.Hyperlink:
		return o.Truncation != fyne.TextTruncateOff
	}
	return false
}

const (
	fitShrunk = 48 // the narrowest a shrinking object gets
	fitSlack  = 2  // what truncating labels need beyond their text
)

// Layout places the objects.
func (f fitRow) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	widths := make([]float32, len(objs))
	total, flex := float32(0), float32(0)
	for i, o := range objs {
		if !o.Visible() {
			continue
		}
		widths[i] = wantWidth(o)
		total += widths[i] + toolGap
		if shrinks(o) {
			flex += widths[i] - min(widths[i], fitShrunk)
		}
	}
	if over := total - size.Width; over > 0 && flex > 0 {
		k := min(over/flex, 1)
		for i, o := range objs {
			if o.Visible() && shrinks(o) {
				widths[i] -= (widths[i] - min(widths[i], fitShrunk)) * k
			}
		}
	}
	x := float32(0)
	place := func(i int) {
		o := objs[i]
		h := min(o.MinSize().Height, size.Height)
		if _, ok := o.(*widget.Separator); ok {
			h = size.Height * 0.6
		}
		o.Move(fyne.NewPos(x, (size.Height-h)/2))
		o.Resize(fyne.NewSize(widths[i], h))
	}
	for i := 0; i < f.spacer && i < len(objs); i++ {
		if objs[i].Visible() {
			place(i)
			x += widths[i] + toolGap
		}
	}
	right := float32(0)
	for i := f.spacer; i < len(objs); i++ {
		if objs[i].Visible() {
			right += widths[i] + toolGap
		}
	}
	x = max(x, size.Width-right+toolGap)
	for i := f.spacer; i < len(objs); i++ {
		if objs[i].Visible() {
			place(i)
			x += widths[i] + toolGap
		}
	}
}

// MinSize is the row with every shrinking object at its narrowest.
func (f fitRow) MinSize(objs []fyne.CanvasObject) fyne.Size {
	w, h := float32(0), float32(0)
	for _, o := range objs {
		if !o.Visible() {
			continue
		}
		ow := wantWidth(o)
		if shrinks(o) {
			ow = min(ow, fitShrunk)
		}
		w += ow + toolGap
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(w, h)
}
