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
	avoidStopHookRace(a)
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

// avoidStopHookRace works around a shutdown race in Fyne 2.7: on quit its
// main loop queues the app's "stopped" hook (which flushes Fyne's own
// preferences) to a goroutine that hands it back to the main loop while
// that loop is draining and closing its queue. Depending on timing the
// program then exits, hangs forever in Run (the hook waits for a loop
// that has ended: "Ctrl+Q did not quit") or panics with "send on closed
// channel". Only that hook is queued when the app sets no stopped,
// foreground or background callbacks, as Swarmdrop does; clearing it
// closes the race. Swarmdrop keeps its settings in its own file; Fyne's
// preferences (the file dialogs' last folder) are still saved on change.
func avoidStopHookRace(a fyne.App) {
	if l, ok := a.Lifecycle().(interface{ SetOnStoppedHookExecuted(func()) }); ok {
		l.SetOnStoppedHookExecuted(nil)
	}
}
