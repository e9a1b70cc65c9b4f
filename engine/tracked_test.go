package engine

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// withTrackers returns the torrent re-encoded with announce (and, for
// several URLs, announce-list); the info hash does not change.
func withTrackers(t *testing.T, mi *metainfo.MetaInfo, urls ...string) []byte {
	t.Helper()
	c := *mi
	c.Announce = urls[0]
	c.AnnounceList = nil
	if len(urls) > 1 {
		for _, u := range urls {
			c.AnnounceList = append(c.AnnounceList, []string{u})
		}
	}
	data, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	again, err := metainfo.Parse(data)
	if err != nil || again.InfoHash != mi.InfoHash {
		t.Fatalf("re-encoded torrent: %v (hash %v, want %v)", err, again.InfoHash, mi.InfoHash)
	}
	return data
}

// TestTrackedWithOpentracker: a libtorrent seeder registered with
// opentracker over HTTP is found and downloaded from with no --peer and no
// DHT; then our seeder announces over UDP and libtorrent finds and
// downloads from us through the tracker alone.
func TestTrackedWithOpentracker(t *testing.T) {
	src := t.TempDir()
	content := testContent(t, src, "tracked", 300_000)
	_, mi := mktorrent(t, content, 15)
	port := testpeers.StartOpentracker(t, mi.InfoHash.String())
	httpURL, udpURL := testpeers.TrackerURLs(port)

	data := withTrackers(t, mi, httpURL)
	tf := filepath.Join(t.TempDir(), "tracked.torrent")
	writeFile(t, tf, data)
	lt, _ := testpeers.SeedLT(t, tf, src)
	lt.Wait(t, "ANNOUNCED", 30*time.Second)

	e := testEngine(t, Config{NoDHT: true})
	ih, err := e.AddTorrent(data, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ts := waitState(t, e, ih, StateSeeding, 90*time.Second)
	if ts.PiecesHave != mi.Info.NumPieces() {
		t.Fatalf("%d of %d pieces", ts.PiecesHave, mi.Info.NumPieces())
	}
	if len(ts.Trackers) != 1 || !ts.Trackers[0].Working || ts.Trackers[0].LastError != "" {
		t.Fatalf("tracker status %+v", ts.Trackers)
	}
	sameTree(t, content, filepath.Join(e.cfg.DownloadDir, "tracked"))

	// Our seeder on the UDP tracker; libtorrent gets only the torrent.
	udpData := withTrackers(t, mi, udpURL)
	udpFile := filepath.Join(t.TempDir(), "tracked-udp.torrent")
	writeFile(t, udpFile, udpData)
	seeder := testEngine(t, Config{NoDHT: true, DownloadDir: src})
	if _, err := seeder.AddTorrent(udpData, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	waitState(t, seeder, ih, StateSeeding, 30*time.Second)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if ss := lastStatus(t, seeder, ih); len(ss.Trackers) == 1 && ss.Trackers[0].Working {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("our seeder did not announce: %+v", lastStatus(t, seeder, ih).Trackers)
		}
	}
	dst := t.TempDir()
	dl := testpeers.StartLT(t, "download", udpFile, dst, "--flush", "--port", "0", "--seconds", "90")
	dl.Wait(t, "DONE", 100*time.Second)
	sameTree(t, content, filepath.Join(dst, "tracked"))
	ss := lastStatus(t, seeder, ih)
	if len(ss.Trackers) != 1 || !ss.Trackers[0].Working {
		t.Fatalf("UDP tracker status %+v", ss.Trackers)
	}
}

// TestHostileTrackerStatus: a tracker that refuses, one that sends junk
// and one that redirects to a file: URL each leave a readable status and
// the torrent keeps running.
func TestHostileTrackerStatus(t *testing.T) {
	src := t.TempDir()
	content := testContent(t, src, "hostile-tr", 50_000)
	_, mi := mktorrent(t, content, 15)
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "d14:failure reason22:torrent not registerede")
	}))
	defer refuse.Close()
	junk := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<html>502 bad gateway</html>")
	}))
	defer junk.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
	}))
	defer redirect.Close()
	data := withTrackers(t, mi, refuse.URL+"/announce", junk.URL+"/announce", redirect.URL+"/announce")
	e := testEngine(t, Config{NoDHT: true})
	ih, err := e.AddTorrent(data, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, e, ih, StateDownloading, 30*time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ts := lastStatus(t, e, ih)
		errs := map[string]string{}
		for _, tr := range ts.Trackers {
			errs[tr.URL] = tr.LastError
		}
		if ts.State == StateError {
			t.Fatalf("torrent stopped: %v", ts.Err)
		}
		if errs[refuse.URL+"/announce"] != "" && errs[junk.URL+"/announce"] != "" && errs[redirect.URL+"/announce"] != "" {
			t.Logf("tracker errors shown: %q", errs)
			if got := errs[refuse.URL+"/announce"]; got != "torrent not registered" {
				t.Fatalf("failure reason shown as %q", got)
			}
			for _, u := range []string{junk.URL, redirect.URL} {
				if e := errs[u+"/announce"]; strings.Contains(e, "\n") || len(e) > 200 {
					t.Fatalf("tracker error for %s is not one short line: %q", u, e)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("tracker errors not all reported: %+v", ts.Trackers)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
