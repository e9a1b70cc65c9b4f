package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// ltInfo has libtorrent read the .torrent data and returns what it says,
// a line each ("infohash ...", "file SIZE PATH", "trackers ...", ...).
func ltInfo(t *testing.T, data []byte) []string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "saved.torrent")
	writeFile(t, path, data)
	return strings.Split(strings.TrimSpace(testpeers.LT(t, "info", path)), "\n")
}

// wantLTFiles fails unless libtorrent's lines list mi's files, in order,
// with their sizes.
func wantLTFiles(t *testing.T, lines []string, mi *metainfo.MetaInfo) {
	t.Helper()
	var got, want []string
	for _, l := range lines {
		if strings.HasPrefix(l, "file ") {
			got = append(got, l)
		}
	}
	for _, f := range mi.Info.Files {
		want = append(want, fmt.Sprintf("file %d %s", f.Length, filepath.Join(append([]string{mi.Info.Name}, f.Path...)...)))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("libtorrent's files:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestTorrentFile: the .torrent of a torrent added from a file keeps its
// info dictionary byte for byte (same info hash), its trackers, the
// trackers added since and its nodes; libtorrent reads it and finds the
// same info hash and files. An unknown hash and a malformed one are
// errors.
func TestTorrentFile(t *testing.T) {
	src := t.TempDir()
	content := testContent(t, src, "saved", 40_000)
	_, mi := mktorrent(t, content, 15)
	withNodes := *mi
	withNodes.Announce = "http://127.0.0.1:1/announce"
	withNodes.Nodes = []metainfo.Node{{Host: "127.0.0.1", Port: 6881}, {Host: "::1", Port: 6882}}
	data, err := withNodes.Encode()
	if err != nil {
		t.Fatal(err)
	}
	e := testEngine(t, Config{NoDHT: true})
	ih, err := e.AddTorrent(data, AddOptions{Paused: true})
	if err != nil {
		t.Fatal(err)
	}
	e.AddTrackers(ih, [][]string{{"udp://127.0.0.1:2/announce"}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	saved, err := e.TorrentFile(ctx, ih)
	if err != nil {
		t.Fatal(err)
	}
	back, err := metainfo.Parse(saved)
	if err != nil {
		t.Fatalf("parsing the saved .torrent: %v", err)
	}
	if back.InfoHash != mi.InfoHash || !bytes.Equal(back.InfoBytes, mi.InfoBytes) {
		t.Fatalf("saved info hash %v, want %v (info bytes equal: %v)", back.InfoHash, mi.InfoHash, bytes.Equal(back.InfoBytes, mi.InfoBytes))
	}
	wantTrackers := [][]string{{"http://127.0.0.1:1/announce"}, {"udp://127.0.0.1:2/announce"}}
	if !slices.EqualFunc(back.Trackers(), wantTrackers, slices.Equal[[]string]) {
		t.Fatalf("saved trackers %q, want %q", back.Trackers(), wantTrackers)
	}
	if !slices.Equal(back.Nodes, withNodes.Nodes) {
		t.Fatalf("saved nodes %v, want %v", back.Nodes, withNodes.Nodes)
	}
	lines := ltInfo(t, saved)
	if !slices.Contains(lines, "infohash "+ih) {
		t.Fatalf("libtorrent's view lacks infohash %s:\n%s", ih, strings.Join(lines, "\n"))
	}
	if !slices.Contains(lines, "nodes 127.0.0.1:6881,::1:6882") {
		t.Fatalf("libtorrent's view lacks the nodes:\n%s", strings.Join(lines, "\n"))
	}
	wantLTFiles(t, lines, mi)

	if _, err := e.TorrentFile(ctx, strings.Repeat("ab", 20)); !errors.Is(err, ErrNoTorrent) {
		t.Fatalf("unknown torrent: %v, want ErrNoTorrent", err)
	}
	if _, err := e.TorrentFile(ctx, "nothex"); err == nil {
		t.Fatal("a malformed info hash gave no error")
	}
}

// TestTorrentFileOfMagnet: a magnet link whose metadata is unknown has no
// .torrent (ErrNoMetadata); once its metadata came from a libtorrent
// seeder, its .torrent has the info hash of the link, the link's tracker,
// and libtorrent reads the same files from it.
func TestTorrentFileOfMagnet(t *testing.T) {
	src := t.TempDir()
	content := testContent(t, src, "fetched", 40_000)
	data, mi := mktorrent(t, content, 15)
	tf := filepath.Join(t.TempDir(), "f.torrent")
	writeFile(t, tf, data)
	_, port := testpeers.SeedLT(t, tf, src)

	e := testEngine(t, Config{NoDHT: true})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nobody, err := e.AddMagnet("magnet:?xt=urn:btih:"+strings.Repeat("cd", 20), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.TorrentFile(ctx, nobody); !errors.Is(err, ErrNoMetadata) {
		t.Fatalf("magnet without metadata: %v, want ErrNoMetadata", err)
	}

	tracker := "http://127.0.0.1:1/announce"
	uri := fmt.Sprintf("magnet:?xt=urn:btih:%s&dn=fetched&tr=%s&x.pe=127.0.0.1:%d", mi.InfoHash, tracker, port)
	ih, err := e.AddMagnet(uri, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, e, ih, StateSeeding, 60*time.Second)
	saved, err := e.TorrentFile(ctx, ih)
	if err != nil {
		t.Fatal(err)
	}
	back, err := metainfo.Parse(saved)
	if err != nil {
		t.Fatal(err)
	}
	if back.InfoHash != mi.InfoHash {
		t.Fatalf("saved info hash %v, want %v", back.InfoHash, mi.InfoHash)
	}
	if tr := back.Trackers(); len(tr) != 1 || !slices.Equal(tr[0], []string{tracker}) {
		t.Fatalf("saved trackers %q, want [[%s]]", tr, tracker)
	}
	lines := ltInfo(t, saved)
	if !slices.Contains(lines, "infohash "+ih) || !slices.Contains(lines, "trackers "+tracker) {
		t.Fatalf("libtorrent's view:\n%s", strings.Join(lines, "\n"))
	}
	wantLTFiles(t, lines, mi)
}

// TestTorrentFileOfTrackerlessMagnet: a magnet link with only xt, its
// metadata and peers found through the DHT (a libtorrent node and
// seeder), saves as a .torrent with good nodes of our routing table;
// libtorrent lists them, and a second engine with no contact of its own
// downloads the torrent from that file alone.
func TestTorrentFileOfTrackerlessMagnet(t *testing.T) {
	router := startLTNode(t, "127.0.0.83")
	src := t.TempDir()
	content := testContent(t, src, "alone", 60_000)
	data, mi := mktorrent(t, content, 15)
	tf := filepath.Join(t.TempDir(), "alone.torrent")
	writeFile(t, tf, data)
	testpeers.SeedLT(t, tf, src, "--ip", "127.0.0.84", "--dht", router)

	e := testEngine(t, Config{StateDir: t.TempDir(), Bootstrap: []string{router}})
	ih, err := e.AddMagnet("magnet:?xt=urn:btih:"+mi.InfoHash.String(), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, e, ih, StateSeeding, 120*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	saved, err := e.TorrentFile(ctx, ih)
	if err != nil {
		t.Fatal(err)
	}
	back, err := metainfo.Parse(saved)
	if err != nil {
		t.Fatal(err)
	}
	if back.InfoHash != mi.InfoHash || len(back.Trackers()) != 0 || len(back.Nodes) == 0 || len(back.Nodes) > 8 {
		t.Fatalf("saved: info hash %v (want %v), trackers %q, nodes %v: want a trackerless torrent with 1 to 8 nodes",
			back.InfoHash, mi.InfoHash, back.Trackers(), back.Nodes)
	}
	var nodes []string // as ltpeer.py prints them
	for _, n := range back.Nodes {
		nodes = append(nodes, fmt.Sprintf("%s:%d", n.Host, n.Port))
	}
	lines := ltInfo(t, saved)
	if !slices.Contains(lines, "infohash "+ih) || !slices.Contains(lines, "nodes "+strings.Join(nodes, ",")) {
		t.Fatalf("libtorrent's view (nodes %v):\n%s", back.Nodes, strings.Join(lines, "\n"))
	}
	wantLTFiles(t, lines, mi)

	alone := testEngine(t, Config{StateDir: t.TempDir()})
	ih2, err := alone.AddTorrent(saved, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, alone, ih2, StateSeeding, 120*time.Second)
	sameTree(t, content, filepath.Join(alone.cfg.DownloadDir, "alone"))
}
