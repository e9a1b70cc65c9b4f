// Package ui is Swarmdrop's window. It renders the engine's snapshots and
// sends the engine commands; it never reaches into engine internals.
package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	swapp "github.com/swarmdrop/swarmdrop/app"
	"github.com/swarmdrop/swarmdrop/assets"
)

// AppID is the application's ID for Fyne and the desktop.
const AppID = "org.swarmdrop.Swarmdrop"

// Run opens the main window for a session and blocks until the user quits.
func Run(s *swapp.Session) error {
	a := app.NewWithID(AppID)
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	return run(a, s, nil)
}

// run runs the window in a; started, when set, is called on the Fyne
// thread once the window is up (tests use it to open dialogs).
func run(a fyne.App, s *swapp.Session, started func(*mainWindow)) error {
	a.Settings().SetTheme(newSwarmTheme())
	m := newMainWindow(a, sessionBackend{Engine: s.Engine, s: s})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a.Lifecycle().SetOnStarted(func() {
		m.fitToScreen()
		feedDone := make(chan struct{})
		m.stopFeed = func() {
			cancel()
			<-feedDone
		}
		go func() {
			defer close(feedDone)
			m.feed(ctx, s.Handover, s.Stop)
		}()
		if s.SettingsErr != nil {
			m.showSettingsProblem(s.SettingsErr)
		}
		if len(s.Args) > 0 {
			m.intake(s.Args)
		}
		if started != nil {
			started(m)
		}
	})
	m.win.Show()
	a.Run()
	if m.stopFeed != nil {
		m.stopFeed() // Fyne quit by itself: no fyne.Do may outlive Run
	}
	return nil
}
