package swarm

import (
	"net"
	"net/netip"
	"slices"
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
// unchoke among the others.
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

	s.done = true // seeding: by upload rate
	s.rechokeLocked(now.Add(time.Hour))
	if len(unchoked(s)) != 5 {
		t.Fatalf("seeding: %d unchoked after the first round, want 5", len(unchoked(s)))
	}
	s.rechokeLocked(now.Add(time.Hour + 10*time.Second))
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

// TestOptimisticTurns: the optimistic unchoke goes to peers we never
// unchoked, a new one each round while there are any (so that the last
// peers of a flash crowd are not left waiting 30 s); then it stays for
// 30 s and moves to whoever waited longest; a peer that connects later
// gets the next round's.
func TestOptimisticTurns(t *testing.T) {
	s := chokeSwarm(t, 10) // peers 7-10 give most: regular slots
	now := time.Now()
	round := 10 * time.Second
	seen := map[peerID]bool{}
	var order []peerID
	for r := range 6 {
		s.rechokeLocked(now.Add(time.Duration(r) * round))
		if s.optimist == 0 || s.optimist > 6 || seen[s.optimist] {
			t.Fatalf("round %d: optimist %d after %v; want a peer of 1-6 not unchoked before", r, s.optimist, order)
		}
		seen[s.optimist] = true
		order = append(order, s.optimist)
	}
	last := s.optimist
	for _, at := range []time.Duration{6 * round, 7 * round} {
		s.rechokeLocked(now.Add(at))
		if s.optimist != last {
			t.Fatalf("at %v the optimist moved from %d to %d before 30 s, with every peer unchoked once", at, last, s.optimist)
		}
	}
	s.rechokeLocked(now.Add(8 * round))
	if s.optimist != order[0] {
		t.Fatalf("after 30 s the optimist is %d; want %d, which waited longest (turns %v)", s.optimist, order[0], order)
	}

	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	late := s.newPeer(a, peerwire.Handshake{}, netip.MustParseAddrPort("10.0.0.99:6881"), false, SourceIncoming, s.pk.numPieces)
	late.id, late.peerInterest = 99, true
	s.peers[late.id] = late
	s.rechokeLocked(now.Add(8*round + time.Second))
	if !late.amChoking {
		t.Fatal("a late peer was unchoked within the round")
	}
	s.rechokeLocked(now.Add(9 * round))
	if late.amChoking || s.optimist != late.id {
		t.Fatalf("a late peer never unchoked did not get the next round's optimistic unchoke (optimist %d)", s.optimist)
	}
}

// TestRechokeEqualRates: among peers that give us the same (nothing, at
// the start), the regular slots go to those that waited longest, so
// they rotate instead of staying with the first connected.
func TestRechokeEqualRates(t *testing.T) {
	s := chokeSwarm(t, 8)
	for _, p := range s.peers {
		p.rateDown = 0
	}
	now := time.Now()
	s.rechokeLocked(now)
	first := unchoked(s)
	if len(first) != 5 {
		t.Fatalf("%d unchoked, want 5", len(first))
	}
	s.rechokeLocked(now.Add(10 * time.Second))
	second := unchoked(s)
	for id := range s.peers {
		if !first[id] && !second[id] {
			t.Fatalf("peer %d, choked in the first round, still choked in the second (first %v, second %v)", id, first, second)
		}
	}
}

// TestNewcomerTurn: between rounds, the optimistic unchoke moves every 3 s
// to a peer never unchoked, until each had a turn; the regular slots stay.
func TestNewcomerTurn(t *testing.T) {
	s := chokeSwarm(t, 10) // peers 7-10 give most: regular slots
	now := time.Now()
	s.rechokeLocked(now)
	turns := []peerID{s.optimist}
	s.newcomerTurnLocked(now.Add(time.Second))
	if s.optimist != turns[0] {
		t.Fatalf("the optimist moved after 1 s")
	}
	for k := 1; k <= 5; k++ {
		at := now.Add(time.Duration(3*k) * time.Second)
		s.newcomerTurnLocked(at)
		if slices.Contains(turns, s.optimist) || s.optimist == 0 || s.optimist > 6 {
			t.Fatalf("at %d s the optimist is %d after turns %v; want a newcomer among 1-6", 3*k, s.optimist, turns)
		}
		turns = append(turns, s.optimist)
		u := unchoked(s)
		if len(u) != 5 || !u[7] || !u[8] || !u[9] || !u[10] || !u[s.optimist] {
			t.Fatalf("at %d s unchoked %v; want 7-10 and the optimist %d", 3*k, u, s.optimist)
		}
	}
	s.newcomerTurnLocked(now.Add(18 * time.Second))
	if s.optimist != turns[5] {
		t.Fatalf("with no newcomer left the optimist moved before 30 s (%d, turns %v)", s.optimist, turns)
	}
}
