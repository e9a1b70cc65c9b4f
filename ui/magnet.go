package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// magnetDialog asks for a magnet link, checking it as it is typed.
type magnetDialog struct {
	entry   *widget.Entry
	problem *widget.Label
	add     *widget.Button
	dlg     *dialog.CustomDialog

	onAdd func(uri string)
}

func newMagnetDialog(w fyne.Window, onAdd func(string)) *magnetDialog {
	m := &magnetDialog{entry: widget.NewEntry(), problem: widget.NewLabel(""), onAdd: onAdd}
	m.entry.SetPlaceHolder("magnet:?xt=urn:btih:…")
	m.problem.Wrapping = fyne.TextWrapWord
	m.problem.Importance = widget.DangerImportance
	m.add = widget.NewButton("Add", m.onAddTapped)
	m.add.Importance = widget.HighImportance
	m.add.Disable()
	m.entry.OnChanged = m.onChanged
	m.entry.OnSubmitted = func(string) {
		if !m.add.Disabled() {
			m.onAddTapped()
		}
	}
	content := container.NewVBox(widget.NewLabel("Paste a magnet link:"), m.entry, m.problem)
	m.dlg = dialog.NewCustomWithoutButtons("Add magnet link", content, w)
	m.dlg.SetButtons([]fyne.CanvasObject{widget.NewButton("Cancel", m.dlg.Hide), m.add})
	m.dlg.Resize(fyne.NewSize(560, 0))
	return m
}

func (m *magnetDialog) onChanged(s string) {
	if s == "" {
		m.problem.SetText("")
		m.add.Disable()
		return
	}
	if _, err := metainfo.ParseMagnet(s); err != nil {
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

// removeDialog asks whether to keep or delete a torrent's data.
func showRemoveDialog(w fyne.Window, name string, onRemove func(withData bool)) *dialog.CustomDialog {
	msg := widget.NewLabel("Remove “" + name + "” from the list?\nDeleting the data removes the downloaded files; files you published stay where they are.")
	msg.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustomWithoutButtons("Remove torrent", msg, w)
	keep := widget.NewButton("Remove, keep data", func() { d.Hide(); onRemove(false) })
	del := widget.NewButton("Remove and delete data", func() { d.Hide(); onRemove(true) })
	del.Importance = widget.DangerImportance
	d.SetButtons([]fyne.CanvasObject{widget.NewButton("Cancel", d.Hide), keep, del})
	d.Resize(fyne.NewSize(520, 0))
	d.Show()
	return d
}
