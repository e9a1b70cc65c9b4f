package engine

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht"
	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/publish"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// putVersionSoon puts a version, retrying for up to 30 s while the
// engine's DHT is starting or has no node yet (each try bounded).
func putVersionSoon(t *testing.T, e *Engine, key ed25519.PrivateKey, salt []byte, seq int64, ih metainfo.Hash) dht.PutResult {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, res, err := e.PutVersion(ctx, key, salt, seq, ih)
		cancel()
		if err == nil {
			return res
		}
		if time.Now().After(deadline) {
			t.Fatalf("putting version %d: %v", seq, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// latestSoon looks up the newest version above after, retrying for up to
// 30 s while none is found.
func latestSoon(t *testing.T, e *Engine, link *metainfo.MutableMagnet, after int64) publish.Version {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		v, _, err := e.LatestVersion(ctx, link, after)
		cancel()
		if err == nil {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("looking up a version above %d: %v", after, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestPublicationUpdate is an updatable publication end to end through a
// libtorrent DHT node: a publisher engine seeds version 1 of a folder of
// three files and puts it as a BEP 46 item, which libtorrent reads back
// with a valid signature; a follower engine with only the link resolves
// it and downloads it. The publisher changes one file (it grows) and
// puts version 2, made with version 1's piece length; the follower finds
// it, refuses nothing newer than what it has in between, and downloads
// version 2 into the same folder: the bytes it receives are those of the
// changed file's pieces only.
func TestPublicationUpdate(t *testing.T) {
	router := startLTNode(t, "127.0.0.46")
	src := t.TempDir()
	root := filepath.Join(src, "pub")
	testpeers.RandomFile(t, filepath.Join(root, "a.bin"), 300_000, 1)
	testpeers.RandomFile(t, filepath.Join(root, "b.bin"), 200_000, 2)
	testpeers.RandomFile(t, filepath.Join(root, "c.bin"), 150_000, 3)

	pub := testEngine(t, Config{StateDir: t.TempDir(), Bootstrap: []string{router}})
	fol := testEngine(t, Config{StateDir: t.TempDir(), Bootstrap: []string{router}})
	_, key, _ := ed25519.GenerateKey(nil)
	salt := []byte("pub")
	link := publish.Link(key, salt, "pub")

	ev1 := waitCreated(t, pub, pub.Create(CreateRequest{Paths: []string{root}}), 60*time.Second)
	mi1, err := metainfo.Parse(ev1.Torrent)
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, pub, ev1.InfoHash, StateSeeding, 30*time.Second)
	putVersionSoon(t, pub, key, salt, 1, mi1.InfoHash)

	// libtorrent reads our item back and checks its signature.
	lt := testpeers.StartLT(t, "dht", "--port", "0", "--ip", "127.0.0.47", "--bootstrap", router, "--seconds", "40",
		"--get-mutable", hex.EncodeToString(link.PublicKey[:]), "--get-salt", hex.EncodeToString(salt))
	it1, _ := krpc.SignItem(key, salt, 1, krpc.InfoHashValue(mi1.InfoHash))
	lt.Wait(t, fmt.Sprintf("MUTABLE %x %x 1 %x", link.PublicKey, salt, it1.Sig), 40*time.Second)

	v1 := latestSoon(t, fol, link, publish.NoVersion)
	if v1.Seq != 1 || v1.InfoHash != mi1.InfoHash {
		t.Fatalf("follower found seq %d %v, want 1 %v", v1.Seq, v1.InfoHash, mi1.InfoHash)
	}
	ih1, err := fol.AddMagnet("magnet:?xt=urn:btih:"+v1.InfoHash.String()+"&dn=pub", AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, fol, ih1, StateSeeding, 120*time.Second)
	dest := filepath.Join(fol.cfg.DownloadDir, "pub")
	sameTree(t, root, dest)

	// Nothing newer than version 1 yet: a follower that has it finds none.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	_, _, err = fol.LatestVersion(ctx, link, 1)
	cancel()
	if !errors.Is(err, dht.ErrItemNotFound) {
		t.Fatalf("lookup above seq 1 before version 2: %v, want ErrItemNotFound", err)
	}

	// Version 2: b.bin changes and grows.
	pub.Remove(ev1.InfoHash, false)
	changed := int64(230_000)
	testpeers.RandomFile(t, filepath.Join(root, "b.bin"), changed, 22)
	ev2 := waitCreated(t, pub, pub.Create(CreateRequest{Paths: []string{root}, PieceLength: mi1.Info.PieceLength}), 60*time.Second)
	mi2, err := metainfo.Parse(ev2.Torrent)
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, pub, ev2.InfoHash, StateSeeding, 30*time.Second)
	putVersionSoon(t, pub, key, salt, 2, mi2.InfoHash)

	v2 := latestSoon(t, fol, link, v1.Seq)
	if v2.Seq != 2 || v2.InfoHash != mi2.InfoHash {
		t.Fatalf("follower found seq %d %v, want 2 %v", v2.Seq, v2.InfoHash, mi2.InfoHash)
	}
	fol.Remove(ih1, false)
	ih2, err := fol.AddMagnet("magnet:?xt=urn:btih:"+v2.InfoHash.String()+"&dn=pub", AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ts := waitState(t, fol, ih2, StateSeeding, 120*time.Second)
	sameTree(t, root, dest)
	pl := mi1.Info.PieceLength
	pieces := (changed + pl - 1) / pl * pl
	t.Logf("version 2: received %d bytes; the changed file is %d bytes, %d in its %d pieces of %d; the torrent %d",
		ts.Downloaded, changed, pieces, pieces/pl, pl, ts.Size)
	if ts.Downloaded < changed || ts.Downloaded > pieces {
		t.Fatalf("version 2 received %d bytes, want the changed file's pieces only (%d to %d)", ts.Downloaded, changed, pieces)
	}
	if _, err := os.Stat(filepath.Join(dest, ".pad")); err == nil {
		t.Fatal("pad files were written to disk")
	}
}
