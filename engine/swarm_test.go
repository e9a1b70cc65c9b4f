package engine

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestOwnSwarm: one Swarmdrop seed, three Swarmdrop leechers that know
// the seed and each other; all complete with identical data.
func TestOwnSwarm(t *testing.T) {
	src := t.TempDir()
	content := testContent(t, src, "album", 300_000)
	data, mi := mktorrent(t, content, 16)

	seed := testEngine(t, Config{DownloadDir: src})
	ih, err := seed.AddTorrent(data, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seedPort := seed.testPort(t)
	waitState(t, seed, ih, StateSeeding, 30*time.Second)

	var leechers []*Engine
	var ports []int
	for range 3 {
		e := testEngine(t, Config{})
		leechers = append(leechers, e)
		ports = append(ports, e.testPort(t))
	}
	for i, e := range leechers {
		peers := []string{fmt.Sprintf("127.0.0.1:%d", seedPort)}
		for j, p := range ports {
			if j != i {
				peers = append(peers, fmt.Sprintf("127.0.0.1:%d", p))
			}
		}
		if _, err := e.AddTorrent(data, AddOptions{Peers: peers}); err != nil {
			t.Fatal(err)
		}
	}
	for i, e := range leechers {
		ts := waitState(t, e, ih, StateSeeding, 60*time.Second)
		if ts.PiecesHave != mi.Info.NumPieces() {
			t.Fatalf("leecher %d: %d of %d pieces", i, ts.PiecesHave, mi.Info.NumPieces())
		}
		sameTree(t, content, filepath.Join(e.cfg.DownloadDir, "album"))
	}
}

// TestLibtorrentInterop: we download a multi-file torrent from a
// libtorrent seeder, then libtorrent downloads it from us; the data is
// byte-identical both ways.
func TestLibtorrentInterop(t *testing.T) {
	src := t.TempDir()
	content := testContent(t, src, "set", 500_000)
	data, mi := mktorrent(t, content, 15)
	torrentFile := filepath.Join(t.TempDir(), "set.torrent")
	writeFile(t, torrentFile, data)

	_, ltPort := testpeers.SeedLT(t, torrentFile, src)

	e := testEngine(t, Config{})
	ih, err := e.AddTorrent(data, AddOptions{Peers: []string{fmt.Sprintf("127.0.0.1:%d", ltPort)}})
	if err != nil {
		t.Fatal(err)
	}
	port := e.testPort(t)
	ts := waitState(t, e, ih, StateSeeding, 60*time.Second)
	if ts.PiecesHave != mi.Info.NumPieces() {
		t.Fatalf("%d of %d pieces", ts.PiecesHave, mi.Info.NumPieces())
	}
	sameTree(t, content, filepath.Join(e.cfg.DownloadDir, "set"))

	// Now libtorrent downloads from us.
	dst := t.TempDir()
	dl := testpeers.StartLT(t, "download", torrentFile, dst, "--flush", "--port", "0",
		"--peer", fmt.Sprintf("127.0.0.1:%d", port), "--seconds", "60")
	dl.Wait(t, "DONE", 70*time.Second)
	sameTree(t, content, filepath.Join(dst, "set"))
}
