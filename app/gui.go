package app

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/swarmdrop/swarmdrop/engine"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// Session is what the window gets from the app: a running engine, the
// user's settings and the arguments to add. The window calls Quit (or
// returns from GUI) to end the program.
type Session struct {
	Engine *engine.Engine
	Paths  Paths
	// Args are the .torrent paths and magnet links given on the command
	// line; Handover delivers those of later processes (an empty slice
	// means "show the window").
	Args     []string
	Handover <-chan []string
	// SettingsErr reports a problem met loading the settings (a broken file
	// replaced by defaults), for the window to show once.
	SettingsErr error
	// Stop is closed when the process is asked to end (SIGINT, SIGTERM):
	// the window then quits as if the user had chosen Quit, so that the
	// engine saves its state.
	Stop <-chan struct{}

	mu       sync.Mutex // guards settings
	settings Settings
}

// Settings returns the current settings.
func (s *Session) Settings() Settings {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.settings
}

// SetSettings validates, saves (atomically) and applies new settings.
func (s *Session) SetSettings(n Settings) error {
	if err := SaveSettings(s.Paths, n); err != nil {
		return err
	}
	s.mu.Lock()
	s.settings = n
	s.mu.Unlock()
	s.Engine.ApplySettings(engineSettings(n))
	return nil
}

// DefaultNodes returns the contacts to prefill a new torrent's `nodes`
// with, given the latest snapshot.
func (s *Session) DefaultNodes(snap engine.Snapshot) []metainfo.Node {
	return s.Engine.DefaultNodes(s.Settings().Contacts(), snap)
}

func engineSettings(s Settings) engine.Settings {
	return engine.Settings{
		Bootstrap: nodeStrings(s.Contacts()), DownloadDir: s.DownloadDir, UPnP: s.UPnP,
		MaxConnections: s.MaxConnections, MaxDownloadRate: s.MaxDownloadRate, MaxUploadRate: s.MaxUploadRate,
		Port: s.Port,
	}
}

// runGUI is `swarmdrop [FILE.torrent|MAGNET ...]`: hand the arguments to
// a running instance, or become the instance: start the engine and the
// window, and stop the engine (saving its state) when the window ends.
func runGUI(args []string, gui GUI) error {
	paths := CurrentPaths()
	inst, handed, err := ClaimInstance(paths.Socket, args)
	if err != nil {
		return err
	}
	if handed {
		return nil
	}
	defer inst.Close()
	settings, serr := LoadSettings(paths)
	e, err := engine.New(engine.Config{
		StateDir: paths.StateDir, KeepList: true, DownloadDir: settings.DownloadDir,
		Port: settings.Port, Bootstrap: nodeStrings(settings.Contacts()), NoUPnP: !settings.UPnP,
		MaxConnections: settings.MaxConnections, MaxDownloadRate: settings.MaxDownloadRate,
		MaxUploadRate: settings.MaxUploadRate,
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigCtx, stopSignals := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	handover := make(chan []string, 16)
	go inst.Serve(ctx, func(a []string) {
		select {
		case handover <- a:
		default:
		}
	})
	engineDone := make(chan error, 1)
	go func() { engineDone <- e.Run(ctx) }()
	s := &Session{Engine: e, Paths: paths, Args: absArgs(args), Handover: handover, SettingsErr: serr,
		Stop: sigCtx.Done(), settings: settings}
	guiErr := gui(s)
	cancel()
	if err := <-engineDone; err != nil && guiErr == nil {
		return fmt.Errorf("engine: %w", err)
	}
	return guiErr
}
