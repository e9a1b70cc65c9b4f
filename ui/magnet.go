package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// magnetDialog asks for a magnet link, checking it as it is typed. The
// field has the focus when it opens; Return adds, Escape cancels.
type magnetDialog struct {
	entry   *keyEntry
	problem *widget.Label
	add     *keyButton
	dlg     *keyDialog

	onAdd func(uri string)
}

func newMagnetDialog(h *dialogHost, onAdd func(string)) *magnetDialog {
	k := &dialogKeys{}
	m := &magnetDialog{entry: newKeyEntry(k), problem: widget.NewLabel(""), onAdd: onAdd}
	m.entry.SetPlaceHolder("magnet:?xt=urn:btih:…")
	m.problem.Wrapping = fyne.TextWrapWord
	m.problem.Importance = widget.DangerImportance
	m.add = newKeyButton(k, "Add", nil, m.onAddTapped)
	m.add.Importance = widget.HighImportance
	m.add.Disable()
	m.entry.OnChanged = m.onChanged
	k.confirm = func() {
		if !m.add.Disabled() {
			m.onAddTapped()
		}
	}
	content := container.NewVBox(widget.NewLabel("Paste a magnet link:"), m.entry, m.problem)
	m.dlg = h.newDialog("Add magnet link", content, k, newKeyButton(k, "Cancel", nil, func() { m.dlg.Hide() }), m.add)
	m.dlg.first = m.entry
	m.dlg.Resize(fyne.NewSize(min(560, h.win.Canvas().Size().Width-40), 0))
	return m
}

func (m *magnetDialog) onChanged(s string) {
	if s == "" {
		m.problem.SetText("")
		m.add.Disable()
		return
	}
	if _, err := metainfo.ParseMagnet(s); err != nil {
		if _, perr := metainfo.ParseMutableMagnet(s); perr == nil { // an updatable link: followed
			m.problem.SetText("")
			m.add.Enable()
			return
		}
		m.problem.SetText(err.Error())
		m.add.Disable()
		return
	}
	m.problem.SetText("")
	m.add.Enable()
}

func (m *magnetDialog) onAddTapped() {
	m.dlg.Hide()
	m.onAdd(m.entry.Text)
}
