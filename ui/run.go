// Package ui is Swarmdrop's window. It renders the engine's snapshots and
// sends the engine commands; it never reaches into engine internals.
package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// Run opens the main window and blocks until the user quits.
func Run(args []string) error {
	a := app.NewWithID("org.swarmdrop.Swarmdrop")
	w := a.NewWindow("Swarmdrop")
	w.SetContent(container.NewBorder(nil, widget.NewLabel("No torrents yet"), nil, nil, widget.NewList(
		func() int { return 0 },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(widget.ListItemID, fyne.CanvasObject) {},
	)))
	w.Resize(fyne.NewSize(900, 560))
	w.ShowAndRun()
	return nil
}
