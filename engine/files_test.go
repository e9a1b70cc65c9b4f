package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// waitStatus waits for a snapshot in which torrent ih satisfies cond,
// failing after timeout or when the torrent fails. It returns the status.
func waitStatus(t *testing.T, e *Engine, ih string, what string, timeout time.Duration, cond func(TorrentStatus) bool) TorrentStatus {
	t.Helper()
	deadline := time.After(timeout)
	var last TorrentStatus
	for {
		select {
		case s := <-e.Snapshots():
			for _, ts := range s.Torrents {
				if ts.InfoHash != ih {
					continue
				}
				last = ts
				if cond(ts) {
					return ts
				}
				if ts.State == StateError {
					t.Fatalf("waiting for %s: torrent failed: %v", what, ts.Err)
				}
			}
		case <-deadline:
			t.Fatalf("no %s within %v; last: state %q, progress %.3f, %d/%d pieces, %d peers, err %v",
				what, timeout, last.State, last.Progress, last.PiecesHave, last.PiecesTotal, last.Peers, last.Err)
		}
	}
}

// threeFiles writes a folder of three files whose ends fall inside
// pieces of 32 KiB (so that each boundary piece is shared by two files)
// and makes a torrent of it with mktorrent.
func threeFiles(t *testing.T, name string) (src, content string, data []byte, mi *metainfo.MetaInfo) {
	t.Helper()
	src = t.TempDir()
	content = filepath.Join(src, name)
	testpeers.RandomFile(t, filepath.Join(content, "a.bin"), 100_000, 11) // ends inside piece 3
	testpeers.RandomFile(t, filepath.Join(content, "b.bin"), 70_000, 12)  // inside piece 5
	testpeers.RandomFile(t, filepath.Join(content, "c.bin"), 90_001, 13)
	data, mi = mktorrent(t, content, 15)
	return src, content, data, mi
}

// fileIndex returns the index in mi of the file whose path ends in name.
func fileIndex(t *testing.T, mi *metainfo.MetaInfo, name string) int {
	t.Helper()
	for i, f := range mi.Info.Files {
		if len(f.Path) > 0 && f.Path[len(f.Path)-1] == name {
			return i
		}
	}
	t.Fatalf("no file %s in the torrent", name)
	return -1
}

// TestFilePrioritiesFromLibtorrent: downloading from a libtorrent seeder
// with two files of three skipped creates only the wanted file, byte for
// byte, though its first and last pieces are shared with the skipped
// ones; the torrent and its files agree on progress. A restart trusts
// the partly kept pieces from the resume data. Wanting every file while
// it seeds fetches the rest, and the whole tree matches.
func TestFilePrioritiesFromLibtorrent(t *testing.T) {
	src, content, data, mi := threeFiles(t, "three")
	tf := filepath.Join(t.TempDir(), "three.torrent")
	writeFile(t, tf, data)
	_, ltPort := testpeers.SeedLT(t, tf, src)
	peer := fmt.Sprintf("127.0.0.1:%d", ltPort)

	state, dl := t.TempDir(), t.TempDir()
	files := make([]FilePriority, len(mi.Info.Files))
	for i := range files {
		files[i] = PrioritySkip
	}
	b := fileIndex(t, mi, "b.bin")
	files[b] = PriorityNormal
	cfg := Config{StateDir: state, KeepList: true, DownloadDir: dl}
	e := newEngine(t, cfg)
	stop := runEngine(t, e)
	ih, err := e.AddTorrent(data, AddOptions{Peers: []string{peer}, Files: files})
	if err != nil {
		t.Fatal(err)
	}
	ts := waitState(t, e, ih, StateSeeding, 60*time.Second)
	if ts.Progress != 1 || ts.Wanted != 70_000 {
		t.Fatalf("progress %v of %d wanted bytes, want 1 of 70000", ts.Progress, ts.Wanted)
	}
	for _, f := range ts.Files {
		want := 0.0
		if f.Index == b {
			want = 1
		}
		if f.Priority != files[f.Index] || (f.Index == b && f.Progress != want) || (f.Index != b && f.Progress == 1) {
			t.Errorf("file %s: priority %d progress %v", f.Path, f.Priority, f.Progress)
		}
	}
	if got := listTree(t, dl); !slices.Equal(got, []string{"three", "three/b.bin"}) {
		t.Fatalf("on disk: %q, want only three/b.bin", got)
	}
	sameFile(t, filepath.Join(content, "b.bin"), filepath.Join(dl, "three", "b.bin"))
	stop()

	// Restarted: the pieces shared with a.bin and c.bin cannot be hashed
	// from the disk, the resume data vouches for them.
	e = newEngine(t, cfg)
	stop = runEngine(t, e)
	ts = waitState(t, e, ih, StateSeeding, 30*time.Second)
	if ts.Progress != 1 || ts.Files[b].Priority != PriorityNormal || ts.Files[0].Priority != PrioritySkip {
		t.Fatalf("after a restart: progress %v, priorities %d %d", ts.Progress, ts.Files[0].Priority, ts.Files[b].Priority)
	}
	if got := listTree(t, dl); !slices.Equal(got, []string{"three", "three/b.bin"}) {
		t.Fatalf("on disk after a restart: %q", got)
	}

	// Every file wanted: downloading again, then seeding the whole.
	e.SetFilePriorities(ih, nil)
	waitStatus(t, e, ih, "the whole torrent", 60*time.Second, func(ts TorrentStatus) bool {
		return ts.State == StateSeeding && ts.PiecesHave == ts.PiecesTotal && ts.Wanted == ts.Size
	})
	sameTree(t, content, filepath.Join(dl, "three"))
	stop()
}

