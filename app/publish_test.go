package app

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/publish"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// liveCmd is a swarmdrop process whose standard output is read line by
// line.
type liveCmd struct {
	cmd   *exec.Cmd
	lines chan string
	mu    sync.Mutex
	errb  strings.Builder // standard error; guarded by mu
	done  chan struct{}
}

func startLive(t *testing.T, cmd *exec.Cmd) *liveCmd {
	t.Helper()
	l := &liveCmd{cmd: cmd, lines: make(chan string, 1024), done: make(chan struct{})}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = writerTo(func(b []byte) {
		l.mu.Lock()
		l.errb.Write(b)
		l.mu.Unlock()
	})
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(l.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case l.lines <- sc.Text():
			default:
			}
		}
		close(l.lines)
		cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-l.done
	})
	return l
}

type writerTo func([]byte)

func (w writerTo) Write(b []byte) (int, error) { w(b); return len(b), nil }

func (l *liveCmd) stderr() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.errb.String()
}

// wait reads lines until match accepts one, which it returns.
func (l *liveCmd) wait(t *testing.T, what string, timeout time.Duration, match func(string) bool) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case s, ok := <-l.lines:
			if !ok {
				t.Fatalf("swarmdrop %s ended before %s; stderr:\n%s", l.cmd.Args[1], what, l.stderr())
			}
			if match(s) {
				return s
			}
		case <-deadline:
			t.Fatalf("swarmdrop %s: no %s within %v; stderr:\n%s", l.cmd.Args[1], what, timeout, l.stderr())
		}
	}
}

// interrupt stops the process as Ctrl-C does and waits for it.
func (l *liveCmd) interrupt(t *testing.T) {
	t.Helper()
	l.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-l.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("swarmdrop %s did not stop on SIGINT", l.cmd.Args[1])
	}
	if c := l.cmd.ProcessState.ExitCode(); c != 0 {
		t.Fatalf("swarmdrop %s exited %d; stderr:\n%s", l.cmd.Args[1], c, l.stderr())
	}
}

// jsonEvent reads a --json line of a follower.
type jsonEvent struct {
	Event      string `json:"event"`
	InfoHash   string `json:"info_hash"`
	Version    int64  `json:"version"`
	Downloaded int64  `json:"downloaded"`
}

func eventOf(s string) jsonEvent {
	var ev jsonEvent
	json.Unmarshal([]byte(s), &ev)
	return ev
}

