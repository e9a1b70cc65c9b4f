package engine

import (
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
	"github.com/swarmdrop/swarmdrop/engine/publish"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestFollowOfForgedEntry: a saved version whose signature does not
// hold (a follows.json edited by hand, or damaged) is dropped, and the
// publication is followed from no version; a good one is kept, with the
// previous version still seeding when there is one.
func TestFollowOfForgedEntry(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	salt := []byte("x")
	link := publish.Link(key, salt, "x")
	it, err := krpc.SignItem(key, salt, 4, krpc.InfoHashValue([20]byte{1}))
	if err != nil {
		t.Fatal(err)
	}
	good := followEntry{Link: link.String(), Dir: "/d", Seq: 4, InfoHash: "01" + "00000000000000000000000000000000000000",
		Value: it.V, Sig: it.Sig[:], AutoUpdate: true}
	id, f, ok := followOf(good)
	if !ok || id != publicationID(link) || f.seq != 4 || !f.auto || f.item.V == nil {
		t.Fatalf("good entry: %v %+v", ok, f)
	}
	if f.hasPrev {
		t.Fatal("an entry without a previous version has one")
	}
	withPrev := good
	withPrev.PrevInfoHash = "02" + strings.Repeat("0", 38)
	if _, f, _ = followOf(withPrev); !f.hasPrev || f.prev.String() != withPrev.PrevInfoHash {
		t.Fatalf("previous version still seeding not read back: %+v", f)
	}
	withPrev.PrevInfoHash = good.InfoHash // the current one: no previous
	if _, f, _ = followOf(withPrev); f.hasPrev {
		t.Fatal("the current version read back as the previous one")
	}
	forged := good
	forged.Seq = 9 // the signature was over seq 4
	if _, f, ok = followOf(forged); !ok || f.seq != publish.NoVersion {
		t.Fatalf("forged entry kept its version: %+v", f)
	}
	if _, _, ok = followOf(followEntry{Link: "magnet:?xt=urn:btih:0000000000000000000000000000000000000000"}); ok {
		t.Fatal("an entry without a btpk link was read")
	}
}

// TestDamagedFollows: a follows.json that is not JSON is reported as a
// Problem and the engine runs on.
func TestDamagedFollows(t *testing.T) {
	state := t.TempDir()
	if err := os.WriteFile(filepath.Join(state, "follows.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := testEngine(t, Config{StateDir: state, KeepList: true, NoDHT: true})
	waitPubEvent(t, e, 10*time.Second, func(p Problem) bool { return p.Err != nil && strings.Contains(p.Err.Error(), "followed publications") })
	if s := <-e.Snapshots(); len(s.Publications) != 0 {
		t.Fatalf("publications from a damaged file: %+v", s.Publications)
	}
}

// FuzzParseFollows: a damaged follows.json never panics the restore.
func FuzzParseFollows(f *testing.F) {
	b, _ := json.Marshal([]followEntry{{Link: "magnet:?xs=urn:btpk:" + "ab" + "00000000000000000000000000000000000000000000000000000000000000", Seq: 1,
		InfoHash: "0123456789abcdef0123456789abcdef01234567", Value: []byte("d2:ih20:aaaaaaaaaaaaaaaaaaaae"), Sig: make([]byte, 64)}})
	f.Add(b)
	f.Add([]byte(`[{"seq": -5}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		list, err := parseFollows(data, nil)
		if err != nil {
			return
		}
		for _, fe := range list {
			followOf(fe)
		}
	})
}

// TestRestartEndsOverlap: a previous version still seeding when the
// engine stopped (follows.json's prev_info_hash) is removed from the
// list at the next start, its files kept, and follows.json forgets it.
func TestRestartEndsOverlap(t *testing.T) {
	cfg := Config{StateDir: t.TempDir(), KeepList: true, NoDHT: true}
	root := filepath.Join(t.TempDir(), "v1")
	testpeers.RandomFile(t, filepath.Join(root, "a.bin"), 40_000, 1)
	e1, err := New(withTesting(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	stop := runEngine(t, e1)
	old := waitCreated(t, e1, e1.Create(CreateRequest{Paths: []string{root}}), 30*time.Second)
	waitState(t, e1, old.InfoHash, StateSeeding, 30*time.Second)
	stop()

	_, key, _ := ed25519.GenerateKey(nil)
	salt := []byte("v")
	link := publish.Link(key, salt, "v1")
	it, err := krpc.SignItem(key, salt, 2, krpc.InfoHashValue([20]byte{9}))
	if err != nil {
		t.Fatal(err)
	}
	entry := followEntry{Link: link.String(), Dir: t.TempDir(), Seq: 2, InfoHash: "09" + strings.Repeat("0", 38),
		Value: it.V, Sig: it.Sig[:], PrevInfoHash: old.InfoHash}
	data, _ := json.Marshal([]followEntry{entry})
	if err := os.WriteFile(filepath.Join(cfg.StateDir, "follows.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}

	e2, err := New(withTesting(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	runEngine(t, e2)
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := <-e2.Snapshots()
		_, listed := findStatus(s, old.InfoHash)
		saved, _ := os.ReadFile(filepath.Join(cfg.StateDir, "follows.json"))
		if !listed && len(s.Publications) == 1 && !strings.Contains(string(saved), "prev_info_hash") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the restart: previous version listed %v, %d publications, follows.json %s", listed, len(s.Publications), saved)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "a.bin")); err != nil {
		t.Fatalf("the previous version's file: %v", err)
	}
}
