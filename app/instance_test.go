package app

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine"
)

// headlessGUI stands in for the window in tests: it adds the session's
// arguments and every hand-over to the real engine, printing what it
// does on stdout, and ends on a hand-over of "quit".
func headlessGUI(s *Session) error {
	add := func(args []string) (more bool, errs error) {
		b, _ := json.Marshal(args)
		fmt.Printf("ARGS %s\n", b)
		for _, a := range args {
			if filepath.Base(a) == "quit" { // made absolute by the hand-over
				return false, nil
			}
			var ih string
			var err error
			if strings.HasPrefix(a, "magnet:") {
				ih, err = s.Engine.AddMagnet(a, engine.AddOptions{})
			} else {
				ih, err = s.Engine.AddTorrentFile(a, engine.AddOptions{})
			}
			if err != nil {
				fmt.Printf("ERROR %q\n", err.Error())
				errs = errors.Join(errs, fmt.Errorf("adding %s: %w", a, err))
				continue
			}
			fmt.Printf("ADDED %s\n", ih)
		}
		return true, errs
	}
	fmt.Println("READY")
	if more, _ := add(s.Args); !more {
		return nil
	}
	for h := range s.Handover {
		more, err := add(h.Args)
		h.Reply(err)
		if !more {
			return nil
		}
	}
	return nil
}

// readLines sends the lines of r to a channel.
func readLines(r io.Reader) <-chan string {
	ch := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			ch <- sc.Text()
		}
		close(ch)
	}()
	return ch
}

// expectLine waits for a line starting with prefix.
func expectLine(t *testing.T, lines <-chan string, prefix string) string {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("output ended before %q", prefix)
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-deadline:
			t.Fatalf("no %q line within 20 s", prefix)
		}
	}
}

// TestSingleInstance: a second `swarmdrop FILE.torrent` hands the file
// (made absolute) to the running instance and exits; so does a magnet
// link; after the instance is killed, the stale socket is replaced by
// the next instance.
func TestSingleInstance(t *testing.T) {
	_, tf, mi := makeTorrent(t, "handed", []int64{100_000}, 15)
	first := swarmdropCmd(t)
	first.Env = append(first.Env, "SWARMDROP_TEST_GUI=headless")
	out, err := first.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { first.Process.Kill(); first.Wait() }()
	lines := readLines(out)
	expectLine(t, lines, "READY")
	if l := expectLine(t, lines, "ARGS "); l != "ARGS null" && l != "ARGS []" {
		t.Fatalf("instance started with %s", l)
	}

	// The second process runs in another folder with a relative path.
	second := exec.Command(first.Path, filepath.Base(tf))
	second.Env, second.Dir = first.Env, filepath.Dir(tf)
	if b, err := second.CombinedOutput(); err != nil {
		t.Fatalf("second process: %v %s", err, b)
	}
	if l := expectLine(t, lines, "ARGS "); l != fmt.Sprintf("ARGS [%q]", tf) {
		t.Fatalf("instance got %s, want the absolute path %s", l, tf)
	}
	if l := expectLine(t, lines, "ADDED "); l != "ADDED "+mi.InfoHash.String() {
		t.Fatalf("instance said %s", l)
	}
	magnet := "magnet:?xt=urn:btih:" + strings.Repeat("ab", 20) + "&dn=other"
	third := exec.Command(first.Path, magnet)
	third.Env = first.Env
	if b, err := third.CombinedOutput(); err != nil {
		t.Fatalf("third process: %v %s", err, b)
	}
	if l := expectLine(t, lines, "ADDED "); l != "ADDED "+strings.Repeat("ab", 20) {
		t.Fatalf("instance said %s", l)
	}

	// A crashed instance leaves its socket behind; the next one takes over.
	first.Process.Signal(syscall.SIGKILL)
	first.Wait()
	sock := filepath.Join(envValue(first.Env, "XDG_RUNTIME_DIR"), "swarmdrop.sock")
	if _, err := os.Stat(sock); err != nil {
		t.Fatalf("no stale socket after SIGKILL (%v): the test proves nothing", err)
	}
	next := exec.Command(first.Path, tf)
	next.Env = first.Env
	nout, _ := next.StdoutPipe()
	if err := next.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- next.Wait(); close(done) }()
	defer func() {
		next.Process.Kill()
		<-done
	}()
	nl := readLines(nout)
	expectLine(t, nl, "READY")
	// It restored the torrents of the killed instance and added ours again.
	expectLine(t, nl, "ADDED "+mi.InfoHash.String())
	quit := exec.Command(first.Path, "quit")
	quit.Env = first.Env
	if b, err := quit.CombinedOutput(); err != nil {
		t.Fatalf("quit hand-over: %v %s", err, b)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("instance exit: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("instance did not quit")
	}
}

func envValue(env []string, key string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

// startHeadless starts a swarmdrop instance whose window is headlessGUI,
// waits for it to be ready and returns it with its stdout lines; it is
// killed at the end of the test.
func startHeadless(t *testing.T) (*exec.Cmd, <-chan string) {
	t.Helper()
	inst := swarmdropCmd(t)
	inst.Env = append(inst.Env, "SWARMDROP_TEST_GUI=headless")
	out, err := inst.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := inst.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Process.Kill(); inst.Wait() })
	lines := readLines(out)
	expectLine(t, lines, "READY")
	expectLine(t, lines, "ARGS ")
	return inst, lines
}

// TestHandoverError: `swarmdrop bad.torrent` handed to the running window
// prints the window's error as one "swarmdrop: " line and exits 1; with
// a good torrent beside the bad one, the good one is added all the same.
func TestHandoverError(t *testing.T) {
	_, good, mi := makeTorrent(t, "good", []int64{50_000}, 15)
	inst, lines := startHeadless(t)
	bad := filepath.Join(t.TempDir(), "bad.torrent")
	if err := os.WriteFile(bad, []byte("d4:infod6:lengthi-5ee"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{bad}, {bad, good}} {
		second := exec.Command(inst.Path, args...)
		second.Env = inst.Env
		var out, errb strings.Builder
		second.Stdout, second.Stderr = &out, &errb
		err := second.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		stderr := errb.String()
		if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "swarmdrop: ") ||
			!strings.Contains(stderr, bad) || out.String() != "" {
			t.Fatalf("%v: exit %d, stdout %q, stderr %q; want exit 1 and one swarmdrop: line naming %s",
				args, code, out.String(), stderr, bad)
		}
		expectLine(t, lines, "ERROR ")
	}
	if l := expectLine(t, lines, "ADDED "); l != "ADDED "+mi.InfoHash.String() {
		t.Fatalf("instance said %s", l)
	}
}
