package swarm

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/bitfield"
	"github.com/swarmdrop/swarmdrop/engine/peerwire"
)

// chokeSwarm returns a swarm (not running) with n interested peers whose
// download rates are 1..n and upload rates n..1.
func chokeSwarm(t *testing.T, n int) *Swarm {
	t.Helper()
	content, mi := testTorrent(t, 64<<10, 16<<10)
	st := &memStorage{data: content, pl: mi.Info.PieceLength}
	cfg := TestingConfig(t)
	cfg.Timing = DefaultTiming() // the test steps through the default intervals
	cfg.InfoHash, cfg.Info, cfg.InfoBytes, cfg.Storage = mi.InfoHash, &mi.Info, mi.InfoBytes, st
	cfg.Have = bitfield.New(mi.Info.NumPieces())
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		a, b := net.Pipe()
		t.Cleanup(func() { a.Close(); b.Close() })
		p := s.newPeer(a, peerwire.Handshake{}, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), 6881), false, SourceIncoming, mi.Info.NumPieces())
		p.id, p.peerInterest, p.rateDown, p.rateUp = peerID(i), true, float64(i), float64(n+1-i)
		s.peers[p.id] = p
	}
	return s
}

func unchoked(s *Swarm) map[peerID]bool {
	out := map[peerID]bool{}
	for id, p := range s.peers {
		if !p.amChoking {
			out[id] = true
		}
	}
	return out
}

// TestRechoke: the 4 peers that give us most are unchoked while we
// download, the 4 that take most while we seed, plus one optimistic
// unchoke among the others that rotates after 30 s.
func TestRechoke(t *testing.T) {
	s := chokeSwarm(t, 10)
	now := time.Now()
	s.rechokeLocked(now)
	u := unchoked(s)
	for _, id := range []peerID{7, 8, 9, 10} {
		if !u[id] {
			t.Fatalf("downloading: fast peer %d choked (unchoked %v)", id, u)
		}
	}
	if len(u) != 5 || s.optimist == 0 || s.optimist > 6 {
		t.Fatalf("downloading: unchoked %v, optimist %d; want the 4 fastest and one optimistic other", u, s.optimist)
	}
	first := s.optimist
	// Within 30 s the optimistic unchoke stays; after, it moves on
	// (possibly to the same peer by chance: try a few rounds).
	s.rechokeLocked(now.Add(10 * time.Second))
	if s.optimist != first {
		t.Fatalf("optimistic unchoke moved after 10 s")
	}
	moved := false
	for r := 1; r <= 20 && !moved; r++ {
		s.rechokeLocked(now.Add(time.Duration(30*r) * time.Second))
		moved = s.optimist != first
	}
	if !moved {
		t.Fatal("optimistic unchoke never rotated")
	}

	s.done = true // seeding: by upload rate
	s.rechokeLocked(now.Add(time.Hour))
	u = unchoked(s)
	for _, id := range []peerID{1, 2, 3, 4} {
		if !u[id] {
			t.Fatalf("seeding: peer %d that takes most is choked (unchoked %v)", id, u)
		}
	}
	if len(u) != 5 {
		t.Fatalf("seeding: %d unchoked, want 5", len(u))
	}
	// A peer that loses interest is choked at the next round.
	s.peers[1].peerInterest = false
	s.rechokeLocked(now.Add(2 * time.Hour))
	if !s.peers[1].amChoking {
		t.Fatal("an uninterested peer kept its slot")
	}
}
