package engine

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/publish"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestAddFilesToPublication: files dropped on a publication
// (publish.CopyInto into its folder, then Publish of it again, as the
// window does) make its next version, which a follower with only the
// link (through a libtorrent DHT node) downloads by itself, fetching the
// added files and nothing of those it had.
func TestAddFilesToPublication(t *testing.T) {
	router := startLTNode(t, "127.0.0.63")
	root := filepath.Join(t.TempDir(), "photos")
	testpeers.RandomFile(t, filepath.Join(root, "a.bin"), 300_000, 1)
	testpeers.RandomFile(t, filepath.Join(root, "b.bin"), 100_000, 2)
	pf := publishAndFollow(t, router, root, 0)
	pub, fol, p1, id := pf.pub, pf.fol, pf.v1, pf.id

	drop := t.TempDir()
	testpeers.RandomFile(t, filepath.Join(drop, "c.bin"), 120_000, 3)
	testpeers.RandomFile(t, filepath.Join(drop, "more", "d.bin"), 80_000, 4)
	if err := publish.CopyInto(root, []string{filepath.Join(drop, "c.bin"), filepath.Join(drop, "more")}, false); err != nil {
		t.Fatal(err)
	}
	req := pub.Publish(PublishRequest{Path: root, Nodes: router})
	p2 := waitPubEvent(t, pub, 60*time.Second, func(p Published) bool { return p.Request == req })
	if p2.Version != 2 || p2.Link != p1.Link {
		t.Fatalf("after the drop: %+v", p2)
	}
	u := waitPubEvent(t, fol, 60*time.Second, func(u Updated) bool { return u.Publication == id && u.Version == 2 })
	ts := waitState(t, fol, u.InfoHash, StateSeeding, 120*time.Second)
	sameTree(t, root, filepath.Join(pf.folDir, "photos"))
	added := int64(120_000 + 80_000)
	pl := ts.PieceLength
	most := (120_000+pl-1)/pl*pl + (80_000+pl-1)/pl*pl
	t.Logf("version 2 fetched %d bytes for %d bytes added (%d in their pieces of %d)", ts.Downloaded, added, most, pl)
	if ts.Downloaded < added || ts.Downloaded > most {
		t.Fatalf("version 2 fetched %d bytes, want the added files' pieces only (%d to %d)", ts.Downloaded, added, most)
	}
}
