package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// toolButton is a toolbar button that shows its label when the window is
// wide enough and its icon alone otherwise.
type toolButton struct {
	btn          *widget.Button
	label        string
	wide, narrow float32 // widths with and without the label
}

func newToolButton(label string, icon fyne.Resource, tapped func()) *toolButton {
	b := widget.NewButtonWithIcon(label, icon, tapped)
	b.Importance = widget.LowImportance
	narrow := widget.NewButtonWithIcon("", icon, nil).MinSize().Width
	return &toolButton{btn: b, label: label, wide: b.MinSize().Width, narrow: narrow}
}

// fold shows the icon alone (or the label again).
func (b *toolButton) fold(narrow bool) {
	want := b.label
	if narrow {
		want = ""
	}
	if b.btn.Text != want {
		b.btn.SetText(want)
	}
}

// toolbarLayout places the toolbar: the left group from the left edge,
// the right group against the right edge, and in it one flexible object
// (the search field) that takes the room left, within bounds. When the
// labelled buttons do not fit, every button folds to its icon.
type toolbarLayout struct {
	left, right []fyne.CanvasObject
	tools       map[fyne.CanvasObject]*toolButton // the buttons that fold
	flex        fyne.CanvasObject
	flexMin     float32
	flexMax     float32
	narrow      bool // the buttons are folded
}

const toolGap = 4

func (t *toolbarLayout) width(o fyne.CanvasObject, narrow bool) float32 {
	if b := t.tools[o]; b != nil {
		if narrow {
			return b.narrow
		}
		return b.wide
	}
	if o == t.flex {
		return t.flexMin
	}
	return o.MinSize().Width
}

func (t *toolbarLayout) total(narrow bool) float32 {
	w := float32(0)
	for _, o := range append(append([]fyne.CanvasObject{}, t.left...), t.right...) {
		if o.Visible() {
			w += t.width(o, narrow) + toolGap
		}
	}
	return w
}

// Layout folds or unfolds the buttons and places everything.
func (t *toolbarLayout) Layout(_ []fyne.CanvasObject, size fyne.Size) {
	narrow := t.total(false)+(t.flexMax-t.flexMin)/2 > size.Width
	if narrow != t.narrow {
		t.narrow = narrow
		for _, o := range append(append([]fyne.CanvasObject{}, t.left...), t.right...) {
			if b := t.tools[o]; b != nil {
				b.fold(narrow)
			}
		}
	}
	spare := size.Width - t.total(narrow)
	place := func(o fyne.CanvasObject, x, w float32) {
		h := size.Height
		if _, ok := o.(*widget.Separator); ok {
			h = size.Height * 0.6
		} else if t.tools[o] == nil {
			h = min(o.MinSize().Height, size.Height)
		}
		o.Move(fyne.NewPos(x, (size.Height-h)/2))
		o.Resize(fyne.NewSize(w, h))
	}
	x := float32(0)
	for _, o := range t.left {
		if !o.Visible() {
			continue
		}
		w := t.width(o, narrow)
		place(o, x, w)
		x += w + toolGap
	}
	x = size.Width
	for i := len(t.right) - 1; i >= 0; i-- {
		o := t.right[i]
		if !o.Visible() {
			continue
		}
		w := t.width(o, narrow)
		if o == t.flex && spare > 0 {
			w = min(t.flexMin+spare, t.flexMax)
		}
		x -= w
		place(o, x, w)
		x -= toolGap
	}
}

// MinSize is the folded toolbar's size.
func (t *toolbarLayout) MinSize([]fyne.CanvasObject) fyne.Size {
	h := float32(0)
	for _, o := range append(append([]fyne.CanvasObject{}, t.left...), t.right...) {
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(t.total(true), h)
}

// newToolbar builds the toolbar's container from its items: tool
// buttons, separators and other objects (flex, the search field, among
// the right ones).
func newToolbar(left, right []any, flex fyne.CanvasObject) (*fyne.Container, *toolbarLayout) {
	l := &toolbarLayout{flex: flex, flexMin: 110, flexMax: 260, tools: map[fyne.CanvasObject]*toolButton{}}
	obj := func(it any) fyne.CanvasObject {
		if b, ok := it.(*toolButton); ok {
			l.tools[b.btn] = b
			return b.btn
		}
		return it.(fyne.CanvasObject)
	}
	for _, it := range left {
		l.left = append(l.left, obj(it))
	}
	for _, it := range right {
		l.right = append(l.right, obj(it))
	}
	objs := append(append([]fyne.CanvasObject{}, l.left...), l.right...)
	return container.New(l, objs...), l
}

// toolSeparator is a thin vertical line between toolbar groups.
func toolSeparator() fyne.CanvasObject { return widget.NewSeparator() }
