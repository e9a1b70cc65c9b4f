package app

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// run runs cmd to completion and returns what it printed and its status.
func runCmd(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
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

// oneErrorLine fails t unless r exited 1 with one "swarmdrop: " line on
// standard error containing each of want.
func oneErrorLine(t *testing.T, r result, want ...string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	if r.code != ExitFailure || len(lines) != 1 || !strings.HasPrefix(lines[0], "swarmdrop: ") {
		t.Fatalf("want exit 1 and one error line; got exit %d, stderr %q", r.code, r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(lines[0], w) {
			t.Errorf("error line %q does not say %q", lines[0], w)
		}
	}
}

// TestDownloadBusyPort: a port another program holds ends a download at
// once with one error line and exit status 1.
func TestDownloadBusyPort(t *testing.T) {
	_, tf, _ := makeTorrent(t, "busy", []int64{50_000}, 15)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	r := runSwarmdrop(t, "download", "--no-dht", "--no-upnp", "--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--dir", t.TempDir(), tf)
	oneErrorLine(t, r, strconv.Itoa(port), "address already in use", "--port")
}

// TestDownloadNotEnoughSpace: a download larger than the free space of
// --dir (a small tmpfs) is refused before any file is created, with one
// line naming both sizes; --ignore-space starts it anyway (and it then
// fails when the disk is full).
func TestDownloadNotEnoughSpace(t *testing.T) {
	src, tf, _ := makeTorrent(t, "roomy", []int64{2_000_000, 1_000_000}, 15)
	mnt := testpeers.SmallFS(t, 1<<20)
	_, port := testpeers.SeedLT(t, tf, src)
	peer := fmt.Sprintf("127.0.0.1:%d", port)
	args := []string{"download", "--no-dht", "--no-upnp", "--bind", "127.0.0.1", "--port", "0", "--dir", mnt, "--peer", peer, tf}
	r := runSwarmdrop(t, args...)
	oneErrorLine(t, r, "not enough free space", "2.9 MiB", "free", "--ignore-space")
	if ents, _ := os.ReadDir(mnt); len(ents) != 0 {
		t.Fatalf("%d entries created in --dir before refusing", len(ents))
	}
	r = runSwarmdrop(t, append([]string{"download", "--ignore-space"}, args[1:]...)...)
	oneErrorLine(t, r, "no space left")
	if _, err := os.Stat(filepath.Join(mnt, "roomy")); err != nil {
		t.Fatalf("--ignore-space did not start the download: %v", err)
	}
}

// TestDownloadResumeNotSaved: with a state folder where resume data
// cannot be written, a download still completes, and standard error says
// once that its resume data is not saved (here from the final save, the
// download being faster than the first save).
func TestDownloadResumeNotSaved(t *testing.T) {
	src, tf, _ := makeTorrent(t, "unsaved", []int64{1_000_000}, 15)
	_, port := testpeers.SeedLT(t, tf, src)
	cmd := swarmdropCmd(t, "download", "--no-dht", "--no-upnp", "--bind", "127.0.0.1", "--port", "0",
		"--dir", t.TempDir(), "--peer", fmt.Sprintf("127.0.0.1:%d", port), tf)
	var state string
	for _, kv := range cmd.Env {
		if v, ok := strings.CutPrefix(kv, "XDG_STATE_HOME="); ok {
			state = v
		}
	}
	blocker := filepath.Join(state, "swarmdrop", "resume") // a file where the folder goes
	if err := os.MkdirAll(filepath.Dir(blocker), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCmd(t, cmd)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if n := strings.Count(r.stderr, "resume data not saved"); n != 1 || !strings.HasPrefix(r.stderr, "swarmdrop: warning: ") {
		t.Fatalf("standard error %q: want the warning once", r.stderr)
	}
}
