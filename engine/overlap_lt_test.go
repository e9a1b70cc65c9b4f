package engine

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// ltHealth is a HEALTH line of ltpeer.py download.
type ltHealth struct {
	pieces       string // 0 or 1 per piece
	failed, fail int64  // total_failed_bytes, hash_failed_alerts
}

func parseHealth(t *testing.T, l string) ltHealth {
	f := strings.Fields(l)
	if len(f) != 6 {
		t.Fatalf("bad line %q", l)
	}
	failed, err1 := strconv.ParseInt(f[3], 10, 64)
	fails, err2 := strconv.ParseInt(f[4], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("bad line %q", l)
	}
	return ltHealth{pieces: f[2], failed: failed, fail: fails}
}

// TestFollowerOverlapNoHashFails: while a follower downloads a new
// version over the old one's folder, the old version (still seeding)
// does not serve the pieces of the file being rewritten. A libtorrent
// peer, connected to the follower for the old version before the new one
// appears (so told the follower has every piece), and downloading slowly
// from it alone, sees no hash failure during the whole overlap, and still
// gets every piece of the unchanged file from the follower.
func TestFollowerOverlapNoHashFails(t *testing.T) {
	router := startLTNode(t, "127.0.0.64")
	root := filepath.Join(t.TempDir(), "set")
	testpeers.RandomFile(t, filepath.Join(root, "a.bin"), 400_000, 1)
	testpeers.RandomFile(t, filepath.Join(root, "c.bin"), 2_000_000, 2)
	// The publisher's upload is capped so that version 2's c.bin takes
	// ~13 s to reach the follower: the overlap.
	pf := publishAndFollow(t, router, root, 150_000)
	pub, fol, p1 := pf.pub, pf.fol, pf.v1
	mi, err := metainfo.Parse(p1.Torrent)
	if err != nil {
		t.Fatal(err)
	}
	var aPieces []int // the pieces of a.bin in version 1
	for _, f := range mi.Info.Files {
		if !f.Pad && f.Path[len(f.Path)-1] == "a.bin" {
			for p := f.Offset / mi.Info.PieceLength; p <= (f.Offset+f.Length-1)/mi.Info.PieceLength; p++ {
				aPieces = append(aPieces, int(p))
			}
		}
	}
	if len(aPieces) == 0 {
		t.Fatal("no a.bin in version 1")
	}

	// libtorrent fetches version 1 from the follower alone (no PEX: the
	// publisher does not have it either), slowly.
	tf := filepath.Join(t.TempDir(), "v1.torrent")
	writeFile(t, tf, p1.Torrent)
	lt := testpeers.StartLT(t, "download", tf, t.TempDir(), "--peer", fmt.Sprintf("127.0.0.1:%d", fol.testPort(t)),
		"--port", "0", "--ip", "127.0.0.65", "--no-pex", "--down-rate", "80000", "--health", "0.2", "--seconds", "120")
	lt.Wait(t, "FIRSTPIECE", 30*time.Second)
	health := make(chan ltHealth, 1024)
	go func() {
		defer close(health)
		for l := range lt.Lines {
			if strings.HasPrefix(l, "HEALTH ") {
				health <- parseHealth(t, l)
			}
		}
	}()
	var last ltHealth
	drain := func() {
		for {
			select {
			case h, ok := <-health:
				if !ok {
					return
				}
				if h.failed != 0 || h.fail != 0 {
					t.Fatalf("libtorrent saw hash failures: %d bytes failed, %d hash_failed alerts (pieces %s)", h.failed, h.fail, h.pieces)
				}
				last = h
			default:
				return
			}
		}
	}

	// Version 2 rewrites c.bin in place (same length); a.bin is unchanged.
	testpeers.RandomFile(t, filepath.Join(root, "c.bin"), 2_000_000, 3)
	drain()
	atPublish := last
	req := pub.Publish(PublishRequest{Path: root, Nodes: router})
	p2 := waitPubEvent(t, pub, 60*time.Second, func(p Published) bool { return p.Request == req })
	waitBoth(t, fol, p1.InfoHash, p2.InfoHash, 60*time.Second)
	waitState(t, fol, p2.InfoHash, StateSeeding, 120*time.Second)
	time.Sleep(500 * time.Millisecond)
	drain()
	got, before := 0, 0
	for _, p := range aPieces {
		if p < len(last.pieces) && last.pieces[p] == '1' {
			got++
		}
		if p < len(atPublish.pieces) && atPublish.pieces[p] == '1' {
			before++
		}
	}
	t.Logf("libtorrent: a.bin %d of %d pieces (%d before version 2), all pieces %d of %d, failed bytes %d",
		got, len(aPieces), before, strings.Count(last.pieces, "1"), mi.Info.NumPieces(), last.failed)
	if got != len(aPieces) || got == before {
		t.Fatalf("libtorrent has %d of a.bin's %d pieces after the overlap (%d before it): the unchanged file was not served", got, len(aPieces), before)
	}
}
