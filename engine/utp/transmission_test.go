package utp

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/peerwire"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestDownloadFromTransmission: Transmission 3.00 (libutp) seeds in a
// network namespace (it ignores loopback peers) and our Dial downloads
// everything from it over uTP.
func TestDownloadFromTransmission(t *testing.T) {
	torrent, dir, data, mi := makeTorrent(t, 2<<20, 4)
	raw, err := os.ReadFile(torrent)
	if err != nil {
		t.Fatal(err)
	}
	ns := testpeers.NewNetns(t, "utp")
	s, _, _ := startUDP(t, ns.HostIP+":0", Config{}, nil)

	seeder := testpeers.StartTransmission(t, ns, dir, map[string]any{"utp-enabled": true})
	seeder.Add(t, raw, mi.InfoHash.String())
	seeder.WaitSeeding(t, mi.InfoHash.String(), 30*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	c, err := s.Dial(ctx, netip.MustParseAddrPort(seeder.Addr()))
	cancel()
	if err != nil {
		t.Fatalf("dialing Transmission over uTP: %v", err)
	}
	got, err := fetchAll(c, mi, 60*time.Second)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("from Transmission: %v, differs at %d (%+v)", err, firstDiff(got, data), c.Stats())
	}
	t.Logf("from Transmission: %+v", c.Stats())
	c.Close()
}

// TestTransmissionDialsUs: Transmission downloads. We dial it, say we
// have every piece and hang up; knowing us from that handshake,
// Transmission comes back with a uTP connection request of its own (the
// only kind it sends to such peers: issue 16), which our socket accepts
// statelessly, and it downloads everything from us, byte-identical. (Our
// handshake must travel alone in its packet: see firstPacket.)
func TestTransmissionDialsUs(t *testing.T) {
	torrent, _, data, mi := makeTorrent(t, 2<<20, 5)
	raw, err := os.ReadFile(torrent)
	if err != nil {
		t.Fatal(err)
	}
	ns := testpeers.NewNetns(t, "utq")
	s, _, _ := startUDP(t, ns.HostIP+":0", Config{}, nil)
	out := t.TempDir()
	tr := testpeers.StartTransmission(t, ns, out, map[string]any{"utp-enabled": true})
	tr.Add(t, raw, mi.InfoHash.String())
	waitFor(t, "Transmission to check the empty download", 30*time.Second, func() bool {
		st, err := tr.Torrent(mi.InfoHash.String())
		return err == nil && st.Status == 4 // downloading
	})

	// Introduce ourselves: handshake, every piece, goodbye.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	c, err := s.Dial(ctx, netip.MustParseAddrPort(tr.Addr()))
	cancel()
	if err != nil {
		t.Fatalf("dialing Transmission over uTP: %v", err)
	}
	hello := peerwire.AppendHandshake(nil, peerwire.NewHandshake(mi.InfoHash, testPeerID))
	n := mi.Info.NumPieces()
	bits := bytes.Repeat([]byte{0xff}, (n+7)/8)
	if n%8 != 0 {
		bits[len(bits)-1] = byte(0xff << (8 - n%8))
	}
	hello = peerwire.AppendMessage(hello, peerwire.Message{ID: peerwire.Bitfield, Bitfield: bits})
	c.Write(hello)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := peerwire.ReadHandshake(c); err != nil {
		t.Fatalf("Transmission's handshake: %v", err)
	}
	c.Close()

	accepted := make(chan *Conn, 4)
	go func() {
		for {
			c, err := s.AcceptUTP()
			if err != nil {
				return
			}
			accepted <- c
			go func() {
				defer c.Close()
				n, err := seedAll(c, mi, data, 60*time.Second)
				t.Logf("to Transmission: %d bytes, %v", n, err)
			}()
		}
	}()
	select {
	case c := <-accepted:
		t.Logf("Transmission connected to us from %v", c.RemoteAddr())
	case <-time.After(60 * time.Second):
		t.Fatalf("Transmission never dialed us back; socket %+v", s.Stats())
	}
	tr.WaitDone(t, mi.InfoHash.String(), 60*time.Second)
	copied, err := os.ReadFile(filepath.Join(out, "content.bin"))
	if err != nil || !bytes.Equal(copied, data) {
		t.Fatalf("Transmission's copy: %v, differs at byte %d", err, firstDiff(copied, data))
	}
}
