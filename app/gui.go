package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

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
	// line; Handover delivers those of later processes (no arguments
	// means "show the window"), each to be answered with Reply.
	Args     []string
	Handover <-chan Handover
	// SettingsErr reports a problem met loading the settings, for the
	// window to show once: a *BrokenSettings for a damaged file (what was
	// kept, what was reset), or why the file could not be read.
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
		Bootstrap: nodeStrings(s.Contacts()), DownloadDir: s.DownloadDir, UPnP: s.UPnP, NoUTP: !s.UTP, LSD: s.LSD,
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
	if err != nil || handed {
		return err // a handed-over process ends here, with the window's answer
	}
	defer inst.Close()
	settings, serr := LoadSettings(paths)
	e, err := engine.New(engine.Config{
		StateDir: paths.StateDir, KeepList: true, DownloadDir: settings.DownloadDir,
		Port: settings.Port, Bootstrap: nodeStrings(settings.Contacts()), NoUPnP: !settings.UPnP, NoUTP: !settings.UTP,
		NoLSD:          !settings.LSD,
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
	handover := make(chan Handover, 16)
	serveDone := make(chan struct{})
	defer func() { cancel(); <-serveDone }() // the last answer is written before we exit
	go func() {
		defer close(serveDone)
		inst.Serve(ctx, func(a []string) error { return passHandover(ctx, handover, a) })
	}()
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

// passHandover gives a later process's arguments to the window and
// returns its answer, or why there is none (busy, quitting, no answer in
// time).
func passHandover(ctx context.Context, to chan<- Handover, args []string) error {
	h := NewHandover(args)
	t := time.NewTimer(handoverAnswerWait)
	defer t.Stop()
	select {
	case to <- h:
	case <-t.C:
		return errors.New("the running Swarmdrop is busy")
	case <-ctx.Done():
		return errors.New("the running Swarmdrop is quitting")
	}
	return h.Answer(ctx, handoverAnswerWait)
}
