package engine

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// testContent writes a small multi-file folder under dir/name and returns
// its path: nested folders, an empty file, a file of exactly one piece and
// files that cross piece boundaries.
func testContent(t *testing.T, dir, name string, scale int64) string {
	t.Helper()
	root := filepath.Join(dir, name)
	testpeers.RandomFile(t, filepath.Join(root, "a.bin"), 3*scale+12345, 1)
	testpeers.RandomFile(t, filepath.Join(root, "sub", "b.bin"), scale, 2)
	testpeers.RandomFile(t, filepath.Join(root, "sub", "deeper", "c.txt"), 777, 3)
	testpeers.RandomFile(t, filepath.Join(root, "z.bin"), 2*scale+1, 4)
	if err := os.WriteFile(filepath.Join(root, "empty"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// mktorrent makes a .torrent of path with the real mktorrent, piece length
// 2^exp, and returns its bytes and parsed form.
func mktorrent(t *testing.T, path string, exp int, extra ...string) ([]byte, *metainfo.MetaInfo) {
	t.Helper()
	_, data := testpeers.Mktorrent(t, path, exp, extra...)
	mi, err := metainfo.Parse(data)
	if err != nil {
		t.Fatalf("parsing mktorrent's output: %v", err)
	}
	return data, mi
}

// testingConfig is a hermetic configuration for tests: loopback, any free
// port, UPnP and local peer discovery off (tests never multicast outside
// namespaces they make), a temporary download folder, snapshots every 100 ms, and
// DHT lookups that found nobody retried after 2 s (so that a seeder
// announcing a moment after our first lookup is found fast).
func testingConfig(t testing.TB) Config {
	return Config{
		DownloadDir:   t.TempDir(),
		Bind:          "127.0.0.1",
		NoUPnP:        true,
		NoLSD:         true,
		SnapshotEvery: 100 * time.Millisecond,
		Timing:        Timing{LookupRetry: 2 * time.Second},
	}
}

// withTesting fills the zero fields of cfg that testingConfig sets, and
// turns UPnP and local peer discovery off.
func withTesting(t testing.TB, cfg Config) Config {
	def := testingConfig(t)
	if cfg.DownloadDir == "" {
		cfg.DownloadDir = def.DownloadDir
	}
	if cfg.Bind == "" {
		cfg.Bind = def.Bind
	}
	if cfg.SnapshotEvery == 0 {
		cfg.SnapshotEvery = def.SnapshotEvery
	}
	if cfg.Timing.LookupRetry == 0 {
		cfg.Timing.LookupRetry = def.Timing.LookupRetry
	}
	cfg.NoUPnP, cfg.NoLSD = true, true
	return cfg
}

// testEngine starts an engine with cfg on top of testingConfig and
// returns it; it stops when the test ends.
func testEngine(t *testing.T, cfg Config) *Engine {
	t.Helper()
	e, err := New(withTesting(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	runEngine(t, e)
	return e
}

// waitState waits for a torrent to reach a state, failing after timeout
// or on an error state (unless that is the state awaited). It returns the
// torrent's status then.
func waitState(t *testing.T, e *Engine, ih string, want TorrentState, timeout time.Duration) TorrentStatus {
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
				if ts.State == want {
					return ts
				}
				if ts.State == StateError {
					t.Fatalf("torrent failed: %v", ts.Err)
				}
			}
		case <-deadline:
			t.Fatalf("torrent %s not %q within %v; last: state %q, %d/%d pieces, %d peers, err %v",
				ih[:8], want, timeout, last.State, last.PiecesHave, last.PiecesTotal, last.Peers, last.Err)
		}
	}
}

// port waits for the engine to listen and returns its port.
func (e *Engine) testPort(t *testing.T) int {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case s := <-e.Snapshots():
			if s.ListenPort > 0 {
				return s.ListenPort
			}
		case <-deadline:
			t.Fatal("engine not listening after 10 s")
		}
	}
}

// sameTree fails unless every file under a exists under b with equal bytes.
func sameTree(t *testing.T, a, b string) {
	t.Helper()
	n := 0
	err := filepath.Walk(a, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		want, _ := os.ReadFile(p)
		got, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		if !bytes.Equal(want, got) {
			return fmt.Errorf("%s differs", rel)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no files compared")
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// runEngine runs e and returns a function that stops it and waits.
func runEngine(t *testing.T, e *Engine) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("engine: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("engine did not stop")
		}
	}
	t.Cleanup(stop)
	return stop
}
