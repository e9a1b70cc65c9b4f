package app

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestMain lets the test binary stand in for the swarmdrop program: with
// SWARMDROP_TEST_MAIN=1 it runs Main on its arguments and exits, so tests
// can run real swarmdrop processes without building one (no cgo, no Fyne).
func TestMain(m *testing.M) {
	if os.Getenv("SWARMDROP_TEST_MAIN") == "1" {
		var gui GUI
		if os.Getenv("SWARMDROP_TEST_GUI") == "headless" {
			gui = headlessGUI
		}
		os.Exit(Main(os.Args[1:], gui))
	}
	os.Exit(m.Run())
}

// result is what a swarmdrop process printed and how it exited.
type result struct {
	stdout, stderr string
	code           int
}

// swarmdropCmd returns a command that runs swarmdrop with args, with the
// XDG folders pointed into a temporary folder of t.
func swarmdropCmd(t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	home := t.TempDir()
	cmd.Env = append(os.Environ(),
		"SWARMDROP_TEST_MAIN=1",
		"XDG_CONFIG_HOME="+filepath.Join(home, "config"),
		"XDG_STATE_HOME="+filepath.Join(home, "state"),
		"XDG_RUNTIME_DIR="+filepath.Join(home, "run"),
		"XDG_DOWNLOAD_DIR="+filepath.Join(home, "Downloads"),
	)
	os.MkdirAll(filepath.Join(home, "run"), 0o700)
	testpeers.WriteSettings(t, filepath.Join(home, "config"), map[string]any{"download_dir": filepath.Join(home, "Downloads")})
	return cmd
}

// runSwarmdrop runs swarmdrop with args to completion.
func runSwarmdrop(t testing.TB, args ...string) result {
	t.Helper()
	cmd := swarmdropCmd(t, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

func TestUsageErrors(t *testing.T) {
	r := runSwarmdrop(t, "--bogus")
	if r.code != ExitUsage || !bytes.HasPrefix([]byte(r.stderr), []byte("swarmdrop: ")) {
		t.Fatalf("got %+v", r)
	}
	r = runSwarmdrop(t, "--help")
	if r.code != 0 || !bytes.Contains([]byte(r.stdout), []byte("swarmdrop create")) {
		t.Fatalf("help: %+v", r)
	}
}

// TestHelpEveryCommand: -h, -help and --help of every subcommand, and
// "swarmdrop help COMMAND", print the usage and every flag the command
// has on stdout and exit 0; a wrong flag is a usage error that points to
// -h.
func TestHelpEveryCommand(t *testing.T) {
	want := map[string][]string{
		"create":   {"--nodes LIST", "--tracker URL", "--piece-length N", "--name NAME", "--private", "--comment TEXT", "-o FILE", "--force", "--quiet"},
		"info":     {"--json"},
		"download": {"--dir DIR", "--port N", "--bind ADDR", "--peer HOST:PORT", "--nodes LIST", "--no-dht", "--no-upnp", "--no-lsd", "--seed", "--json"},
		"seed":     {"--dir DIR", "--port N", "--peer HOST:PORT", "--no-dht", "--no-lsd", "--json"},
		"router":   {"--port N", "--bind ADDR", "--nodes LIST"},
	}
	// Each command gets one form of asking for help, in turn, so that
	// every form is tried without running 25 processes.
	forms := [][]string{{"-h"}, {"--help"}, {"-help"}, {"help"}, {"somefile", "--help"}}
	i := 0
	for c, flags := range want {
		form := forms[i%len(forms)]
		i++
		args := append([]string{c}, form...)
		if form[0] == "help" {
			args = []string{"help", c}
		}
		r := runSwarmdrop(t, args...)
		if r.code != 0 || r.stderr != "" || !strings.HasPrefix(r.stdout, "usage: swarmdrop "+c+" ") {
			t.Errorf("%v: exit %d\nstdout:\n%s\nstderr:\n%s", args, r.code, r.stdout, r.stderr)
		}
		for _, f := range flags {
			if !strings.Contains(r.stdout, "\n  "+f+"\n") {
				t.Errorf("%v: no line for %s in\n%s", args, f, r.stdout)
			}
		}
		r = runSwarmdrop(t, c, "--no-such-flag")
		if r.code != ExitUsage || !strings.Contains(r.stderr, "see swarmdrop "+c+" -h") || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%s --no-such-flag: exit %d, stderr %q", c, r.code, r.stderr)
		}
	}
}
