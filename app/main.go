// Package app wires Swarmdrop together: settings and XDG paths, the single
// instance hand-over, the engine's lifecycle and the command-line
// subcommands. It does not import Fyne; the window is handed in as a GUI
// function so that subcommands and their tests build without cgo.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/swarmdrop/swarmdrop/internal/printable"
)

// Exit codes of the command line.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// GUI runs the window for a session and returns when the user quits. It
// is ui.Run in the real program.
type GUI func(s *Session) error

// errUsage marks an error as a usage error (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// Main runs the command line and returns the process exit status.
func Main(args []string, gui GUI) int {
	return run(args, gui, os.Stdout, os.Stderr)
}

// command is one subcommand of the command line.
type command struct {
	name    string
	usage   string // after "swarmdrop "
	summary string // what the command does, for its -h
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands lists the subcommands; each file adds its own entry in init.
var commands = map[string]command{}

func register(c command) { commands[c.name] = c }

func run(args []string, gui GUI, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		if c, ok := commands[args[0]]; ok {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return report(c.run(ctx, args[1:], stdout, stderr), stderr)
		}
		switch args[0] {
		case "-h", "-help", "--help", "help":
			if len(args) > 1 && args[0] == "help" {
				if _, ok := commands[args[1]]; ok {
					return run([]string{args[1], "-h"}, gui, stdout, stderr)
				}
			}
			fmt.Fprint(stdout, usageText())
			return ExitOK
		}
	}
	for _, a := range args {
		if len(a) > 0 && a[0] == '-' {
			return report(usagef("unknown flag %q (see swarmdrop --help)", a), stderr)
		}
	}
	if gui == nil {
		return report(errors.New("this build has no window"), stderr)
	}
	return report(runGUI(args, gui), stderr)
}

// report prints err as one line starting "swarmdrop: " and maps it to an
// exit status.
func report(err error, stderr io.Writer) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, errHelpShown) {
		return ExitOK
	}
	fmt.Fprintf(stderr, "swarmdrop: %s\n", printable.String(oneLine(err.Error())))
	var u usageError
	if errors.As(err, &u) {
		return ExitUsage
	}
	return ExitFailure
}

// warnf prints one warning line on w, made printable.
func warnf(w io.Writer, format string, a ...any) {
	fmt.Fprintf(w, "swarmdrop: warning: %s\n", printable.String(oneLine(fmt.Sprintf(format, a...))))
}

// oneLine folds an error message onto a single line.
func oneLine(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == '\n' || c == '\r' {
			b[i] = ' '
		}
	}
	return string(b)
}

func usageText() string {
	return `usage:
  swarmdrop                             open the window
  swarmdrop FILE.torrent|MAGNET ...     open the window and add them
  swarmdrop create [flags] PATH ...     make a .torrent
  swarmdrop info [--json] FILE.torrent|MAGNET
  swarmdrop download [flags] FILE.torrent|MAGNET
  swarmdrop seed [flags] FILE.torrent|UPDATABLE-LINK
  swarmdrop publish [--key FILE] [--salt TEXT] PATH   publish as updatable; prints the link
  swarmdrop router [--port N] [--bind ADDR] [--nodes LIST]
Run "swarmdrop COMMAND -h" (or "swarmdrop help COMMAND") for a command's flags.
`
}
