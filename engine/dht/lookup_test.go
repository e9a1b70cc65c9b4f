package dht

import (
	"net/netip"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// TestLookupInFlight drives a lookup by hand (its queries go nowhere; the
// test hands it the answers) and checks how many queries it keeps in
// flight: pathAlpha while answers bring new closer nodes, alpha once one
// brings none, and never to a node with K closer ones answered or asked.
func TestLookupInFlight(t *testing.T) {
	mn := newMemNet()
	n, err := New(Config{Conn: mn.Listen(netip.MustParseAddrPort("10.0.0.1:6881")), QueryTimeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	target := randomID()
	node := func(i int, id ID) krpc.NodeInfo {
		return krpc.NodeInfo{ID: id, Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i), 1}), 6881)}
	}
	var start []krpc.NodeInfo
	for i := range 3 * K {
		start = append(start, node(i, randomID()))
	}
	l := n.newLookup(ipv4, target, krpc.MethodFindNode, nil, start, nil)
	inFlight := func() (out []*candidate) {
		for _, c := range l.cands {
			if c.state == waiting {
				out = append(out, c)
			}
		}
		return out
	}
	answer := func(c *candidate, nodes ...krpc.NodeInfo) {
		t.Helper()
		l.handle(result{from: c.Addr, msg: krpc.Msg{Y: krpc.KindResponse, R: krpc.Reply{ID: c.ID, Nodes: nodes}}})
	}

	if l.fill() {
		t.Fatal("done before any answer")
	}
	if w := inFlight(); len(w) != pathAlpha || w[0] != l.cands[0] || w[1] != l.cands[1] {
		t.Fatalf("%d queries in flight at the start, want %d to the closest nodes", len(w), pathAlpha)
	}

	// An answer naming a node closer than any that answered: still on the
	// way, pathAlpha in flight.
	closer := target
	closer[19] ^= 1
	answer(l.cands[0], node(200, closer))
	l.fill()
	if l.converged || len(inFlight()) != pathAlpha {
		t.Fatalf("after progress: converged %v, %d in flight; want false, %d", l.converged, len(inFlight()), pathAlpha)
	}
	if l.cands[0].ID != closer || l.cands[0].state != waiting {
		t.Fatalf("the new closest node was not asked")
	}

	// Its answer names nodes known already: the neighbourhood is reached,
	// alpha in flight.
	answer(l.cands[0], start[:K]...)
	l.fill()
	if !l.converged || len(inFlight()) != alpha {
		t.Fatalf("after no progress: converged %v, %d in flight; want true, %d", l.converged, len(inFlight()), alpha)
	}

	// Answers that name nobody new, until K nodes have answered or are
	// asked, and one more: the farther ones stay unasked (fewer than alpha
	// in flight), and the lookup waits.
	for len(inFlight()) == alpha {
		answer(inFlight()[0])
		l.fill()
	}
	ahead := 0
	for i, c := range l.cands {
		switch {
		case c.state == answered || c.state == waiting:
			if ahead >= K {
				t.Fatalf("candidate %d asked with %d closer ones answered or asked", i, ahead)
			}
			ahead++
		}
	}
	if ahead != K {
		t.Fatalf("%d candidates answered or asked, want %d", ahead, K)
	}
	if l.fill() {
		t.Fatal("done while queries to the K closest are in flight")
	}

	// One of them fails: the next closest takes its place.
	w := inFlight()
	l.handle(result{from: w[0].Addr, err: ErrTimeout})
	l.fill()
	if got := len(inFlight()); got != len(w) {
		t.Fatalf("after a failure %d in flight, want %d", got, len(w))
	}

	// All answer: the lookup is done with K nodes.
	for len(inFlight()) > 0 {
		answer(inFlight()[0])
		l.fill()
	}
	if !l.fill() || len(l.closest()) != K {
		t.Fatalf("done %v with %d closest, want true and %d", l.fill(), len(l.closest()), K)
	}
}