// newEngine makes an engine with cfg on top of testingConfig, not
// started.
func newEngine(t *testing.T, cfg Config) *Engine {
	t.Helper()
	e, err := New(withTesting(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// sameFile fails unless files a and b hold the same bytes.
func sameFile(t *testing.T, a, b string) {
	t.Helper()
	x, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(x, y) {
		t.Fatalf("%s and %s differ", a, b)
	}
}

// TestHighPriorityFirst: from a libtorrent seeder slowed to 128 KiB/s, a
// file set High is complete while the others have hardly begun.
func TestHighPriorityFirst(t *testing.T) {
	src, _, data, mi := threeFiles(t, "high")
	tf := filepath.Join(t.TempDir(), "high.torrent")
	writeFile(t, tf, data)
	_, ltPort := testpeers.SeedLT(t, tf, src, "--rate", "131072")
	files := make([]FilePriority, len(mi.Info.Files))
	c := fileIndex(t, mi, "c.bin")
	files[c] = PriorityHigh
	e := testEngine(t, Config{})
	ih, err := e.AddTorrent(data, AddOptions{Peers: []string{fmt.Sprintf("127.0.0.1:%d", ltPort)}, Files: files})
	if err != nil {
		t.Fatal(err)
	}
	ts := waitStatus(t, e, ih, "c.bin complete", 60*time.Second, func(ts TorrentStatus) bool {
		return len(ts.Files) == 3 && ts.Files[c].Progress == 1
	})
	// c.bin is 90,001 bytes of 260,001; the piece it shares with b.bin
	// holds 6,160 bytes of b. Beyond that, allow two pieces fetched
	// between c's end and the snapshot (at 128 KiB/s, 100 ms apart).
	var others int64
	for _, f := range ts.Files {
		if f.Index != c {
			others += int64(f.Progress * float64(f.Size))
		}
	}
	if others > 6160+2*32768 {
		t.Fatalf("%d bytes of the normal files verified before the high one was done", others)
	}
	waitState(t, e, ih, StateSeeding, 60*time.Second)
}

// TestWaitForFilesMagnet: a magnet link added with WaitForFiles fetches
// its metadata from libtorrent, then waits with its file list on view
// and nothing on disk; StartChosen with another folder and one file
// skipped downloads the others there.
func TestWaitForFilesMagnet(t *testing.T) {
	src, content, data, mi := threeFiles(t, "chosen")
	tf := filepath.Join(t.TempDir(), "chosen.torrent")
	writeFile(t, tf, data)
	_, ltPort := testpeers.SeedLT(t, tf, src)
	e := testEngine(t, Config{})
	magnet := mi.Magnet().String()
	ih, err := e.AddMagnet(magnet, AddOptions{Peers: []string{fmt.Sprintf("127.0.0.1:%d", ltPort)}, WaitForFiles: true})
	if err != nil {
		t.Fatal(err)
	}
	ts := waitState(t, e, ih, StateWaitingFiles, 60*time.Second)
	if len(ts.Files) != 3 || ts.Size != mi.Info.TotalLength {
		t.Fatalf("waiting with %d files of %d bytes", len(ts.Files), ts.Size)
	}
	if _, err := os.Lstat(filepath.Join(e.cfg.DownloadDir, "chosen")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("something was created while waiting: %v", err)
	}
	// It stays waiting.
	time.Sleep(500 * time.Millisecond)
	if ts = waitStatus(t, e, ih, "a status", 5*time.Second, func(TorrentStatus) bool { return true }); ts.State != StateWaitingFiles {
		t.Fatalf("state %q after waiting a while", ts.State)
	}
	dir := t.TempDir()
	files := make([]FilePriority, 3)
	a := fileIndex(t, mi, "a.bin")
	files[a] = PrioritySkip
	e.StartChosen(ih, dir, files, false)
	waitState(t, e, ih, StateSeeding, 60*time.Second)
	if got := listTree(t, dir); !slices.Equal(got, []string{"chosen", "chosen/b.bin", "chosen/c.bin"}) {
		t.Fatalf("on disk: %q", got)
	}
	for _, n := range []string{"b.bin", "c.bin"} {
		sameFile(t, filepath.Join(content, n), filepath.Join(dir, "chosen", n))
	}
	if got := listTree(t, e.cfg.DownloadDir); len(got) != 0 {
		t.Fatalf("the default folder holds %q", got)
	}
}

// TestPriorityChangeWhileDownloading: priorities set while paused hold
// when it resumes (the skipped file is not created), and changed while
// downloading from a slowed libtorrent seeder they take effect: the file
// skipped at first is created and fetched, byte for byte.
func TestPriorityChangeWhileDownloading(t *testing.T) {
	src, content, data, mi := threeFiles(t, "changed")
	tf := filepath.Join(t.TempDir(), "changed.torrent")
	writeFile(t, tf, data)
	_, ltPort := testpeers.SeedLT(t, tf, src, "--rate", "131072")
	e := testEngine(t, Config{NoDHT: true})
	ih, err := e.AddTorrent(data, AddOptions{Paused: true, Peers: []string{fmt.Sprintf("127.0.0.1:%d", ltPort)}})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, e, ih, StatePaused, 10*time.Second)
	a, c := fileIndex(t, mi, "a.bin"), fileIndex(t, mi, "c.bin")
	files := make([]FilePriority, 3)
	files[c] = PrioritySkip
	e.SetFilePriorities(ih, files)
	e.Resume(ih)
	cPath := filepath.Join(e.cfg.DownloadDir, "changed", "c.bin")
	waitStatus(t, e, ih, "some progress", 30*time.Second, func(ts TorrentStatus) bool {
		return ts.State == StateDownloading && ts.Progress > 0.1 && ts.Files[c].Priority == PrioritySkip
	})
	if _, err := os.Lstat(cPath); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the skipped file exists while downloading: %v", err)
	}
	files[c], files[a] = PriorityHigh, PriorityNormal
	e.SetFilePriorities(ih, files)
	waitStatus(t, e, ih, "c.bin created", 10*time.Second, func(ts TorrentStatus) bool {
		_, err := os.Stat(cPath) // by the run, a moment after the status shows the change
		return ts.Files[c].Priority == PriorityHigh && err == nil
	})
	waitState(t, e, ih, StateSeeding, 60*time.Second)
	sameTree(t, content, filepath.Join(e.cfg.DownloadDir, "changed"))
}

// TestWaitForFilesTorrent: a .torrent added with WaitForFiles waits with
// nothing on disk, keeps waiting across a restart, and StartChosen
// paused with the folder that holds its data leaves it paused there;
// resumed, it finds its data and seeds.
func TestWaitForFilesTorrent(t *testing.T) {
	src, _, data, mi := threeFiles(t, "held")
	cfg := Config{NoDHT: true, StateDir: t.TempDir(), KeepList: true, DownloadDir: t.TempDir()}
	e := newEngine(t, cfg)
	stop := runEngine(t, e)
	ih, err := e.AddTorrent(data, AddOptions{WaitForFiles: true})
	if err != nil {
		t.Fatal(err)
	}
	if ts := waitState(t, e, ih, StateWaitingFiles, 10*time.Second); len(ts.Files) != 3 {
		t.Fatalf("%d files on view", len(ts.Files))
	}
	stop()
	e = newEngine(t, cfg)
	runEngine(t, e)
	waitState(t, e, ih, StateWaitingFiles, 10*time.Second)
	if got := listTree(t, cfg.DownloadDir); len(got) != 0 {
		t.Fatalf("the folder holds %q while waiting", got)
	}
	e.StartChosen(ih, src, nil, true)
	ts := waitState(t, e, ih, StatePaused, 10*time.Second)
	if ts.Dir != src {
		t.Fatalf("in %s, want %s", ts.Dir, src)
	}
	e.Resume(ih)
	if ts = waitState(t, e, ih, StateSeeding, 30*time.Second); ts.PiecesHave != mi.Info.NumPieces() {
		t.Fatalf("%d of %d pieces", ts.PiecesHave, mi.Info.NumPieces())
	}
}
