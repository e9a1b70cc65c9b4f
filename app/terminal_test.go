package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// hostileName would, printed raw, set the terminal's title (OSC ... BEL),
// return to the start of the line and erase it (CR, CSI 2K) to forge a
// new one, start a colour with the one-character C1 CSI (U+009B), and
// reverse what follows with a right-to-left override.
const hostileName = "evil\x1b]0;pwned\x07\r\x1b[2Kforged\u009b31m\u202egpj.exe"

// terminalSafe fails t when out holds anything a terminal acts on other
// than newlines (and the carriage returns of create's own progress line),
// or invalid UTF-8. The list is written out here, not taken from the
// printable package under test.
func terminalSafe(t *testing.T, what, out string) {
	t.Helper()
	s := strings.ReplaceAll(out, "\rhashing ", "\nhashing ")
	if !utf8.ValidString(s) {
		t.Errorf("%s: invalid UTF-8 in %q", what, out)
		return
	}
	for i, r := range s {
		switch {
		case r == '\n':
		case r < 0x20, r >= 0x7f && r < 0xa0, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069,
			r == 0x200e, r == 0x200f, r == 0x061c:
			t.Errorf("%s: %U at byte %d of %q", what, r, i, out)
			return
		}
	}
}

// runIn runs swarmdrop with args in folder dir (the current folder when
// ""), with the environment of cmd's XDG folders when env is set.
func runIn(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := swarmdropCmd(t, args...)
	if env != nil {
		cmd.Env = env
	}
	cmd.Dir = dir
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

// checkRun fails t unless r exited with code and both its outputs are
// terminal-safe; when visible is set, the output must show it (the name
// was printed, made safe, not dropped).
func checkRun(t *testing.T, what string, r result, code int, visible string) {
	t.Helper()
	if r.code != code {
		t.Errorf("%s: exit %d, want %d\nstdout: %q\nstderr: %q", what, r.code, code, r.stdout, r.stderr)
	}
	terminalSafe(t, what+" stdout", r.stdout)
	terminalSafe(t, what+" stderr", r.stderr)
	if visible != "" && !strings.Contains(r.stdout+r.stderr, visible) {
		t.Errorf("%s: %q not shown in\nstdout: %q\nstderr: %q", what, visible, r.stdout, r.stderr)
	}
}

// TestNoControlsReachTheTerminal: names and texts with controls (a file
// and torrent name, file names in a folder, a comment, a tracker URL, a
// magnet's name, error texts naming such files, flag values) produce no
// control byte, C1 control or bidi override in any subcommand's standard
// output or error, in text and in JSON; JSON still carries the exact name.
func TestNoControlsReachTheTerminal(t *testing.T) {
	work := t.TempDir()
	src := filepath.Join(work, hostileName)
	testpeers.RandomFile(t, src, 100_000, 7)
	folder := filepath.Join(work, "set")
	testpeers.RandomFile(t, filepath.Join(folder, "a\x1b[31m\u202e.bin"), 5_000, 8)
	testpeers.RandomFile(t, filepath.Join(folder, "b\u009b2J", "c\a\r.bin"), 7_000, 9)

	// create: its progress line, the output file named after the torrent
	// (in the current folder), its magnet link.
	out := t.TempDir()
	r := runIn(t, out, nil, "create", "--nodes", "127.0.0.1:6881", "--comment", "see "+hostileName, src)
	checkRun(t, "create", r, 0, "forged")
	tf := filepath.Join(out, hostileName+".torrent")
	data, err := os.ReadFile(tf)
	if err != nil {
		t.Fatalf("create wrote no %q: %v (%s)", tf, err, r.stdout)
	}
	mi, err := metainfo.Parse(data)
	if err != nil || mi.Info.Name != hostileName {
		t.Fatalf("torrent name %q, %v", mi.Info.Name, err)
	}
	tracked := filepath.Join(t.TempDir(), "tracked.torrent")
	r = runIn(t, "", nil, "create", "--quiet", "--tracker", "udp://127.0.0.1:1/\x1b[31m\u202eannounce", "-o", tracked, folder)
	checkRun(t, "create tracked folder", r, 0, "")

	// info, text and JSON: torrent name, file names, comment, tracker,
	// and a magnet link's name.
	magnet := "magnet:?xt=urn:btih:" + strings.Repeat("ab", 20) + "&dn=" + percentAll(hostileName)
	for i, target := range []string{tf, tracked, magnet} {
		what := []string{"torrent", "tracked folder", "magnet"}[i]
		r = runSwarmdrop(t, "info", target)
		checkRun(t, "info "+what, r, 0, "")
		r = runSwarmdrop(t, "info", "--json", target)
		checkRun(t, "info --json "+what, r, 0, "")
		var got infoOutput
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatalf("info --json: %v\n%s", err, r.stdout)
		}
		if target != tracked && got.Name != hostileName {
			t.Errorf("info --json %s: name %q, want the exact %q", what, got.Name, hostileName)
		}
	}
	if r := runSwarmdrop(t, "info", tf); !strings.Contains(r.stdout, "forged") || !strings.Contains(r.stdout, "gpj.exe") {
		t.Errorf("info does not show the name: %s", r.stdout)
	}

	// download, text and JSON: the data is in place, so it checks and
	// completes at once, printing the name.
	paths, err := mi.Info.SafePaths()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	copyFile(t, src, filepath.Join(dir, paths[0]))
	for _, mode := range []string{"--json", "--seed=false"} {
		r = runSwarmdrop(t, "download", mode, "--no-dht", "--no-upnp", "--port", "0", "--bind", "127.0.0.1", "--dir", dir, tf)
		checkRun(t, "download "+mode, r, 0, "")
		if mode == "--json" {
			ls := jsonLines(t, r.stdout)
			if last := ls[len(ls)-1]; last.Event != "complete" || last.Name != hostileName {
				t.Errorf("download --json: last line %+v", last)
			}
		} else if !strings.Contains(r.stdout, "forged") || !strings.Contains(r.stdout, "complete") {
			t.Errorf("download: no complete line with the name: %q", r.stdout)
		}
	}

	// Error texts that name such files, or quote such flag values.
	missing := filepath.Join(t.TempDir(), "missing"+hostileName+"\xff.torrent")
	for _, args := range [][]string{
		{"info", missing},
		{"info", "--json", missing},
		{"download", "--no-dht", "--no-upnp", "--port", "0", missing},
		{"seed", "--no-dht", "--no-upnp", "--port", "0", missing},
		{"create", "--nodes", "127.0.0.1:6881", "-o", filepath.Join(t.TempDir(), "x.torrent"), missing},
	} {
		checkRun(t, strings.Join(args[:len(args)-1], " ")+" MISSING", runSwarmdrop(t, args...), 1, "forged")
	}
	for _, args := range [][]string{
		{"create", "--nodes", hostileName + ":1", src},
		{"create", "--tracker", hostileName, src},
		{"download", "--nodes", hostileName, tf},
		{"router", "--nodes", hostileName},
		{"router", "--" + hostileName},
	} {
		checkRun(t, fmt.Sprintf("%q", args), runSwarmdrop(t, args...), 2, "forged")
	}
	checkRun(t, "router --bind HOSTILE", runSwarmdrop(t, "router", "--port", "0", "--bind", hostileName), 1, "forged")

	// The window's answer to a hand-over, printed by the second process.
	inst, lines := startHeadless(t)
	bad := filepath.Join(t.TempDir(), hostileName+".torrent")
	os.WriteFile(bad, []byte("d4:infoe"), 0o644)
	r = runIn(t, "", inst.Env, bad)
	checkRun(t, "hand-over of a bad torrent", r, 1, "forged")
	expectLine(t, lines, "ERROR ")
}

// percentAll percent-encodes every byte of s.
func percentAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "%%%02X", s[i])
	}
	return b.String()
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
