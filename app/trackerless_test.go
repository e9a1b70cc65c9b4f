package app

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// ltNode runs a libtorrent DHT node on ip and returns its contact.
func ltNode(t *testing.T, ip string) string {
	t.Helper()
	p := testpeers.StartLT(t, "dht", "--port", "0", "--ip", ip, "--seconds", "150")
	return fmt.Sprintf("%s:%d", ip, p.Port(t))
}

// createTrackerless runs `swarmdrop create --nodes contact` on a new
// folder and returns the content folder, the .torrent path and its parse.
func createTrackerless(t *testing.T, name, contact string) (string, string, *metainfo.MetaInfo) {
	t.Helper()
	src := t.TempDir()
	testpeers.RandomFile(t, filepath.Join(src, name, "a.bin"), 700_000, 1)
	testpeers.RandomFile(t, filepath.Join(src, name, "sub", "b.bin"), 90_000, 2)
	tf := filepath.Join(t.TempDir(), name+".torrent")
	r := runSwarmdrop(t, "create", "--quiet", "--nodes", contact, "-o", tf, filepath.Join(src, name))
	if r.code != 0 {
		t.Fatalf("create: exit %d: %s", r.code, r.stderr)
	}
	data, err := os.ReadFile(tf)
	if err != nil {
		t.Fatal(err)
	}
	mi, err := metainfo.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^info hash ` + mi.InfoHash.String() + `$`).MatchString(r.stdout) {
		t.Fatalf("create printed %q, want the info hash %s", r.stdout, mi.InfoHash)
	}
	if mi.Announce != "" || len(mi.Nodes) != 1 || mi.Nodes[0].String() != contact {
		t.Fatalf("torrent announce %q nodes %v: want trackerless with %s", mi.Announce, mi.Nodes, contact)
	}
	return src, tf, mi
}

// downloadOnlyNodes runs `swarmdrop download` with an empty state, no
// --peer and no bootstrap contacts: only the torrent's nodes.
func downloadOnlyNodes(t *testing.T, tf string, mi *metainfo.MetaInfo) string {
	t.Helper()
	dir := t.TempDir()
	r := runSwarmdrop(t, "download", "--json", "--no-upnp", "--port", "0", "--dir", dir, tf)
	if r.code != 0 {
		t.Fatalf("download: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	ls := jsonLines(t, r.stdout)
	if last := ls[len(ls)-1]; last.Event != "complete" || last.PiecesHave != mi.Info.NumPieces() {
		t.Fatalf("last line %+v", last)
	}
	return dir
}

// TestTrackerlessCLI: a torrent made by `swarmdrop create --nodes` pointing
// at a libtorrent DHT node, seeded by one swarmdrop process, is downloaded
// by another that has an empty state folder and only the torrent file.
func TestTrackerlessCLI(t *testing.T) {
	router := ltNode(t, "127.0.0.24")
	src, tf, mi := createTrackerless(t, "pub", router)
	seed := swarmdropCmd(t, "seed", "--json", "--no-upnp", "--port", "0", "--dir", src, tf)
	out, err := seed.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := seed.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { seed.Process.Signal(syscall.SIGINT); seed.Wait() }()
	sc := bufio.NewScanner(out)
	seeding := false
	for deadline := time.Now().Add(30 * time.Second); !seeding && time.Now().Before(deadline) && sc.Scan(); {
		var p progressLine
		seeding = json.Unmarshal(sc.Bytes(), &p) == nil && p.State == "seeding"
	}
	if !seeding {
		t.Fatal("the seeder did not reach seeding")
	}
	go func() {
		for sc.Scan() {
		}
	}()
	dir := downloadOnlyNodes(t, tf, mi)
	sameFiles(t, filepath.Join(src, "pub"), filepath.Join(dir, "pub"))
}

// TestTrackerlessFromLibtorrent: the same torrent seeded by libtorrent
// (which joins the DHT through the same node) is found and downloaded.
func TestTrackerlessFromLibtorrent(t *testing.T) {
	router := ltNode(t, "127.0.0.25")
	src, tf, mi := createTrackerless(t, "ltpub", router)
	testpeers.SeedLT(t, tf, src, "--ip", "127.0.0.26", "--dht", router)
	dir := downloadOnlyNodes(t, tf, mi)
	sameFiles(t, filepath.Join(src, "ltpub"), filepath.Join(dir, "ltpub"))
}
