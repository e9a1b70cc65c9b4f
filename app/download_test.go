package app

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// makeTorrent writes random files under a new folder and makes a torrent
// of it with mktorrent (piece length 2^exp). It returns the content folder,
// the .torrent path and the parsed torrent.
func makeTorrent(t *testing.T, name string, sizes []int64, exp int) (string, string, *metainfo.MetaInfo) {
	t.Helper()
	src := t.TempDir()
	for i, n := range sizes {
		testpeers.RandomFile(t, filepath.Join(src, name, fmt.Sprintf("part%d", i), "f.bin"), n, uint64(i+1))
	}
	tf, data := testpeers.Mktorrent(t, filepath.Join(src, name), exp)
	mi, err := metainfo.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return src, tf, mi
}

func sameFiles(t *testing.T, a, b string) {
	t.Helper()
	n := 0
	filepath.Walk(a, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		want, _ := os.ReadFile(p)
		got, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil || !bytes.Equal(want, got) {
			t.Fatalf("%s: not identical (%v)", rel, err)
		}
		n++
		return nil
	})
	if n == 0 {
		t.Fatal("no files compared")
	}
}

// jsonLines parses swarmdrop's --json output.
func jsonLines(t *testing.T, out string) []progressLine {
	t.Helper()
	var ls []progressLine
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var p progressLine
		if err := json.Unmarshal([]byte(l), &p); err != nil {
			t.Fatalf("not a JSON line: %q", l)
		}
		ls = append(ls, p)
	}
	return ls
}

// TestDownloadFromLibtorrent: `swarmdrop download --peer` against a
// libtorrent seeder exits 0 with the data identical and a final
// "complete" JSON line; then libtorrent downloads it from `swarmdrop seed`.
func TestDownloadAndSeedWithLibtorrent(t *testing.T) {
	src, tf, mi := makeTorrent(t, "cli", []int64{700_000, 1_300_001, 0, 5}, 15)
	_, port := testpeers.SeedLT(t, tf, src)

	dir := t.TempDir()
	r := runSwarmdrop(t, "download", "--json", "--no-dht", "--no-upnp", "--port", "0", "--bind", "127.0.0.1",
		"--dir", dir, "--peer", fmt.Sprintf("127.0.0.1:%d", port), tf)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	ls := jsonLines(t, r.stdout)
	last := ls[len(ls)-1]
	if last.Event != "complete" || last.PiecesHave != mi.Info.NumPieces() || last.PiecesTotal != mi.Info.NumPieces() {
		t.Fatalf("last line %+v", last)
	}
	if last.Downloaded < mi.Info.TotalLength {
		t.Fatalf("downloaded %d of %d bytes", last.Downloaded, mi.Info.TotalLength)
	}
	sameFiles(t, filepath.Join(src, "cli"), filepath.Join(dir, "cli"))

	// Seed what we downloaded; libtorrent fetches it from us.
	seedPort := testpeers.FreePort(t, "127.0.0.1")
	seed := swarmdropCmd(t, "seed", "--no-dht", "--no-upnp", "--port", strconv.Itoa(seedPort), "--bind", "127.0.0.1", "--dir", dir, tf)
	var serr bytes.Buffer
	seed.Stderr = &serr
	if err := seed.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { seed.Process.Kill(); seed.Wait() }()
	dst := t.TempDir()
	dl := testpeers.StartLT(t, "download", tf, dst, "--flush", "--port", "0", "--peer", fmt.Sprintf("127.0.0.1:%d", seedPort), "--seconds", "60")
	dl.Wait(t, "DONE", 70*time.Second)
	sameFiles(t, filepath.Join(src, "cli"), filepath.Join(dst, "cli"))
	// seed keeps running until interrupted, then exits 0.
	seed.Process.Signal(syscall.SIGINT)
	if err := seed.Wait(); err != nil {
		t.Fatalf("seed after SIGINT: %v; stderr %s", err, serr.String())
	}
}

// TestKillAndResume: a download killed with SIGKILL halfway continues on
// the next run, fetching again at most what was in flight.
func TestKillAndResume(t *testing.T) {
	src, tf, mi := makeTorrent(t, "kill", []int64{6_000_000, 2_000_000}, 16)
	_, port := testpeers.SeedLT(t, tf, src, "--rate", "2000000")
	dir := t.TempDir()
	args := []string{"download", "--json", "--no-dht", "--no-upnp", "--port", "0", "--bind", "127.0.0.1",
		"--dir", dir, "--peer", fmt.Sprintf("127.0.0.1:%d", port), tf}

	cmd := swarmdropCmd(t, args...)
	env := cmd.Env // same XDG folders for both runs
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	half := mi.Info.NumPieces() / 2
	haveAtKill := -1
	sc := bufio.NewScanner(out)
	deadline := time.Now().Add(60 * time.Second)
	for sc.Scan() && time.Now().Before(deadline) {
		var p progressLine
		if json.Unmarshal(sc.Bytes(), &p) == nil && p.PiecesHave >= half {
			haveAtKill = p.PiecesHave
			break
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if haveAtKill < 0 {
		t.Fatal("download did not reach half within 60 s")
	}
	if haveAtKill == mi.Info.NumPieces() {
		t.Fatal("download finished before it could be killed: the test proved nothing")
	}

	second := exec.Command(cmd.Path, args...)
	second.Env = env
	var o2, e2 bytes.Buffer
	second.Stdout, second.Stderr = &o2, &e2
	if err := second.Run(); err != nil {
		t.Fatalf("second run: %v: %s", err, e2.String())
	}
	ls := jsonLines(t, o2.String())
	last := ls[len(ls)-1]
	if last.Event != "complete" {
		t.Fatalf("second run did not complete: %+v", last)
	}
	missing := int64(mi.Info.NumPieces()-haveAtKill) * mi.Info.PieceLength
	inflight := 8 * mi.Info.PieceLength
	if last.Downloaded > missing+inflight {
		t.Fatalf("second run downloaded %d bytes; only %d were missing at the kill (plus %d in flight)", last.Downloaded, missing, inflight)
	}
	sameFiles(t, filepath.Join(src, "kill"), filepath.Join(dir, "kill"))
}

// TestDownloadPeerIPv6: `swarmdrop download --bind ::1 --peer [::1]:port`
// against a libtorrent seeder listening on ::1 only completes, with the
// data identical.
func TestDownloadPeerIPv6(t *testing.T) {
	src, tf, mi := makeTorrent(t, "six", []int64{700_000, 300_001}, 15)
	_, port := testpeers.SeedLT(t, tf, src, "--ip", "::1")
	dir := t.TempDir()
	r := runSwarmdrop(t, "download", "--json", "--no-dht", "--no-upnp", "--no-lsd", "--port", "0", "--bind", "::1",
		"--dir", dir, "--peer", fmt.Sprintf("[::1]:%d", port), tf)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	ls := jsonLines(t, r.stdout)
	if last := ls[len(ls)-1]; last.Event != "complete" || last.PiecesHave != mi.Info.NumPieces() {
		t.Fatalf("last line %+v", last)
	}
	sameFiles(t, filepath.Join(src, "six"), filepath.Join(dir, "six"))
}
