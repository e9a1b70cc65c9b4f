package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestFollowerSeedsOldVersionUntilNew: when a followed publication
// moves on, the follower's old version keeps seeding while the new one
// downloads (a libtorrent peer fetches version 1 from the follower
// alone — the publisher no longer has it — while version 2 is still
// downloading, the publisher's upload capped to make that last), and
// stops only once the new one is complete. Then the files of version 1
// that version 2 dropped are removed from the folder, and their emptied
// folder; a file the user put there and a dropped file the user added
// to (another length) stay.
func TestFollowerSeedsOldVersionUntilNew(t *testing.T) {
	router := startLTNode(t, "127.0.0.60")
	root := filepath.Join(t.TempDir(), "set")
	testpeers.RandomFile(t, filepath.Join(root, "a.bin"), 200_000, 1)
	testpeers.RandomFile(t, filepath.Join(root, "old.bin"), 100_000, 2)
	testpeers.RandomFile(t, filepath.Join(root, "sub", "gone.bin"), 60_000, 3)
	testpeers.RandomFile(t, filepath.Join(root, "edited.bin"), 50_000, 4)
	pf := publishAndFollow(t, router, root, 150_000)
	pub, fol, p1 := pf.pub, pf.fol, pf.v1
	dest := filepath.Join(pf.folDir, "set")
	sameTree(t, root, dest)
	writeFile(t, filepath.Join(dest, "notes.txt"), []byte("mine"))
	// The user adds to edited.bin (its first bytes, still version 1's,
	// are still served).
	fh, err := os.OpenFile(filepath.Join(dest, "edited.bin"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	fh.Write([]byte("added by the user"))
	fh.Close()

	// A libtorrent peer that will ask the follower for version 1.
	tf := filepath.Join(t.TempDir(), "v1.torrent")
	writeFile(t, tf, p1.Torrent)
	start := filepath.Join(t.TempDir(), "start")
	lt := testpeers.StartLT(t, "download", tf, t.TempDir(), "--peer", fmt.Sprintf("127.0.0.1:%d", fol.testPort(t)),
		"--port", "0", "--ip", "127.0.0.61", "--wait-file", start, "--seconds", "120")

	// Version 2 drops three files and adds one of 1.5 MB.
	for _, f := range []string{"old.bin", "edited.bin", filepath.Join("sub", "gone.bin"), "sub"} {
		if err := os.Remove(filepath.Join(root, f)); err != nil {
			t.Fatal(err)
		}
	}
	testpeers.RandomFile(t, filepath.Join(root, "new.bin"), 1_500_000, 5)
	req := pub.Publish(PublishRequest{Path: root, Nodes: router})
	p2 := waitPubEvent(t, pub, 60*time.Second, func(p Published) bool { return p.Request == req })
	if p2.Version != 2 {
		t.Fatalf("second publication %+v", p2)
	}
	waitBoth(t, fol, p1.InfoHash, p2.InfoHash, 60*time.Second)
	writeFile(t, start, nil)
	lt.Wait(t, "DONE", 60*time.Second)
	if ts, ok := findStatus(<-fol.Snapshots(), p2.InfoHash); !ok || ts.State == StateSeeding {
		t.Logf("version 2 complete before libtorrent's download of version 1 ended (%q): the order is still shown by the snapshot above", ts.State)
	}

	waitState(t, fol, p2.InfoHash, StateSeeding, 120*time.Second)
	sameTree(t, root, dest)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, errOld := os.Lstat(filepath.Join(dest, "old.bin"))
		_, errSub := os.Lstat(filepath.Join(dest, "sub"))
		if os.IsNotExist(errOld) && os.IsNotExist(errSub) && !hasTorrent(fol, p1.InfoHash) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after version 2: old.bin %v, sub %v, version 1 listed %v", errOld, errSub, hasTorrent(fol, p1.InfoHash))
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, f := range []string{"notes.txt", "edited.bin"} {
		if _, err := os.Stat(filepath.Join(dest, f)); err != nil {
			t.Fatalf("the user's %s: %v", f, err)
		}
	}
}

// waitBoth waits for a snapshot in which version 1 (ih1) seeds while
// version 2 (ih2) is in the list and not complete yet, failing if
// version 1 leaves the list first or version 2 completes first.
func waitBoth(t *testing.T, e *Engine, ih1, ih2 string, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case s := <-e.Snapshots():
			v1, ok1 := findStatus(s, ih1)
			v2, ok2 := findStatus(s, ih2)
			switch {
			case !ok1:
				t.Fatalf("version 1 left the list before version 2 was complete (version 2: %v %q)", ok2, v2.State)
			case ok2 && v2.State == StateSeeding:
				t.Fatal("version 2 complete before it was seen downloading next to version 1")
			case ok2 && v1.State == StateSeeding && v2.State == StateDownloading && v2.PiecesHave < v2.PiecesTotal:
				return
			}
		case <-deadline:
			t.Fatalf("version 1 seeding next to version 2 downloading not seen within %v", timeout)
		}
	}
}

