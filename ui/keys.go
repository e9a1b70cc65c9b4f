package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// dialogKeys are what Return and Escape do in one dialog: Return its
// default action, Escape its cancel. The dialog's fields forward the two
// keys to it when they have no use for them themselves (a multi-line
// entry keeps Return, an open drop-down keeps Escape).
type dialogKeys struct {
	confirm, cancel func()
	// shortcut runs the window's shortcuts (Ctrl+Q...), which a focused
	// entry would otherwise keep to itself.
	shortcut func(fyne.Shortcut)
}

// windowShortcut gives s to the window when it is one of its own
// (a desktop.CustomShortcut) and tells whether it did.
func (k *dialogKeys) windowShortcut(s fyne.Shortcut) bool {
	if _, ok := s.(*desktop.CustomShortcut); !ok || k == nil || k.shortcut == nil {
		return false
	}
	k.shortcut(s)
	return true
}

// handle runs the action of a Return or Escape key and tells whether it
// did.
func (k *dialogKeys) handle(ev *fyne.KeyEvent) bool {
	if k == nil {
		return false
	}
	switch ev.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		if k.confirm != nil {
			k.confirm()
			return true
		}
	case fyne.KeyEscape:
		if k.cancel != nil {
			k.cancel()
			return true
		}
	}
	return false
}

// dialogHost shows a window's dialogs and remembers which are open, so
// that Return and Escape reach the one on top even when none of its
// fields has the focus. Its methods run on the Fyne thread.
type dialogHost struct {
	win  fyne.Window
	open []*keyDialog // shown, the top one last
	// shortcut runs the window's shortcuts; nil: none.
	shortcut func(fyne.Shortcut)
}

// keyDialog is a dialog whose Return confirms and Escape cancels, and
// which focuses its first field when shown.
type keyDialog struct {
	*dialog.CustomDialog
	host  *dialogHost
	keys  *dialogKeys
	first fyne.Focusable // focused when shown; nil: the first focusable
}

// newDialog builds a dialog with content and buttons (left to right); k
// says what Return and Escape do (Escape closes it when k.cancel is nil).
func (h *dialogHost) newDialog(title string, content fyne.CanvasObject, k *dialogKeys, buttons ...fyne.CanvasObject) *keyDialog {
	d := &keyDialog{CustomDialog: dialog.NewCustomWithoutButtons(title, content, h.win), host: h, keys: k}
	if len(buttons) > 0 {
		d.SetButtons(buttons)
	}
	if k.cancel == nil {
		k.cancel = d.Hide
	}
	if k.shortcut == nil {
		k.shortcut = h.shortcut
	}
	d.CustomDialog.SetOnClosed(func() { h.closed(d) })
	return d
}

// SetOnClosed runs f after the dialog closes (and the host forgot it).
func (d *keyDialog) SetOnClosed(f func()) {
	d.CustomDialog.SetOnClosed(func() {
		d.host.closed(d)
		f()
	})
}

// Show shows the dialog on top and focuses its first field.
func (d *keyDialog) Show() {
	d.host.closed(d)
	d.host.open = append(d.host.open, d)
	d.CustomDialog.Show()
	c := d.host.win.Canvas()
	if d.first != nil {
		c.Focus(d.first)
	} else {
		c.FocusNext()
	}
}

func (h *dialogHost) closed(d *keyDialog) {
	for i, o := range h.open {
		if o == d {
			h.open = append(h.open[:i], h.open[i+1:]...)
			return
		}
	}
}

// top is the dialog shown last and still open, or nil.
func (h *dialogHost) top() *keyDialog {
	if len(h.open) == 0 {
		return nil
	}
	return h.open[len(h.open)-1]
}

// handleKey gives Return and Escape to the dialog on top; it tells
// whether a dialog is open (which then owns the keyboard).
func (h *dialogHost) handleKey(ev *fyne.KeyEvent) bool {
	d := h.top()
	if d == nil {
		return false
	}
	d.keys.handle(ev)
	return true
}

// message shows a message with one button, "Close", focused.
func (h *dialogHost) message(title, text string) *keyDialog {
	k := &dialogKeys{}
	msg := widget.NewLabel(text)
	msg.Wrapping = fyne.TextWrapWord
	var d *keyDialog
	ok := newKeyButton(k, "Close", nil, func() { d.Hide() })
	ok.Importance = widget.HighImportance
	d = h.newDialog(title, msg, k, ok)
	k.confirm = d.Hide
	d.first = ok
	d.Resize(fyne.NewSize(min(520, h.win.Canvas().Size().Width-40), 0))
	d.Show()
	return d
}

// showError tells the user what went wrong.
func (h *dialogHost) showError(err error) *keyDialog {
	return h.message("Error", capitalize(err.Error()))
}

