package engine

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestLibtorrentNamesUs: a libtorrent downloader connected to our seeder
// shows us as "Swarmdrop <version>" (the extended handshake's v), and
// libtorrent's identify_client reads our peer ID alone as our own code,
// not as another client's (-SD, which we used before, reads as Xunlei,
// and anti-leech filters ban it).
func TestLibtorrentNamesUs(t *testing.T) {
	src := t.TempDir()
	content := testContent(t, src, "named", 50_000)
	data, _ := mktorrent(t, content, 15)
	torrentFile := filepath.Join(t.TempDir(), "named.torrent")
	writeFile(t, torrentFile, data)
	// A slow upload keeps the connection up for a few seconds, so that
	// ltpeer sees it (it polls the peer list) before the download ends.
	e := testEngine(t, Config{DownloadDir: src, MaxUploadRate: 100_000})
	ih, err := e.AddTorrent(data, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	port := e.testPort(t)
	waitState(t, e, ih, StateSeeding, 30*time.Second)
	dl := testpeers.StartLT(t, "download", torrentFile, t.TempDir(), "--port", "0", "--print-peers",
		"--peer", fmt.Sprintf("127.0.0.1:%d", port), "--seconds", "30")
	client := strings.SplitN(dl.Wait(t, "CLIENT ", 30*time.Second), " ", 3)
	if len(client) != 3 || client[2] != "Swarmdrop "+Version {
		t.Fatalf("libtorrent names us %q, want %q", client, "Swarmdrop "+Version)
	}
	byID := strings.SplitN(dl.Wait(t, "PEERID ", 30*time.Second), " ", 3)
	want := "SW " + Version // libtorrent prints an unknown code with its version
	if len(byID) != 3 || byID[2] != want {
		t.Fatalf("libtorrent reads our peer ID as %q, want %q", byID, want)
	}
}
