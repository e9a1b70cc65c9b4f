package engine

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// onlyTransport fails unless every connection in peers is carried by
// transport and family, and there is at least one.
func onlyTransport(t *testing.T, who string, peers []PeerStatus, family, transport string) {
	t.Helper()
	if len(peers) == 0 {
		t.Fatalf("%s: no connection seen in the snapshots", who)
	}
	for _, p := range peers {
		if p.Transport != transport || p.Family != family {
			t.Fatalf("%s: connection %s is %s over %s, want %s over %s", who, p.Addr, p.Family, p.Transport, family, transport)
		}
	}
}

// TestUTPWithLibtorrent: libtorrent with TCP off (uTP only) seeds, and we
// download from it over uTP; then another libtorrent with TCP off
// downloads from us, dialing our uTP socket. Byte-identical both ways, and
// the peer lists (ours, and libtorrent's PEERCONN lines) say uTP.
func TestUTPWithLibtorrent(t *testing.T) {
	src := t.TempDir()
	content := testContent(t, src, "set", 500_000)
	data, mi := mktorrent(t, content, 15)
	torrentFile := filepath.Join(t.TempDir(), "set.torrent")
	writeFile(t, torrentFile, data)
	_, ltPort := testpeers.SeedLT(t, torrentFile, src, "--utp")

	e := testEngine(t, Config{})
	port := e.testPort(t)
	ih, err := e.AddTorrent(data, AddOptions{Peers: []string{fmt.Sprintf("127.0.0.1:%d", ltPort)}})
	if err != nil {
		t.Fatal(err)
	}
	f := follow(t, e, ih)
	start := time.Now()
	ts := f.waitState(t, StateSeeding, 60*time.Second)
	if ts.PiecesHave != mi.Info.NumPieces() {
		t.Fatalf("%d of %d pieces", ts.PiecesHave, mi.Info.NumPieces())
	}
	t.Logf("from libtorrent over uTP: %d bytes in %v", mi.Info.TotalLength, time.Since(start).Round(time.Millisecond))
	sameTree(t, content, filepath.Join(e.cfg.DownloadDir, "set"))
	onlyTransport(t, "download", f.seen("127.0.0.1"), "IPv4", "uTP")

	dst := t.TempDir()
	dl := testpeers.StartLT(t, "download", torrentFile, dst, "--flush", "--port", "0", "--utp",
		"--peer", fmt.Sprintf("127.0.0.1:%d", port), "--seconds", "60")
	conn := dl.Wait(t, "PEERCONN", 30*time.Second)
	if !strings.HasSuffix(strings.TrimSpace(conn), " utp") {
		t.Fatalf("libtorrent's connection to us: %q, want uTP", conn)
	}
	done := dl.Wait(t, "DONE", 70*time.Second)
	t.Logf("libtorrent from us over uTP: %s", strings.TrimSpace(done))
	sameTree(t, content, filepath.Join(dst, "set"))
}

// TestUTPSetting: with uTP off (Settings.NoUTP) a libtorrent that speaks
// only uTP cannot reach us; turned on while running, the same kind of
// libtorrent downloads everything from us over uTP.
func TestUTPSetting(t *testing.T) {
	src := t.TempDir()
	content := testContent(t, src, "set", 100_000)
	data, _ := mktorrent(t, content, 15)
	torrentFile := filepath.Join(t.TempDir(), "set.torrent")
	writeFile(t, torrentFile, data)

	e := testEngine(t, Config{DownloadDir: src, NoUTP: true})
	port := e.testPort(t)
	ih, err := e.AddTorrent(data, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f := follow(t, e, ih)
	f.waitState(t, StateSeeding, 30*time.Second)
	if f.snapshot().UTP {
		t.Fatal("the snapshot says uTP is on with Config.NoUTP")
	}
	peer := fmt.Sprintf("127.0.0.1:%d", port)
	off := testpeers.StartLT(t, "download", torrentFile, t.TempDir(), "--port", "0", "--utp", "--peer", peer, "--seconds", "4")
	for l := range off.Lines { // until it exits after 4 s
		// (PEERCONN lines come with connection attempts too.)
		if strings.HasPrefix(l, "DONE") || strings.HasPrefix(l, "FIRSTPEER") {
			t.Fatalf("with uTP off, a uTP-only libtorrent printed %q", l)
		}
	}
	if seen := f.all(); len(seen) > 0 {
		t.Fatalf("with uTP off, connections: %+v", seen)
	}

	e.ApplySettings(Settings{NoUTP: false, UPnP: false})
	deadline := time.Now().Add(10 * time.Second)
	for !f.snapshot().UTP {
		if time.Now().After(deadline) {
			t.Fatal("uTP not on 10 s after ApplySettings")
		}
		time.Sleep(20 * time.Millisecond)
	}
	dst := t.TempDir()
	on := testpeers.StartLT(t, "download", torrentFile, dst, "--flush", "--port", "0", "--utp", "--peer", peer, "--seconds", "30")
	on.Wait(t, "DONE", 40*time.Second)
	sameTree(t, content, filepath.Join(dst, "set"))
}
