package swarm

import (
	"crypto/rand"
	"testing"
	"time"
)

// TestingTiming returns timeouts and intervals short enough for tests on
// loopback: a peer that stops answering, a redial or a PEX round takes
// tenths of a second, not minutes.
func TestingTiming() Timing {
	return Timing{
		HandshakeTimeout: 2 * time.Second,
		IdleTimeout:      10 * time.Second,
		KeepAliveEvery:   2 * time.Second,
		WriteTimeout:     5 * time.Second,
		RequestTimeout:   3 * time.Second,
		MetadataTimeout:  time.Second,
		PEXEvery:         200 * time.Millisecond,
		PEXMinIn:         100 * time.Millisecond,
		RechokeEvery:     time.Second,
		OptimisticEvery:  3 * time.Second,
		NewcomerTurn:     time.Second,
		RedialMin:        100 * time.Millisecond,
		RedialMax:        2 * time.Second,
		DialRetryMin:     200 * time.Millisecond,
		EvictAfter:       time.Second,
	}
}

// TestingConfig returns a hermetic Config for tests: a random peer ID,
// TestingTiming, and room for the many peers a test runs on one loopback
// address. The caller sets the torrent (InfoHash, Info or OnMetadata...)
// and anything else it needs; nothing here touches the network.
func TestingConfig(t testing.TB) Config {
	t.Helper()
	var id [20]byte
	copy(id[:], "-SW0000-")
	if _, err := rand.Read(id[8:]); err != nil {
		t.Fatal(err)
	}
	return Config{
		PeerID:        id,
		Timing:        TestingTiming(),
		MaxPeersPerIP: 64,
		Client:        "Swarmdrop test",
	}
}
