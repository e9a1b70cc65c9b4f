package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// waitPubEvent waits for an event that match accepts, failing on another
// CreateFailed event or after timeout.
func waitPubEvent[T Event](t *testing.T, e *Engine, timeout time.Duration, match func(T) bool) T {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev := <-e.Events():
			if v, ok := ev.(T); ok && match(v) {
				return v
			}
			if f, ok := ev.(CreateFailed); ok {
				t.Fatalf("request %d failed: %v", f.Request, f.Err)
			}
		case <-deadline:
			var zero T
			t.Fatalf("no %T event within %v", zero, timeout)
		}
	}
}

// waitPublication waits for a snapshot in which the publication id
// passes ok, and returns its status.
func waitPublication(t *testing.T, e *Engine, id string, timeout time.Duration, ok func(PublicationStatus) bool) PublicationStatus {
	t.Helper()
	deadline := time.After(timeout)
	var last PublicationStatus
	for {
		select {
		case s := <-e.Snapshots():
			for _, ps := range s.Publications {
				if ps.ID == id {
					last = ps
					if ok(ps) {
						return ps
					}
				}
			}
		case <-deadline:
			t.Fatalf("publication %s not as awaited within %v; last %+v", id, timeout, last)
		}
	}
}

func hasTorrent(e *Engine, ih string) bool {
	s := <-e.Snapshots()
	_, ok := findStatus(s, ih)
	return ok
}

// TestPublishAndFollowEngine is the engine's Publish and Follow (through
// AddMagnet, as the window adds any link) with a libtorrent DHT node: version 1 reaches the follower; version 2 (one
// file changed) replaces it by itself in the same folder, fetching the
// changed file's pieces only; the follower puts the item again; with
// auto-update off, version 3 (a file shrinks) is shown available and
// downloaded on UpdateNow, the shrunk file cut to its new length; a restarted follower follows on from version 3.
func TestPublishAndFollowEngine(t *testing.T) {
	router := startLTNode(t, "127.0.0.50")
	root := filepath.Join(t.TempDir(), "album")
	testpeers.RandomFile(t, filepath.Join(root, "a.bin"), 300_000, 1)
	testpeers.RandomFile(t, filepath.Join(root, "b.bin"), 200_000, 2)
	testpeers.RandomFile(t, filepath.Join(root, "c.bin"), 150_000, 3)
	pubState := t.TempDir()
	pub := testEngine(t, Config{StateDir: pubState, Bootstrap: []string{router}})
	folCfg := Config{StateDir: t.TempDir(), KeepList: true, Bootstrap: []string{router}, DownloadDir: t.TempDir(),
		Timing: Timing{FollowCheck: time.Second}}
	fol, err := New(withTesting(t, folCfg))
	if err != nil {
		t.Fatal(err)
	}
	stopFol := runEngine(t, fol)

	req := pub.Publish(PublishRequest{Path: root, Nodes: router})
	p1 := waitPubEvent(t, pub, 60*time.Second, func(p Published) bool { return p.Request == req })
	if p1.Version != 1 {
		t.Fatalf("first publication is version %d", p1.Version)
	}
	id, err := fol.AddMagnet(p1.Link, AddOptions{}) // an updatable link is followed (see Follow)
	if err != nil {
		t.Fatal(err)
	}
	u1 := waitPubEvent(t, fol, 60*time.Second, func(u Updated) bool { return u.Publication == id })
	if !u1.First || u1.Version != 1 || u1.InfoHash != p1.InfoHash {
		t.Fatalf("first update %+v, published %+v", u1, p1)
	}
	waitState(t, fol, p1.InfoHash, StateSeeding, 120*time.Second)
	dest := filepath.Join(folCfg.DownloadDir, "album")
	sameTree(t, root, dest)
	ps := waitPublication(t, pub, id, 30*time.Second, func(ps PublicationStatus) bool { return ps.Stored > 0 })
	if st, err := os.Stat(ps.KeyFile); err != nil || st.Mode().Perm() != 0o600 || filepath.Dir(filepath.Dir(ps.KeyFile)) != pubState {
		t.Fatalf("key file %q: %v", ps.KeyFile, err)
	}
	if !ps.Publisher || ps.Version != 1 || ps.Path != root {
		t.Fatalf("publisher's status %+v", ps)
	}

	changed := int64(230_000)
	testpeers.RandomFile(t, filepath.Join(root, "b.bin"), changed, 22)
	req = pub.Publish(PublishRequest{Path: root, Nodes: router})
	p2 := waitPubEvent(t, pub, 60*time.Second, func(p Published) bool { return p.Request == req })
	if p2.Version != 2 || p2.Link != p1.Link {
		t.Fatalf("second publication %+v after %+v", p2, p1)
	}
	u2 := waitPubEvent(t, fol, 60*time.Second, func(u Updated) bool { return u.Publication == id && u.Version == 2 })
	if u2.First || u2.InfoHash != p2.InfoHash {
		t.Fatalf("update %+v, published %+v", u2, p2)
	}
	ts := waitState(t, fol, p2.InfoHash, StateSeeding, 120*time.Second)
	sameTree(t, root, dest)
	pl := ts.PieceLength
	pieces := (changed + pl - 1) / pl * pl
	t.Logf("version 2 fetched %d bytes; the changed file is %d bytes, %d in its pieces of %d", ts.Downloaded, changed, pieces, pl)
	if ts.Downloaded < changed || ts.Downloaded > pieces {
		t.Fatalf("version 2 fetched %d bytes, want the changed file's pieces only (%d to %d)", ts.Downloaded, changed, pieces)
	}
	if hasTorrent(fol, p1.InfoHash) || hasTorrent(pub, p1.InfoHash) {
		t.Fatal("version 1 still in a list after version 2")
	}
	waitPublication(t, fol, id, 30*time.Second, func(ps PublicationStatus) bool {
		return ps.Version == 2 && ps.InfoHash == p2.InfoHash && ps.Stored > 0
	})

	// Auto-update off: version 3 is found, shown, and waits for UpdateNow.
	fol.SetAutoUpdate(id, false)
	waitPublication(t, fol, id, 10*time.Second, func(ps PublicationStatus) bool { return !ps.AutoUpdate })
	testpeers.RandomFile(t, filepath.Join(root, "c.bin"), 100_000, 33) // shrinks: no stale tail may stay
	req = pub.Publish(PublishRequest{Path: root, Nodes: router})
	p3 := waitPubEvent(t, pub, 60*time.Second, func(p Published) bool { return p.Request == req })
	waitPublication(t, fol, id, 60*time.Second, func(ps PublicationStatus) bool { return ps.Available == 3 && ps.Version == 2 })
	fol.UpdateNow(id)
	waitState(t, fol, p3.InfoHash, StateSeeding, 120*time.Second)
	sameTree(t, root, dest)

	// A restart follows on from version 3, auto-update still off.
	stopFol()
	fol2, err := New(withTesting(t, folCfg))
	if err != nil {
		t.Fatal(err)
	}
	runEngine(t, fol2)
	ps = waitPublication(t, fol2, id, 30*time.Second, func(ps PublicationStatus) bool { return !ps.LastCheck.IsZero() })
	if ps.Version != 3 || ps.InfoHash != p3.InfoHash || ps.AutoUpdate || ps.Err != "" {
		t.Fatalf("restarted follower: %+v", ps)
	}
	waitState(t, fol2, p3.InfoHash, StateSeeding, 60*time.Second)
	for _, f := range []string{"follows.json"} {
		if st, err := os.Stat(filepath.Join(folCfg.StateDir, f)); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v", f, err)
		}
	}
}

