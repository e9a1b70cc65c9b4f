package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// cellLabel is a label of a list cell that truncates its text (with an
// ellipsis, or clipped) only when the text is too wide for it. A Fyne
// label that may truncate works out where to cut each time its text
// changes, by shaping the text again even when it fits (for an ellipsis,
// with a new shaper): with a thousand torrents that was most of the time
// spent moving down the list by a page. Measuring the text is cached by
// Fyne, so a text that fits costs almost nothing. Used on the Fyne thread.
type cellLabel struct {
	widget.Label
	cut fyne.TextTruncation // how a text too wide is cut
}

func newCellLabel(cut fyne.TextTruncation) *cellLabel {
	l := &cellLabel{cut: cut}
	l.Truncation = cut
	l.ExtendBaseWidget(l)
	return l
}

// truncationFor is how the label's text is truncated at width w: not at
// all when it fits.
func (l *cellLabel) truncationFor(w float32) fyne.TextTruncation {
	if w <= 0 {
		return l.cut
	}
	if l.textWidth() <= w {
		return fyne.TextTruncateOff
	}
	return l.cut
}

// textWidth is the width the label needs to show all of its text: the
// text and the padding drawn on either side (a label's minimum width when
// it does not truncate).
func (l *cellLabel) textWidth() float32 {
	return fyne.MeasureText(l.Text, theme.TextSize(), l.TextStyle).Width + 2*theme.InnerPadding()
}

// show sets the label's text and importance, refreshing it only when
// either changed.
func (l *cellLabel) show(text string, imp widget.Importance) {
	if l.Text == text && l.Importance == imp {
		return
	}
	l.Text, l.Importance = text, imp
	l.Truncation = l.truncationFor(l.Size().Width)
	l.Refresh()
}

// SetText shows text.
func (l *cellLabel) SetText(text string) { l.show(text, l.Importance) }

// Resize lays the label out at size s, truncating its text anew when it
// no longer fits (or fits again).
func (l *cellLabel) Resize(s fyne.Size) {
	if s == l.Size() {
		return
	}
	l.Label.Resize(s)
	if t := l.truncationFor(s.Width); t != l.Truncation {
		l.Truncation = t
		l.Refresh()
	}
}