// TestRemoveStale: only files of older versions that the new one has
// not, inside the folder, regular and of their old length, are removed;
// emptied folders of theirs go, a folder holding anything else stays.
func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "precious")
	writeFile(t, outside, []byte("12345"))
	for p, n := range map[string]int{"pub/keep.bin": 4, "pub/gone.bin": 3, "pub/changed.bin": 9, "pub/d/x.bin": 2,
		"pub/e/y.bin": 2, "pub/e/user.txt": 1} {
		writeFile(t, filepath.Join(dir, p), make([]byte, n))
	}
	if err := os.Symlink(outside, filepath.Join(dir, "pub", "link.bin")); err != nil {
		t.Fatal(err)
	}
	info := &metainfo.Info{Name: "pub", MultiFile: true, Files: []metainfo.File{{Path: []string{"keep.bin"}, Length: 4}}}
	st := func(p string, n int64) staleFile { return staleFile{dir: dir, path: filepath.FromSlash(p), length: n} }
	stale := []staleFile{st("pub/keep.bin", 4), st("pub/gone.bin", 3), st("pub/changed.bin", 3), st("pub/d/x.bin", 2),
		st("pub/e/y.bin", 2), st("pub/link.bin", 5), st("pub/../../precious", 5), st("pub/missing.bin", 1),
		{dir: t.TempDir(), path: "pub/keep.bin", length: 4}}
	if err := removeStale(dir, info, stale); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{"pub/keep.bin": true, "pub/gone.bin": false, "pub/changed.bin": true,
		"pub/d": false, "pub/e/y.bin": false, "pub/e/user.txt": true, "pub/link.bin": true} {
		_, err := os.Lstat(filepath.Join(dir, p))
		if got := err == nil; got != want {
			t.Errorf("%s exists: %v, want %v", p, got, want)
		}
	}
	if _, err := os.Stat(outside); err != nil {
		t.Fatalf("a file outside the folder: %v", err)
	}
}

// TestSupersedeAndUnfollow (on the engine's own state, no DHT): a
// complete version being replaced stays in the list as the previous one,
// an incomplete one (a magnet still fetching its metadata) leaves at
// once; Unfollow drops a previous version still seeding from the list,
// its files kept, and keeps the current one.
func TestSupersedeAndUnfollow(t *testing.T) {
	e := testEngine(t, Config{StateDir: t.TempDir(), NoDHT: true})
	root := filepath.Join(t.TempDir(), "v1")
	testpeers.RandomFile(t, filepath.Join(root, "a.bin"), 30_000, 1)
	v1 := waitCreated(t, e, e.Create(CreateRequest{Paths: []string{root}}), 30*time.Second)
	waitState(t, e, v1.InfoHash, StateSeeding, 30*time.Second)
	v2, err := e.AddMagnet("magnet:?xt=urn:btih:"+strings.Repeat("2", 40), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cur, err := e.AddMagnet("magnet:?xt=urn:btih:"+strings.Repeat("3", 40), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	link := &metainfo.MutableMagnet{Salt: []byte("s"), Name: "v1"}
	h1, _ := parseHash(v1.InfoHash)
	h2, _ := parseHash(v2)
	h3, _ := parseHash(cur)
	kept := make(chan bool, 1)
	e.queue.put(func() {
		e.pubsInit()
		f := &following{link: link, seq: 3, ih: h3, cancel: func() {}}
		e.pubs.followed["x"] = f
		e.supersede(f, h1) // complete: kept seeding as the previous version
		e.supersede(f, h2) // incomplete: removed now
		kept <- f.hasPrev && f.prev == h1
	})
	if !<-kept {
		t.Fatal("the complete version was not kept as the previous one")
	}
	listed := func() (bool, bool, bool) {
		s := <-e.Snapshots()
		_, a := findStatus(s, v1.InfoHash)
		_, b := findStatus(s, v2)
		_, c := findStatus(s, cur)
		return a, b, c
	}
	if a, b, c := listed(); !a || b || !c {
		t.Fatalf("after superseding: previous listed %v, incomplete %v, current %v", a, b, c)
	}
	e.Unfollow("x")
	deadline := time.Now().Add(10 * time.Second)
	for {
		a, _, c := listed()
		if !a && c {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after Unfollow: previous listed %v, current %v", a, c)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "a.bin")); err != nil {
		t.Fatalf("the previous version's file: %v", err)
	}
}

// publishedFollow is a publication of a new publisher engine followed by
// a new follower engine (see publishAndFollow).
type publishedFollow struct {
	pub, fol *Engine
	folDir   string    // the follower's download folder
	id       string    // the follow's id
	v1       Published // version 1
}

// publishAndFollow publishes root from a new publisher (its upload capped
// at upCap bytes/s, 0: none) and follows the link from a new follower
// that checks for versions every second, both on router's DHT; it returns
// once the follower seeds version 1.
func publishAndFollow(t *testing.T, router, root string, upCap int64) publishedFollow {
	t.Helper()
	pf := publishedFollow{folDir: t.TempDir()}
	pf.pub = testEngine(t, Config{StateDir: t.TempDir(), Bootstrap: []string{router}, MaxUploadRate: upCap})
	pf.fol = testEngine(t, Config{StateDir: t.TempDir(), Bootstrap: []string{router}, DownloadDir: pf.folDir,
		Timing: Timing{FollowCheck: time.Second}})
	req := pf.pub.Publish(PublishRequest{Path: root, Nodes: router})
	pf.v1 = waitPubEvent(t, pf.pub, 60*time.Second, func(p Published) bool { return p.Request == req })
	var err error
	if pf.id, err = pf.fol.Follow(pf.v1.Link, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	waitState(t, pf.fol, pf.v1.InfoHash, StateSeeding, 120*time.Second)
	return pf
}
