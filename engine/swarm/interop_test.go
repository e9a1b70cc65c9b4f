package swarm

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestTransmissionReqq: Transmission announces reqq 512 and rejects a
// request that would make 512 pending with it; the reject arrives behind
// the data and holds up the piece by seconds. It happens when a whole
// queue goes out at once (a peer unchoking us after a choke whose rejects
// emptied our queue): the connection here starts that way, with a queue
// larger than the peer's reqq. We send reqq-1 and nothing is rejected;
// sending reqq, as before, got one rejected (seen here: 1 reject, and the
// 16 MiB took 22 s instead of 19 s).
func TestTransmissionReqq(t *testing.T) {
	src := t.TempDir()
	file := filepath.Join(src, "big.bin")
	testpeers.RandomFile(t, file, 16<<20, 11)
	_, data := testpeers.Mktorrent(t, file, 18)
	mi, err := metainfo.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	ns := testpeers.NewNetns(t, "swq")
	// Its upload limited, so that our requests wait with it and not in
	// socket buffers.
	tr := testpeers.StartTransmission(t, ns, src, map[string]any{"speed-limit-up-enabled": true, "speed-limit-up": 2000})
	tr.Add(t, data, mi.InfoHash.String())
	tr.WaitSeeding(t, mi.InfoHash.String(), 60*time.Second)

	content, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	n := startNode(t, mi, content, false, false, func(c *Config) {
		c.startQueue = maxQueue
		c.Timing.RequestQueueTime = 20 * time.Second // keep the queue at the limit
	})
	n.sw.AddPeers([]netip.AddrPort{netip.MustParseAddrPort(tr.Addr())}, SourceManual)
	start := time.Now()
	deadline := start.Add(90 * time.Second)
	for !n.sw.Complete() {
		if time.Now().After(deadline) {
			t.Fatalf("not complete after 90 s: %d of %d pieces", n.sw.Stats().PiecesHave, mi.Info.NumPieces())
		}
		time.Sleep(50 * time.Millisecond)
	}
	st := n.sw.Stats()
	t.Logf("16 MiB from Transmission in %v; %d requests rejected", time.Since(start).Round(10*time.Millisecond), st.Rejected)
	if st.Rejected != 0 {
		t.Fatalf("Transmission rejected %d of our requests", st.Rejected)
	}
	if !bytes.Equal(n.store.data, content) {
		t.Fatal("downloaded data differs")
	}
}
