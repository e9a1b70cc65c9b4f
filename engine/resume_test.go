package engine

import (
	"errors"
	"fmt"
	"github.com/swarmdrop/swarmdrop/engine/storage"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestRestartKeepsTorrents: a completed download survives a restart of
// the engine (same state folder): the torrent is listed again, seeding,
// with nothing downloaded a second time.
func TestRestartKeepsTorrents(t *testing.T) {
	src := t.TempDir()
	content := testContent(t, src, "keep", 200_000)
	data, _ := mktorrent(t, content, 15)
	seed := testEngine(t, Config{DownloadDir: src})
	ih, _ := seed.AddTorrent(data, AddOptions{})
	seedPort := seed.testPort(t)
	waitState(t, seed, ih, StateSeeding, 30*time.Second)

	state, dl := t.TempDir(), t.TempDir()
	cfg := withTesting(t, Config{StateDir: state, KeepList: true, DownloadDir: dl, NoDHT: true})
	first, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stop := runEngine(t, first)
	if _, err := first.AddTorrent(data, AddOptions{Peers: []string{fmt.Sprintf("127.0.0.1:%d", seedPort)}}); err != nil {
		t.Fatal(err)
	}
	waitState(t, first, ih, StateSeeding, 60*time.Second)
	stop()

	second, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stop = runEngine(t, second)
	defer stop()
	ts := waitState(t, second, ih, StateSeeding, 30*time.Second)
	if ts.Downloaded != 0 {
		t.Fatalf("restart downloaded %d bytes again", ts.Downloaded)
	}
	sameTree(t, content, filepath.Join(dl, "keep"))
}

// TestNoSpace: a download into a too small file system, started despite
// the free-space check, stops with a clear "no space" error when the disk
// fills, keeps what it verified, and completes once space is freed and
// the torrent resumed.
func TestNoSpace(t *testing.T) {
	mnt := testpeers.SmallFS(t, 3<<20)
	filler := filepath.Join(mnt, "filler")
	testpeers.RandomFile(t, filler, 2<<20, 9)

	src := t.TempDir()
	content := testContent(t, src, "big", 500_000) // about 3 MB
	data, mi := mktorrent(t, content, 15)
	seed := testEngine(t, Config{DownloadDir: src})
	ih, _ := seed.AddTorrent(data, AddOptions{})
	seedPort := seed.testPort(t)
	waitState(t, seed, ih, StateSeeding, 30*time.Second)

	e := testEngine(t, Config{DownloadDir: mnt, StateDir: t.TempDir()})
	if _, err := e.AddTorrent(data, AddOptions{IgnoreSpace: true, Peers: []string{fmt.Sprintf("127.0.0.1:%d", seedPort)}}); err != nil {
		t.Fatal(err)
	}
	ts := waitState(t, e, ih, StateError, 60*time.Second)
	if !errors.Is(ts.Err, ErrNoSpace) || !strings.Contains(ts.Err.Error(), "no space") {
		t.Fatalf("error %v does not say there is no space", ts.Err)
	}
	if ts.PiecesHave >= mi.Info.NumPieces() {
		t.Fatalf("all pieces verified on a full disk?")
	}
	had := ts.PiecesHave
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	e.Resume(ih)
	ts = waitState(t, e, ih, StateSeeding, 60*time.Second)
	if ts.Downloaded > mi.Info.TotalLength-int64(had)*mi.Info.PieceLength+16*mi.Info.PieceLength {
		t.Fatalf("downloaded %d bytes after resuming; %d pieces were verified before", ts.Downloaded, had)
	}
	sameTree(t, content, filepath.Join(mnt, "big"))
}

// TestRestartMagnetMidway: a magnet download (x.pe peer only, no DHT)
// stopped after its metadata arrived resumes after a restart: the
// metadata is not fetched again and the x.pe peer is dialled again.
func TestRestartMagnetMidway(t *testing.T) {
	src := t.TempDir()
	content := testContent(t, src, "midway", 400_000)
	data, mi := mktorrent(t, content, 15)
	tf := filepath.Join(t.TempDir(), "midway.torrent")
	writeFile(t, tf, data)
	_, port := testpeers.SeedLT(t, tf, src, "--rate", "500000")

	state, dl := t.TempDir(), t.TempDir()
	cfg := withTesting(t, Config{StateDir: state, KeepList: true, DownloadDir: dl, NoDHT: true})
	first, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stop := runEngine(t, first)
	ih, err := first.AddMagnet(fmt.Sprintf("magnet:?xt=urn:btih:%s&x.pe=127.0.0.1:%d", mi.InfoHash, port), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ts := waitState(t, first, ih, StateDownloading, 30*time.Second)
	for deadline := time.Now().Add(30 * time.Second); ts.PiecesHave == 0; ts = lastStatus(t, first, ih) {
		if time.Now().After(deadline) {
			t.Fatal("no piece within 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if ts.PiecesHave == ts.PiecesTotal {
		t.Fatal("finished before the restart: the test proves nothing")
	}
	stop()

	second, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stop = runEngine(t, second)
	defer stop()
	ts = waitState(t, second, ih, StateSeeding, 60*time.Second)
	if ts.PiecesHave != mi.Info.NumPieces() {
		t.Fatalf("%d of %d pieces", ts.PiecesHave, mi.Info.NumPieces())
	}
	sameTree(t, content, filepath.Join(dl, "midway"))
}

// TestNotEnoughSpace: a torrent larger than the free space of its folder
// (a small tmpfs) is refused before any file is created, with an error
// naming both sizes, in its status and as an event; the user can still
// start it anyway.
func TestNotEnoughSpace(t *testing.T) {
	mnt := testpeers.SmallFS(t, 1<<20)
	src := t.TempDir()
	content := testContent(t, src, "large", 500_000) // about 3 MB
	data, mi := mktorrent(t, content, 15)
	e := testEngine(t, Config{DownloadDir: mnt, StateDir: t.TempDir(), NoDHT: true})
	free, err := storage.FreeSpace(mnt)
	if err != nil {
		t.Fatal(err)
	}
	ih, err := e.AddTorrent(data, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ts := waitState(t, e, ih, StateError, 30*time.Second)
	if !errors.Is(ts.Err, ErrNotEnoughSpace) {
		t.Fatalf("error %v is not ErrNotEnoughSpace", ts.Err)
	}
	for _, n := range []string{sizeText(mi.Info.TotalLength), sizeText(free)} {
		if !strings.Contains(ts.Err.Error(), n) {
			t.Errorf("error %q does not name %s", ts.Err, n)
		}
	}
	if ents, _ := os.ReadDir(mnt); len(ents) != 0 {
		t.Fatalf("%d entries created in the download folder before refusing", len(ents))
	}
	failed := func() {
		t.Helper()
		for deadline := time.After(10 * time.Second); ; {
			select {
			case ev := <-e.Events():
				if f, ok := ev.(TorrentFailed); ok && f.InfoHash == ih {
					if !errors.Is(f.Err, ErrNotEnoughSpace) {
						t.Fatalf("event error %v", f.Err)
					}
					return
				}
			case <-deadline:
				t.Fatal("no TorrentFailed event")
			}
		}
	}
	failed()
	// A plain resume checks again, and refuses again.
	e.Resume(ih)
	failed()
	// Started anyway: its files are made (sparse) and it downloads.
	e.ResumeIgnoringSpace(ih)
	waitState(t, e, ih, StateDownloading, 30*time.Second)
	if _, err := os.Stat(filepath.Join(mnt, "large", "a.bin")); err != nil {
		t.Fatalf("started anyway, yet: %v", err)
	}
}

// TestResumeNotSaved: a state folder where resume data cannot be written
// shows as a warning in the torrent's status, and the save is retried
// until it works.
func TestResumeNotSaved(t *testing.T) {
	src := t.TempDir()
	content := testContent(t, src, "unsaved", 100_000)
	data, mi := mktorrent(t, content, 15)
	state := t.TempDir()
	blocker := filepath.Join(state, "resume") // a file where the folder goes
	writeFile(t, blocker, nil)
	e := testEngine(t, Config{DownloadDir: src, StateDir: state, NoDHT: true, Timing: Timing{ResumeSaveEvery: 200 * time.Millisecond}})
	ih, _ := e.AddTorrent(data, AddOptions{})
	waitState(t, e, ih, StateSeeding, 30*time.Second)
	var ts TorrentStatus
	for deadline := time.Now().Add(10 * time.Second); ts.ResumeErr == nil; ts = lastStatus(t, e, ih) {
		if time.Now().After(deadline) {
			t.Fatal("no resume save failure shown in 10 s")
		}
	}
	if !errors.Is(ts.ResumeErr, ErrResumeNotSaved) || !strings.Contains(ts.Warning, "resume data not saved") {
		t.Fatalf("status: ResumeErr %v, warning %q", ts.ResumeErr, ts.Warning)
	}
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ts.ResumeErr != nil || ts.Warning != ""; ts = lastStatus(t, e, ih) {
		if time.Now().After(deadline) {
			t.Fatalf("still %v after the state folder was fixed", ts.ResumeErr)
		}
	}
	if r, err := storage.LoadResume(storage.ResumePath(state, mi.InfoHash)); err != nil || !r.Have.Full() {
		t.Fatalf("resume data after the retry: %v", err)
	}
}
