package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// tabStrip is a row of tabs over their pages. Each tab is a button, so
// that Tab reaches it, its focus shows, and Space or Return opens it (the
// tabs of Fyne's AppTabs cannot be reached from the keyboard).
type tabStrip struct {
	tabs     []*keyButton
	marks    []*canvas.Rectangle
	pages    []fyne.CanvasObject
	selected int
	root     *fyne.Container
	onSelect func(i int)
}

func newTabStrip(titles []string, pages []fyne.CanvasObject) *tabStrip {
	s := &tabStrip{pages: pages, onSelect: func(int) {}}
	var heads []fyne.CanvasObject
	for i, t := range titles {
		b := newKeyButton(nil, t, nil, func() { s.selectIndex(i) })
		b.Importance = widget.LowImportance
		mark := canvas.NewRectangle(theme.Color(theme.ColorNamePrimary))
		mark.SetMinSize(fyne.NewSize(0, 2))
		s.tabs, s.marks = append(s.tabs, b), append(s.marks, mark)
		heads = append(heads, container.NewBorder(nil, mark, nil, nil, b))
	}
	bar := container.NewBorder(nil, widget.NewSeparator(), nil, nil, container.NewHBox(heads...))
	s.root = container.NewBorder(bar, nil, nil, nil, container.NewStack(pages...))
	s.selectIndex(0)
	return s
}

// selectIndex shows page i.
func (s *tabStrip) selectIndex(i int) {
	if i < 0 || i >= len(s.pages) {
		return
	}
	s.selected = i
	for j, p := range s.pages {
		if j == i {
			p.Show()
			s.marks[j].Show()
		} else {
			p.Hide()
			s.marks[j].Hide()
		}
	}
	s.onSelect(i)
}

// setTitle renames tab i ("Peers (3)").
func (s *tabStrip) setTitle(i int, title string) {
	if s.tabs[i].Text != title {
		s.tabs[i].SetText(title)
	}
}
