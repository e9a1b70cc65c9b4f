package engine

import (
	"fmt"
	"path/filepath"
	"slices"
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
	// Before our extended handshake arrives libtorrent names a peer by its
	// peer ID ("SW 0.1.0"); the name must then become ours.
	want, wantID := "Swarmdrop "+Version, "SW "+Version // an unknown code is printed with its version
	var names []string
	var byID string
	deadline := time.After(30 * time.Second)
	for byID == "" || !slices.Contains(names, want) {
		select {
		case l, ok := <-dl.Lines:
			if !ok {
				t.Fatalf("ltpeer ended; names %q, peer ID read as %q; stderr:\n%s", names, byID, dl.Stderr())
			}
			f := strings.SplitN(l, " ", 3)
			switch {
			case len(f) == 3 && f[0] == "CLIENT":
				names = append(names, f[2])
			case len(f) == 3 && f[0] == "PEERID":
				byID = f[2]
			}
		case <-deadline:
			t.Fatalf("libtorrent names us %q, want %q; peer ID read as %q", names, want, byID)
		}
	}
	if byID != wantID {
		t.Fatalf("libtorrent reads our peer ID as %q, want %q", byID, wantID)
	}
}
