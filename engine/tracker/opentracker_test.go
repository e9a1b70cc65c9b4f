package tracker

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// startOpentracker runs opentracker on 127.0.0.1, TCP and UDP on the same
// free port, serving only the given info hashes; it returns the port.
func startOpentracker(t *testing.T, hashes ...metainfo.Hash) int {
	t.Helper()
	hex := make([]string, len(hashes))
	for i, h := range hashes {
		hex[i] = h.String()
	}
	return testpeers.StartOpentracker(t, hex...)
}

func hashOf(s string) (h metainfo.Hash) {
	copy(h[:], s)
	return h
}

func TestOpentrackerTwoPeersMeet(t *testing.T) {
	// Bytes that need percent-encoding, and one that is '%' itself.
	httpHash := hashOf("http\x00\xff%&= torrent-hash")
	udpHash := hashOf("udp\x00\xfe%&= torrent-hash!")
	port := startOpentracker(t, httpHash, udpHash)
	for _, tc := range []struct {
		name, url string
		ih        metainfo.Hash
	}{
		{"http", fmt.Sprintf("http://127.0.0.1:%d/announce", port), httpHash},
		{"udp", fmt.Sprintf("udp://127.0.0.1:%d/announce", port), udpHash},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cfg := ClientConfig{Logf: t.Logf, UDPTimeout: 500 * time.Millisecond}
			seeder, leecher := NewClient(cfg), NewClient(cfg)
			_, err := seeder.Announce(ctx, tc.url, Request{
				InfoHash: tc.ih, PeerID: hashOf("-SD0001-seeder......"),
				Port: 40001, Left: 0, Uploaded: 5, Event: Started, NumWant: 50, Key: 1,
			})
			if err != nil {
				t.Fatalf("seeder announce: %v", err)
			}
			resp, err := leecher.Announce(ctx, tc.url, Request{
				InfoHash: tc.ih, PeerID: hashOf("-SD0001-leecher....."),
				Port: 40002, Left: 1000, Event: Started, NumWant: 50, Key: 2,
			})
			if err != nil {
				t.Fatalf("leecher announce: %v", err)
			}
			want := netip.MustParseAddrPort("127.0.0.1:40001")
			if !slices.Contains(resp.Peers, want) {
				t.Errorf("leecher got peers %v, want %v among them", resp.Peers, want)
			}
			if resp.Interval <= 0 {
				t.Errorf("interval %v", resp.Interval)
			}
			if resp.Seeders != 1 || resp.Leechers != 1 {
				t.Errorf("seeders %d leechers %d, want 1 and 1", resp.Seeders, resp.Leechers)
			}
			// A second announce reuses the UDP connection ID; both work.
			if _, err := leecher.Announce(ctx, tc.url, Request{InfoHash: tc.ih, PeerID: hashOf("-SD0001-leecher....."), Port: 40002, Left: 0, Event: Completed}); err != nil {
				t.Fatalf("completed announce: %v", err)
			}
			resp, err = leecher.Announce(ctx, tc.url, Request{InfoHash: tc.ih, PeerID: hashOf("-SD0001-leecher....."), Port: 40002, Event: None})
			if err != nil {
				t.Fatalf("third announce: %v", err)
			}
			if resp.Seeders != 2 || resp.Leechers != 0 {
				t.Errorf("after completed: seeders %d leechers %d, want 2 and 0", resp.Seeders, resp.Leechers)
			}
			if _, err := seeder.Announce(ctx, tc.url, Request{InfoHash: tc.ih, PeerID: hashOf("-SD0001-seeder......"), Port: 40001, Event: Stopped}); err != nil {
				t.Fatalf("stopped announce: %v", err)
			}
			resp, err = leecher.Announce(ctx, tc.url, Request{InfoHash: tc.ih, PeerID: hashOf("-SD0001-leecher....."), Port: 40002})
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(resp.Peers, want) {
				t.Errorf("stopped seeder still listed: %v", resp.Peers)
			}
		})
	}
}

func TestOpentrackerRefusesUnlistedHash(t *testing.T) {
	port := startOpentracker(t, hashOf("listed"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := NewClient(ClientConfig{Logf: t.Logf, UDPTimeout: 300 * time.Millisecond, UDPAttempts: 2})
	_, err := c.Announce(ctx, fmt.Sprintf("http://127.0.0.1:%d/announce", port), Request{InfoHash: hashOf("unlisted"), PeerID: hashOf("p"), Port: 1234})
	var fe *FailureError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v, want a FailureError", err)
	}
	t.Logf("opentracker says: %v", err)
}
