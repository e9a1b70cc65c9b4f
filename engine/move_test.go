package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestMoveSeeding: a seeding torrent's data moved to another folder is
// gone from the old one, whole in the new one, and the torrent seeds
// from there at once (no re-download: every piece is had right after)
// to a libtorrent leecher. A move onto a folder that holds a file of the
// same name fails, leaves that file and the data as they were, and the
// torrent seeds on from where it was; so does a move to a disk too small
// for the data.
func TestMoveSeeding(t *testing.T) {
	dl := t.TempDir()
	content := testContent(t, dl, "moved", 100_000)
	want := t.TempDir()
	testContent(t, want, "moved", 100_000) // the same bytes, kept to compare
	data, mi := mktorrent(t, content, 15)
	n := mi.Info.NumPieces()
	e := testEngine(t, Config{StateDir: t.TempDir(), KeepList: true, DownloadDir: dl, NoDHT: true})
	ih, err := e.AddTorrent(data, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, e, ih, StateSeeding, 30*time.Second)

	// A failed move first: z.bin is in the way.
	blocked := t.TempDir()
	testpeers.RandomFile(t, filepath.Join(blocked, "moved", "z.bin"), 5, 9)
	e.Move(ih, blocked)
	fail := waitEvent(t, e, 30*time.Second, func(ev MoveFailed) bool { return ev.InfoHash == ih })
	if !errors.Is(fail.Err, ErrMoveTarget) {
		t.Fatalf("move onto a file: %v", fail.Err)
	}
	if got := listTree(t, blocked); !slices.Equal(got, []string{"moved", "moved/z.bin"}) {
		t.Fatalf("after the failed move the blocked folder holds %q", got)
	}
	ts := waitState(t, e, ih, StateSeeding, 30*time.Second)
	if ts.Dir != dl || ts.PiecesHave != n {
		t.Fatalf("after a failed move: in %s with %d of %d pieces", ts.Dir, ts.PiecesHave, n)
	}
	sameTree(t, filepath.Join(want, "moved"), content)

	if os.Geteuid() == 0 { // a disk that fills up midway (a tmpfs needs root)
		small := testpeers.SmallFS(t, 200_000)
		e.Move(ih, small)
		fail = waitEvent(t, e, 30*time.Second, func(ev MoveFailed) bool { return ev.InfoHash == ih })
		if !errors.Is(fail.Err, ErrNoSpace) {
			t.Fatalf("move to a full disk: %v", fail.Err)
		}
		if got := listTree(t, small); len(got) > 1 { // at most the emptied folder
			t.Fatalf("after the failed move the small disk holds %q", got)
		}
		waitState(t, e, ih, StateSeeding, 30*time.Second)
		sameTree(t, filepath.Join(want, "moved"), content)
	}

	to := filepath.Join(t.TempDir(), "elsewhere")
	e.Move(ih, to)
	moving := waitStatus(t, e, ih, "the move", 10*time.Second, func(ts TorrentStatus) bool {
		return ts.State == StateMoving || ts.Dir == to
	})
	t.Logf("seen: %q, moving %.2f", moving.State, moving.Moving)
	ev := waitEvent(t, e, 30*time.Second, func(ev MoveFinished) bool { return ev.InfoHash == ih })
	if ev.Dir != to {
		t.Fatalf("moved to %s, want %s", ev.Dir, to)
	}
	ts = waitState(t, e, ih, StateSeeding, 30*time.Second)
	if ts.Dir != to || ts.PiecesHave != n || ts.Moving != 0 {
		t.Fatalf("after the move: in %s with %d of %d pieces, moving %v", ts.Dir, ts.PiecesHave, n, ts.Moving)
	}
	if got := listTree(t, dl); len(got) != 0 {
		t.Fatalf("the old folder still holds %q", got)
	}
	sameTree(t, filepath.Join(want, "moved"), filepath.Join(to, "moved"))

	// libtorrent downloads it from the new place.
	tf := filepath.Join(t.TempDir(), "moved.torrent")
	writeFile(t, tf, data)
	dst := t.TempDir()
	lt := testpeers.StartLT(t, "download", tf, dst, "--flush", "--peer", fmt.Sprintf("127.0.0.1:%d", e.testPort(t)), "--port", "0", "--seconds", "60")
	lt.Wait(t, "DONE", 60*time.Second)
	sameTree(t, filepath.Join(want, "moved"), filepath.Join(dst, "moved"))
}

// TestMoveWhilePausedAndRestart: a paused torrent's data moves and it
// stays paused; a restarted engine finds it in the new folder and
// trusts the resume data (the copies kept their modification times).
func TestMoveWhilePausedAndRestart(t *testing.T) {
	dl := t.TempDir()
	content := testContent(t, dl, "kept", 60_000)
	data, mi := mktorrent(t, content, 15)
	cfg := Config{StateDir: t.TempDir(), KeepList: true, DownloadDir: dl, NoDHT: true}
	e := newEngine(t, cfg)
	stop := runEngine(t, e)
	ih, err := e.AddTorrent(data, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, e, ih, StateSeeding, 30*time.Second)
	e.Pause(ih)
	waitState(t, e, ih, StatePaused, 30*time.Second)
	to := t.TempDir()
	e.Move(ih, to)
	waitEvent(t, e, 30*time.Second, func(ev MoveFinished) bool { return ev.InfoHash == ih })
	ts := waitState(t, e, ih, StatePaused, 10*time.Second)
	if ts.Dir != to {
		t.Fatalf("in %s, want %s", ts.Dir, to)
	}
	stop()
	// A byte changed with the time kept: only a re-check would see it,
	// so a resume that has every piece trusted the resume data.
	corrupt(t, filepath.Join(to, "kept", "a.bin"), 3)
	e = newEngine(t, cfg)
	runEngine(t, e)
	ts = waitState(t, e, ih, StatePaused, 10*time.Second)
	if ts.Dir != to {
		t.Fatalf("restarted in %s, want %s", ts.Dir, to)
	}
	e.Resume(ih)
	if ts = waitState(t, e, ih, StateSeeding, 30*time.Second); ts.PiecesHave != mi.Info.NumPieces() {
		t.Fatalf("%d of %d pieces", ts.PiecesHave, mi.Info.NumPieces())
	}
}
