package engine

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestPublishCancel: a publication cancelled while its torrent is being
// made, or once it seeds while the engine asks the DHT for the newest
// version (a DHT with no node to ask: the lookup waits), ends with
// ErrCancelled and leaves nothing behind: no torrent in the list, no
// record, no key in the state folder.
func TestPublishCancel(t *testing.T) {
	state := t.TempDir()
	// A DHT bootstrapped on a port where nobody answers.
	e := testEngine(t, Config{StateDir: state, Bootstrap: []string{"127.0.0.62:9"}})

	// While hashing: a sparse file of 2 GB takes seconds.
	big := filepath.Join(t.TempDir(), "big")
	writeFile(t, filepath.Join(big, "a.bin"), []byte("a"))
	if err := os.Truncate(filepath.Join(big, "a.bin"), 2<<30); err != nil {
		t.Fatal(err)
	}
	req := e.Publish(PublishRequest{Path: big})
	p := waitPubEvent(t, e, 30*time.Second, func(p CreateProgress) bool { return p.Request == req })
	if p.Hashed >= p.Total {
		t.Fatalf("hashed %d of %d before the cancel", p.Hashed, p.Total)
	}
	e.CancelCreate(req)
	waitCancelled(t, e, req)

	// While looking the version up: the torrent is added, then removed.
	small := filepath.Join(t.TempDir(), "small")
	testpeers.RandomFile(t, filepath.Join(small, "a.bin"), 50_000, 1)
	req = e.Publish(PublishRequest{Path: small})
	deadline := time.After(30 * time.Second)
	for added := false; !added; {
		select {
		case s := <-e.Snapshots():
			added = len(s.Torrents) > 0
		case <-deadline:
			t.Fatal("the new version was never added")
		}
	}
	e.CancelCreate(req)
	waitCancelled(t, e, req)
	deadline = time.After(10 * time.Second)
	for gone := false; !gone; {
		select {
		case s := <-e.Snapshots():
			gone = len(s.Torrents) == 0 && len(s.Publications) == 0
		case <-deadline:
			t.Fatal("the cancelled version stayed in the list")
		}
	}
	left, _ := filepath.Glob(filepath.Join(state, "publications", "*"))
	if len(left) > 0 {
		t.Fatalf("left behind in the state folder: %v", left)
	}
}

// waitCancelled waits for request req to fail with ErrCancelled.
func waitCancelled(t *testing.T, e *Engine, req int) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev := <-e.Events():
			switch ev := ev.(type) {
			case CreateFailed:
				if ev.Request == req {
					if !errors.Is(ev.Err, ErrCancelled) {
						t.Fatalf("request %d failed with %v, want ErrCancelled", req, ev.Err)
					}
					return
				}
			case Published:
				if ev.Request == req {
					t.Fatalf("request %d published despite the cancel: %+v", req, ev)
				}
			}
		case <-deadline:
			t.Fatalf("request %d: no CreateFailed within 30 s", req)
		}
	}
}
