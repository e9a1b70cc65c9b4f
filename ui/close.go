package ui

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	swapp "github.com/swarmdrop/swarmdrop/app"
	"github.com/swarmdrop/swarmdrop/engine"
)

// addTray puts Swarmdrop in the system tray where there may be one. On
// Linux and BSD the tray speaks D-Bus: without a session bus Fyne's tray
// fails (and crashes on quit), so there is no tray then. Whether a panel
// shows the tray is another matter: see trayHost.
func (m *mainWindow) addTray() {
	d, ok := m.app.(desktop.App)
	if !ok || (runtime.GOOS != "windows" && runtime.GOOS != "darwin" && os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "") {
		return
	}
	m.tray = true
	quit := fyne.NewMenuItem("Quit", m.quit)
	quit.IsQuit = true
	d.SetSystemTrayMenu(fyne.NewMenu("Swarmdrop",
		fyne.NewMenuItem("Show Swarmdrop", m.raise),
		fyne.NewMenuItem("Pause all", m.be.PauseAll),
		fyne.NewMenuItem("Resume all", m.be.ResumeAll),
		fyne.NewMenuItemSeparator(), quit))
}

// trayHost tells whether a panel shows tray icons now: on Linux and BSD,
// whether a StatusNotifierWatcher owns its name on the session bus (with
// a session bus but no watcher, a hidden window could not be brought
// back). Windows and macOS always have one.
func (m *mainWindow) trayHost() bool {
	if !m.tray {
		return false
	}
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		return true
	}
	return statusNotifierWatcher()
}

// statusNotifierWatcher asks the session bus whether
// org.kde.StatusNotifierWatcher has an owner, within a second.
func statusNotifierWatcher() bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conn, err := dbus.SessionBusPrivate(dbus.WithContext(ctx))
	if err != nil {
		return false
	}
	defer conn.Close()
	if conn.Auth(nil) != nil || conn.Hello() != nil {
		return false
	}
	var has bool
	err = conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, "org.kde.StatusNotifierWatcher").Store(&has)
	return err == nil && has
}

// busy counts the torrents that transfer now: downloading (or checking,
// or fetching metadata) and seeding to connected peers.
func busy(ts []engine.TorrentStatus) (down, up int) {
	for _, t := range ts {
		switch t.State {
		case engine.StatePaused, engine.StateError:
		case engine.StateSeeding:
			if t.Peers > 0 || t.RateUp >= 1 {
				up++
			}
		default:
			down++
		}
	}
	return down, up
}

// onClose hides the window when Swarmdrop keeps running in the tray (and
// a panel shows the tray); otherwise it quits, asking first while
// torrents transfer (unless told not to ask again).
func (m *mainWindow) onClose() {
	host := m.trayHost()
	if host && m.be.Settings().KeepInTray {
		m.saveSize()
		m.win.Hide()
		return
	}
	down, up := busy(m.snap.Torrents)
	if (down == 0 && up == 0) || m.be.Settings().QuitWithoutAsking {
		m.quit()
		return
	}
	if m.quitting != nil {
		return
	}
	m.askQuit(down, up, host)
}

// askQuit asks whether to stop the transfers and quit, offering the tray
// when there is one.
func (m *mainWindow) askQuit(down, up int, host bool) {
	var what []string
	if down > 0 {
		what = append(what, plural(down, "torrent")+" downloading")
	}
	if up > 0 {
		what = append(what, plural(up, "torrent")+" seeding to peers")
	}
	stops := "them; they go on"
	if down+up == 1 {
		stops = "it; it goes on"
	}
	text := widget.NewLabel(fmt.Sprintf("%s. Quitting stops %s at the next start.",
		capitalize(strings.Join(what, " and ")), stops))
	text.Wrapping = fyne.TextWrapWord
	k := &dialogKeys{}
	again := newKeyCheck(k, "Don't ask again", nil)
	var d *keyDialog
	quit := newKeyButton(k, "Quit", nil, func() {
		d.Hide()
		if again.Checked {
			s := m.be.Settings()
			s.QuitWithoutAsking = true
			if err := m.be.SetSettings(s); err != nil {
				fyne.LogError("saving the settings", err)
			}
		}
		m.quit()
	})
	quit.Importance = widget.HighImportance
	buttons := []fyne.CanvasObject{newKeyButton(k, "Cancel", nil, func() { d.Hide() })}
	if host {
		buttons = append(buttons, newKeyButton(k, "Keep running in the tray", nil, func() {
			d.Hide()
			s := m.be.Settings()
			s.KeepInTray = true
			if err := m.be.SetSettings(s); err != nil {
				fyne.LogError("saving the settings", err)
			}
			m.saveSize()
			m.win.Hide()
		}))
	}
	buttons = append(buttons, quit)
	d = m.host.newDialog("Quit Swarmdrop?", container.NewVBox(text, again), k, buttons...)
	k.confirm, d.first = quit.OnTapped, quit
	d.SetOnClosed(func() { m.quitting = nil })
	d.Resize(fyne.NewSize(min(520, m.win.Canvas().Size().Width-40), 0))
	m.quitting = d
	d.Show()
}

// quit remembers the window's size and layout, stops the feed and ends
// the program.
func (m *mainWindow) quit() {
	m.saveSize()
	if m.stopFeed != nil {
		m.stopFeed()
	}
	m.app.Quit()
}

// saveSize remembers the window's size and layout.
func (m *mainWindow) saveSize() {
	size := m.win.Canvas().Size()
	s := m.be.Settings()
	if size.Width >= 1 {
		s.WindowWidth, s.WindowHeight = size.Width, size.Height
	}
	m.layoutInto(&s)
	if err := m.be.SetSettings(s); err != nil {
		fyne.LogError("saving the window size", err)
	}
}

// layoutInto writes the list's sort and column widths and the splitter's
// place into s.
func (m *mainWindow) layoutInto(s *swapp.Settings) {
	order, widths := m.list.layout()
	s.Layout.SortBy, s.Layout.SortDesc, s.Layout.Columns = order.Key, order.Desc, widths
	s.Layout.Split = m.split.Offset
}

// saveLayout saves the sort and the column widths as soon as they change.
func (m *mainWindow) saveLayout() {
	s := m.be.Settings()
	m.layoutInto(&s)
	if err := m.be.SetSettings(s); err != nil {
		fyne.LogError("saving the window layout", err)
	}
}
