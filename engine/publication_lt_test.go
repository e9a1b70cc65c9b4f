package engine

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/publish"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// ltTorrent makes a torrent of root with libtorrent's create_torrent
// (canonical files: BEP 47 pad files) in pieces of pl bytes.
func ltTorrent(t *testing.T, root string, pl int64) (string, *metainfo.MetaInfo) {
	t.Helper()
	tf := filepath.Join(t.TempDir(), "pub.torrent")
	testpeers.LT(t, "create", root, tf, "--piece-length", strconv.FormatInt(pl, 10), "--pad")
	data, err := os.ReadFile(tf)
	if err != nil {
		t.Fatal(err)
	}
	mi, err := metainfo.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return tf, mi
}

// rawPut puts the BEP 46 item {ih} of seq under seed and salt on node
// with the raw BEP 44 client of the DHT's tests (signed by
// python3-cryptography), and returns its output lines.
func rawPut(t *testing.T, node string, seed, salt []byte, seq int64, ih metainfo.Hash) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, testpeers.Python, "dht/testdata/bep44put.py", "--ip", "127.0.0.54",
		"--nodes", node, "--seed", hex.EncodeToString(seed), "--salt", hex.EncodeToString(salt),
		"--seq", strconv.FormatInt(seq, 10), "--value", hex.EncodeToString(krpc.InfoHashValue(ih))).CombinedOutput()
	if err != nil {
		t.Fatalf("bep44put.py: %v\n%s", err, out)
	}
	return out
}

// TestFollowForeignPublisher follows a publication that no Swarmdrop
// made: libtorrent makes and seeds the torrents (pad-aligned, as its
// canonical_files layout), a raw BEP 44 client signs the items with
// python3-cryptography and puts them on a libtorrent DHT node. The
// follower downloads version 1, then version 2 (one file changed, the
// first seeder gone) fetching only the changed file's pieces. A stale
// put of version 1 afterwards is refused by the libtorrent node (302)
// and the follower stays at version 2.
func TestFollowForeignPublisher(t *testing.T) {
	router := startLTNode(t, "127.0.0.52")
	src := t.TempDir()
	root := filepath.Join(src, "ltpub")
	testpeers.RandomFile(t, filepath.Join(root, "a.bin"), 300_000, 1)
	testpeers.RandomFile(t, filepath.Join(root, "b.bin"), 200_000, 2)
	testpeers.RandomFile(t, filepath.Join(root, "c.bin"), 150_000, 3)
	const pl = 32768
	tf1, mi1 := ltTorrent(t, root, pl)
	seeder1, _ := testpeers.SeedLT(t, tf1, src, "--ip", "127.0.0.53", "--dht", router)

	seed := bytes.Repeat([]byte{0x46}, ed25519.SeedSize)
	salt := []byte("ltpub")
	if out := rawPut(t, router, seed, salt, 1, mi1.InfoHash); !bytes.Contains(out, []byte("STORED")) {
		t.Fatalf("version 1 not stored:\n%s", out)
	}
	link := publish.Link(ed25519.NewKeyFromSeed(seed), salt, "ltpub")

	fol := testEngine(t, Config{StateDir: t.TempDir(), Bootstrap: []string{router}, Timing: Timing{FollowCheck: time.Second}})
	id, err := fol.Follow(link.String(), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, fol, mi1.InfoHash.String(), StateSeeding, 120*time.Second)
	dest := filepath.Join(fol.cfg.DownloadDir, "ltpub")
	sameTree(t, root, dest)

	seeder1.Cmd.Process.Kill()
	changed := int64(230_000)
	testpeers.RandomFile(t, filepath.Join(root, "b.bin"), changed, 22)
	tf2, mi2 := ltTorrent(t, root, pl)
	testpeers.SeedLT(t, tf2, src, "--ip", "127.0.0.55", "--dht", router)
	if out := rawPut(t, router, seed, salt, 2, mi2.InfoHash); !bytes.Contains(out, []byte("STORED")) {
		t.Fatalf("version 2 not stored:\n%s", out)
	}
	u := waitPubEvent(t, fol, 60*time.Second, func(u Updated) bool { return u.Publication == id && u.Version == 2 })
	if u.InfoHash != mi2.InfoHash.String() {
		t.Fatalf("update %+v, want info hash %v", u, mi2.InfoHash)
	}
	ts := waitState(t, fol, mi2.InfoHash.String(), StateSeeding, 120*time.Second)
	sameTree(t, root, dest)
	pieces := (changed + pl - 1) / pl * pl
	t.Logf("version 2 from libtorrent fetched %d bytes; the changed file is %d bytes, %d in its pieces of %d; the torrent %d",
		ts.Downloaded, changed, pieces, pl, ts.Size)
	if ts.Downloaded < changed || ts.Downloaded > pieces {
		t.Fatalf("version 2 fetched %d bytes, want the changed file's pieces only (%d to %d)", ts.Downloaded, changed, pieces)
	}

	out := rawPut(t, router, seed, salt, 1, mi1.InfoHash)
	if !bytes.Contains(out, []byte("REFUSED")) || !bytes.Contains(out, []byte(" 302 ")) {
		t.Fatalf("the libtorrent node took a stale version:\n%s", out)
	}
	before := waitPublication(t, fol, id, 10*time.Second, func(PublicationStatus) bool { return true })
	ps := waitPublication(t, fol, id, 20*time.Second, func(ps PublicationStatus) bool { return ps.LastCheck.After(before.LastCheck) })
	if ps.Version != 2 || ps.InfoHash != mi2.InfoHash.String() {
		t.Fatalf("after a stale put: %+v", ps)
	}
}