// TestPublisherRestart: with KeepList, a restarted publisher seeds its
// publication's current version again and puts its item again at once
// (libtorrent's DHT node stores it: Stored > 0), with no new version;
// publishing the unchanged folder again keeps version 1.
func TestPublisherRestart(t *testing.T) {
	router := startLTNode(t, "127.0.0.51")
	root := filepath.Join(t.TempDir(), "doc")
	testpeers.RandomFile(t, filepath.Join(root, "a.bin"), 100_000, 1)
	testpeers.RandomFile(t, filepath.Join(root, "b.bin"), 50_000, 2)
	cfg := Config{StateDir: t.TempDir(), KeepList: true, Bootstrap: []string{router}}
	pub, err := New(withTesting(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	stop := runEngine(t, pub)
	req := pub.Publish(PublishRequest{Path: root, Nodes: router})
	p := waitPubEvent(t, pub, 60*time.Second, func(p Published) bool { return p.Request == req })
	waitPublication(t, pub, p.Publication, 30*time.Second, func(ps PublicationStatus) bool { return ps.Stored > 0 })
	stop()

	again, err := New(withTesting(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	runEngine(t, again)
	ps := waitPublication(t, again, p.Publication, 30*time.Second, func(ps PublicationStatus) bool { return ps.Stored > 0 })
	if !ps.Publisher || ps.Version != 1 || ps.InfoHash != p.InfoHash || ps.Link != p.Link || ps.Path != root {
		t.Fatalf("after a restart: %+v, published %+v", ps, p)
	}
	waitState(t, again, p.InfoHash, StateSeeding, 30*time.Second)

	// Publishing the unchanged folder again makes no new version.
	req = again.Publish(PublishRequest{Path: root, Nodes: router})
	same := waitPubEvent(t, again, 60*time.Second, func(q Published) bool { return q.Request == req })
	if same.Version != 1 || same.InfoHash != p.InfoHash {
		t.Fatalf("unchanged folder published as %+v, first %+v", same, p)
	}
}

// TestPublishWithoutDHT: with the DHT off a publication is still made and
// seeded at once (its link can be shared with x.pe peers), and its status
// says the item could not be put; with no state folder, Publish fails
// with one error.
func TestPublishWithoutDHT(t *testing.T) {
	root := filepath.Join(t.TempDir(), "solo")
	testpeers.RandomFile(t, filepath.Join(root, "a.bin"), 40_000, 1)
	testpeers.RandomFile(t, filepath.Join(root, "b.bin"), 40_000, 2)
	e := testEngine(t, Config{StateDir: t.TempDir(), NoDHT: true})
	start := time.Now()
	req := e.Publish(PublishRequest{Path: root})
	p := waitPubEvent(t, e, 15*time.Second, func(p Published) bool { return p.Request == req })
	if p.Version != 1 || time.Since(start) > 10*time.Second {
		t.Fatalf("published %+v after %v", p, time.Since(start))
	}
	waitState(t, e, p.InfoHash, StateSeeding, 30*time.Second)
	waitPublication(t, e, p.Publication, 10*time.Second, func(ps PublicationStatus) bool { return ps.Err != "" && ps.Stored == 0 })

	bare := testEngine(t, Config{NoDHT: true})
	req = bare.Publish(PublishRequest{Path: root})
	f := waitPubEvent(t, bare, 10*time.Second, func(f CreateFailed) bool { return f.Request == req && f.Err != nil })
	if !strings.Contains(f.Err.Error(), "state folder") {
		t.Fatalf("without a state folder: %v", f.Err)
	}
}
