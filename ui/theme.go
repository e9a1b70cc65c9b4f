package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// swarmTheme is Fyne's default theme with a focus mark that can be seen:
// the default blends a faint tint of the primary colour into the focused
// widget, which is hard to find on a list row or a flat toolbar button.
type swarmTheme struct{ fyne.Theme }

func newSwarmTheme() fyne.Theme { return swarmTheme{theme.DefaultTheme()} }

// Color is the default theme's, with a stronger focus tint.
func (t swarmTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if n == theme.ColorNameFocus {
		r, g, b, _ := t.Theme.Color(theme.ColorNamePrimary, v).RGBA()
		return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: 0x70}
	}
	return t.Theme.Color(n, v)
}
