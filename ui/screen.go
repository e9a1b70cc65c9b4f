package ui

import (
	"github.com/go-gl/glfw/v3.3/glfw"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver"
)

// screenSize is the work area of the primary monitor in the window's
// units (pixels divided by its scale), or false where it cannot be told
// (no desktop driver, as in tests).
func screenSize(w fyne.Window) (fyne.Size, bool) {
	nw, ok := w.(driver.NativeWindow)
	if !ok {
		return fyne.Size{}, false
	}
	var size fyne.Size
	nw.RunNative(func(ctx any) {
		switch ctx.(type) {
		case driver.X11WindowContext, driver.WaylandWindowContext, driver.WindowsWindowContext, driver.MacWindowContext:
		default:
			return
		}
		mon := glfw.GetPrimaryMonitor()
		if mon == nil {
			return
		}
		_, _, pw, ph := mon.GetWorkarea()
		if pw <= 0 || ph <= 0 {
			if mode := mon.GetVideoMode(); mode != nil {
				pw, ph = mode.Width, mode.Height
			}
		}
		scale := w.Canvas().Scale()
		if scale <= 0 {
			scale = 1
		}
		size = fyne.NewSize(float32(pw)/scale, float32(ph)/scale)
	})
	return size, size.Width > 0 && size.Height > 0
}

// fitSize is a window size that fits on a screen of size screen: the
// saved size where it fits, else at most 95 % of the screen each way.
func fitSize(saved, screen fyne.Size) fyne.Size {
	return fyne.NewSize(min(saved.Width, screen.Width*0.95), min(saved.Height, screen.Height*0.95))
}

// fitToScreen shrinks the window to fit on its screen.
func (m *mainWindow) fitToScreen() {
	screen, ok := screenSize(m.win)
	if !ok {
		return
	}
	cur := m.win.Canvas().Size()
	if fit := fitSize(cur, screen); fit != cur {
		m.win.Resize(fit)
	}
}
