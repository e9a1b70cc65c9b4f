package ui

import (
	"errors"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
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
	var d *dialog.CustomDialog
	buttons := container.NewHBox(widget.NewButton("Open Settings…", func() {
		d.Hide()
		m.onSettings()
	}))
	if b.UPnPReset {
		buttons.Add(widget.NewButton("Turn UPnP back on", func() {
			s := m.be.Settings()
			s.UPnP = true
			if err := m.be.SetSettings(s); err != nil {
				m.showError(err)
				return
			}
			d.Hide()
		}))
	}
	d = dialog.NewCustom("Settings file damaged", "Close", container.NewVBox(text, buttons), m.win)
	d.Resize(fyne.NewSize(560, 0))
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