// confirm asks before doing something that cannot be undone: Return and
// the highlighted button do it, Escape and Cancel do not.
func (h *dialogHost) confirm(title, text, doLabel string, onDo func()) *keyDialog {
	k := &dialogKeys{}
	msg := widget.NewLabel(text)
	msg.Wrapping = fyne.TextWrapWord
	var d *keyDialog
	do := newKeyButton(k, doLabel, nil, func() { d.Hide(); onDo() })
	do.Importance = widget.HighImportance
	d = h.newDialog(title, msg, k, newKeyButton(k, "Cancel", nil, func() { d.Hide() }), do)
	k.confirm = do.OnTapped
	d.first = do
	d.Resize(fyne.NewSize(min(520, h.win.Canvas().Size().Width-40), 0))
	d.Show()
	return d
}

// keyEntry is an entry that gives its dialog Escape, and Return when it
// is single-line and submits nothing itself.
type keyEntry struct {
	widget.Entry
	keys *dialogKeys
}

func newKeyEntry(k *dialogKeys) *keyEntry {
	e := &keyEntry{keys: k}
	e.ExtendBaseWidget(e)
	return e
}

// TypedKey gives Return and Escape to the dialog.
func (e *keyEntry) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyEscape:
		if e.keys.handle(ev) {
			return
		}
	case fyne.KeyReturn, fyne.KeyEnter:
		if !e.MultiLine && e.OnSubmitted == nil && e.keys.handle(ev) {
			return
		}
	}
	e.Entry.TypedKey(ev)
}

// TypedShortcut gives the window's shortcuts to the window.
func (e *keyEntry) TypedShortcut(s fyne.Shortcut) {
	if !e.keys.windowShortcut(s) {
		e.Entry.TypedShortcut(s)
	}
}

// keyButton is a button that Return presses as well as Space, and that
// gives Escape to its dialog.
type keyButton struct {
	widget.Button
	keys *dialogKeys
}

func newKeyButton(k *dialogKeys, label string, icon fyne.Resource, tapped func()) *keyButton {
	b := &keyButton{keys: k}
	b.Text, b.Icon, b.OnTapped = label, icon, tapped
	b.ExtendBaseWidget(b)
	return b
}

// TypedKey presses the button on Return and cancels the dialog on Escape.
func (b *keyButton) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		if !b.Disabled() && b.OnTapped != nil {
			b.OnTapped()
		}
		return
	case fyne.KeyEscape:
		if b.keys.handle(ev) {
			return
		}
	}
	b.Button.TypedKey(ev)
}

// keyCheck is a check box that gives Return and Escape to its dialog.
type keyCheck struct {
	widget.Check
	keys *dialogKeys
}

func newKeyCheck(k *dialogKeys, label string, changed func(bool)) *keyCheck {
	c := &keyCheck{keys: k}
	c.Text, c.OnChanged = label, changed
	c.ExtendBaseWidget(c)
	return c
}

// TypedKey gives Return and Escape to the dialog.
func (c *keyCheck) TypedKey(ev *fyne.KeyEvent) {
	if !c.keys.handle(ev) {
		c.Check.TypedKey(ev)
	}
}

// keySelect is a drop-down choice that gives Return and Escape to its
// dialog (while the list is open, the list has them).
type keySelect struct {
	widget.Select
	keys *dialogKeys
}

func newKeySelect(k *dialogKeys, options []string, changed func(string)) *keySelect {
	s := &keySelect{keys: k}
	s.Options, s.OnChanged = options, changed
	s.ExtendBaseWidget(s)
	return s
}

// TypedKey gives Return and Escape to the dialog.
func (s *keySelect) TypedKey(ev *fyne.KeyEvent) {
	if !s.keys.handle(ev) {
		s.Select.TypedKey(ev)
	}
}

// keySelectEntry is an entry with a drop-down of suggestions that gives
// Return and Escape to its dialog.
type keySelectEntry struct {
	widget.SelectEntry
	keys *dialogKeys
}

func newKeySelectEntry(k *dialogKeys, options []string) *keySelectEntry {
	e := &keySelectEntry{keys: k}
	e.ExtendBaseWidget(e)
	e.SetOptions(options)
	return e
}

// TypedKey gives Return and Escape to the dialog.
func (e *keySelectEntry) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyEscape, fyne.KeyReturn, fyne.KeyEnter:
		if e.keys.handle(ev) {
			return
		}
	}
	e.SelectEntry.TypedKey(ev)
}

// TypedShortcut gives the window's shortcuts to the window.
func (e *keySelectEntry) TypedShortcut(s fyne.Shortcut) {
	if !e.keys.windowShortcut(s) {
		e.SelectEntry.TypedShortcut(s)
	}
}

// dialogSize is a dialog's size: w by h, or less in a small window.
func dialogSize(win fyne.Window, w, h float32) fyne.Size {
	s := win.Canvas().Size()
	if s.Width < 1 {
		return fyne.NewSize(w, h)
	}
	return fyne.NewSize(min(w, s.Width-24), min(h, s.Height-24))
}
