package ui

import (
	"errors"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	swapp "github.com/swarmdrop/swarmdrop/app"
)

// showSettingsProblem tells the user what loading the settings met. For a
// damaged file it says what was kept, what was reset to what, and where
// the damaged copy is, and offers to turn UPnP back on when only the
// damage turned it off; any other problem is an error dialog.
func (m *mainWindow) showSettingsProblem(err error) {
	var b *swapp.BrokenSettings
	if !errors.As(err, &b) {
		m.showError(err)
		return
	}
	text := widget.NewLabel(settingsRecoveryText(b))
	text.Wrapping = fyne.TextWrapWord
	k := &dialogKeys{}
	var d *keyDialog
	open := newKeyButton(k, "Open Settings…", nil, func() {
		d.Hide()
		m.onSettings()
	})
	buttons := []fyne.CanvasObject{open}
	if b.UPnPReset {
		buttons = append(buttons, newKeyButton(k, "Turn UPnP back on", nil, func() {
			s := m.be.Settings()
			s.UPnP = true
			if err := m.be.SetSettings(s); err != nil {
				m.showError(err)
				return
			}
			d.Hide()
		}))
	}
	closeB := newKeyButton(k, "Close", nil, func() { d.Hide() })
	closeB.Importance = widget.HighImportance
	d = m.host.newDialog("Settings file damaged", container.NewVScroll(text), k, append(buttons, closeB)...)
	k.confirm, d.first = closeB.OnTapped, closeB
	d.Resize(dialogSize(m.win, 560, 420))
	d.Show()
}

// settingsRecoveryText is the damaged-settings report for the window.
func settingsRecoveryText(b *swapp.BrokenSettings) string {
	var s strings.Builder
	s.WriteString("Swarmdrop could not read all of its settings file")
	if b.Syntax != nil {
		fmt.Fprintf(&s, " (%v)", b.Syntax)
	}
	s.WriteString(".\n")
	if len(b.Kept) > 0 {
		fmt.Fprintf(&s, "\nKept from the file: %s.\n", strings.Join(b.Kept, ", "))
	}
	if len(b.Problems) > 0 {
		s.WriteString("\nCould not be read, and now:\n")
		for _, p := range b.Problems {
			fmt.Fprintf(&s, "• %s (%s): now %s\n", capitalize(p.Label), p.Problem, p.Now)
		}
	}
	switch {
	case b.KeepErr != nil:
		fmt.Fprintf(&s, "\nThe damaged file could not be kept aside: %v\n", b.KeepErr)
	case b.Aside != "":
		fmt.Fprintf(&s, "\nThe damaged file is kept as %s.\n", b.Aside)
	}
	return strings.TrimRight(s.String(), "\n")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