// TestPublishAndFollow is `swarmdrop publish` and `swarmdrop download
// --follow` of its link, two processes with their own state, through a
// libtorrent DHT node: the follower downloads version 1; the publisher is
// stopped, one of three files changes, and publishing the folder again
// makes version 2 with the same piece length; the follower updates by
// itself into the same folder, fetching only the changed file's pieces.
// The publication's key and record are readable by their owner only.
func TestPublishAndFollow(t *testing.T) {
	router := fmt.Sprintf("127.0.0.49:%d", testpeers.StartLT(t, "dht", "--port", "0", "--ip", "127.0.0.49", "--seconds", "150").Port(t))
	root := filepath.Join(t.TempDir(), "folder")
	testpeers.RandomFile(t, filepath.Join(root, "a.bin"), 300_000, 1)
	testpeers.RandomFile(t, filepath.Join(root, "b.bin"), 200_000, 2)
	testpeers.RandomFile(t, filepath.Join(root, "c", "d.bin"), 150_000, 3)
	net := []string{"--nodes", router, "--bind", "127.0.0.1", "--port", "0", "--no-upnp"}

	pubCmd := swarmdropCmd(t, append(append([]string{"publish"}, net...), root)...)
	env := pubCmd.Env
	pub := startLive(t, pubCmd)
	v1 := pub.wait(t, "version 1", 60*time.Second, func(s string) bool { return strings.HasPrefix(s, "version 1 of folder") })
	linkLine := pub.wait(t, "link", 10*time.Second, func(s string) bool { return strings.HasPrefix(s, "link ") })
	pub.wait(t, "a stored item", 60*time.Second, func(s string) bool { return strings.HasPrefix(s, "version 1 stored on ") })
	link := strings.TrimPrefix(linkLine, "link ")
	if m, err := metainfo.ParseMutableMagnet(link); err != nil || string(m.Salt) != "folder" || m.Name != "folder" {
		t.Fatalf("link %q: %+v %v", link, m, err)
	}

	dest := t.TempDir()
	fol := startLive(t, swarmdropCmd(t, append(append([]string{"download", "--follow", "--check-every", "1s", "--json", "--dir", dest}, net...), link)...))
	first := eventOf(fol.wait(t, "version 1", 60*time.Second, func(s string) bool { return eventOf(s).Event == "version" }))
	done1 := eventOf(fol.wait(t, "version 1 complete", 120*time.Second, func(s string) bool { return eventOf(s).Event == "complete" }))
	if first.Version != 1 || !strings.Contains(v1, first.InfoHash) || done1.InfoHash != first.InfoHash {
		t.Fatalf("follower: version %+v, complete %+v; publisher said %q", first, done1, v1)
	}
	sameFiles(t, root, filepath.Join(dest, "folder"))

	pub.interrupt(t)
	changed := int64(230_000)
	testpeers.RandomFile(t, filepath.Join(root, "b.bin"), changed, 22)
	again := exec.Command(pubCmd.Path, pubCmd.Args[1:]...)
	again.Env = env
	pub = startLive(t, again)
	v2 := pub.wait(t, "version 2", 60*time.Second, func(s string) bool { return strings.HasPrefix(s, "version 2 of folder") })
	second := eventOf(fol.wait(t, "version 2", 60*time.Second, func(s string) bool { return eventOf(s).Event == "version" }))
	done2 := eventOf(fol.wait(t, "version 2 complete", 120*time.Second, func(s string) bool { return eventOf(s).Event == "complete" }))
	if second.Version != 2 || !strings.Contains(v2, second.InfoHash) || done2.InfoHash != second.InfoHash {
		t.Fatalf("follower: version %+v, complete %+v; publisher said %q", second, done2, v2)
	}
	sameFiles(t, root, filepath.Join(dest, "folder"))

	var state string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "XDG_STATE_HOME="); ok {
			state = filepath.Join(v, "swarmdrop")
		}
	}
	recFile, keyFile := publish.RecordFiles(state, root)
	rec, err := publish.LoadRecord(recFile)
	if err != nil {
		t.Fatal(err)
	}
	pl := rec.PieceLength
	pieces := (changed + pl - 1) / pl * pl
	t.Logf("version 2 fetched %d bytes; the changed file is %d bytes, %d in its pieces of %d", done2.Downloaded, changed, pieces, pl)
	if done2.Downloaded < changed || done2.Downloaded > pieces {
		t.Fatalf("version 2 fetched %d bytes, want the changed file's pieces only (%d to %d)", done2.Downloaded, changed, pieces)
	}
	if rec.Seq != 2 || !strings.Contains(v2, rec.InfoHash) || !strings.Contains(v2, "pieces of "+humanBytes(pl)) || !strings.Contains(v1, "pieces of "+humanBytes(pl)) {
		t.Fatalf("record %+v after %q and %q", rec, v1, v2)
	}
	for _, f := range []string{recFile, keyFile} {
		if st, err := os.Stat(f); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, mode %v", f, err, st.Mode().Perm())
		}
	}
	fol.interrupt(t)
	pub.interrupt(t)
}

// TestPublishUsage: a publish without a path, with a salt over 64 bytes,
// or of a path that does not exist, and an updatable link without the
// DHT, end with one line and the right status.
func TestPublishUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"publish"}, ExitUsage},
		{[]string{"publish", "--salt", strings.Repeat("s", 65), t.TempDir()}, ExitUsage},
		{[]string{"download", "--no-dht", "magnet:?xs=urn:btpk:" + strings.Repeat("ab", 32)}, ExitUsage},
		{[]string{"download", "magnet:?xs=urn:btpk:abc"}, ExitFailure},
	} {
		r := runSwarmdrop(t, c.args...)
		if r.code != c.code {
			t.Errorf("%q: exit %d, want %d; stderr %q", c.args, r.code, c.code, r.stderr)
		}
		if n := strings.Count(r.stderr, "\n"); n != 1 || !strings.HasPrefix(r.stderr, "swarmdrop: ") {
			t.Errorf("%q: stderr %q, want one line", c.args, r.stderr)
		}
	}
	r := runSwarmdrop(t, "publish", "--no-upnp", filepath.Join(t.TempDir(), "missing"))
	oneErrorLine(t, r, "missing")
}
