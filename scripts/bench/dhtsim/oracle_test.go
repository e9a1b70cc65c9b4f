package main

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/swarmdrop/swarmdrop/engine/dht"
	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

func randomIDs(rng *rand.Rand, n int) []krpc.ID {
	ids := make([]krpc.ID, n)
	for i := range ids {
		for j := range ids[i] {
			ids[i][j] = byte(rng.Uint32())
		}
	}
	return ids
}

// TestSubtree compares the oracle's prefix ranges with a plain count.
func TestSubtree(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	o := newOracle(randomIDs(rng, 500), 1)
	for _, bits := range []int{0, 1, 3, 8, 12, 160} {
		for _, id := range o.ids[:20] {
			lo, hi := o.subtree(id, bits)
			want := 0
			for _, x := range o.ids {
				if commonBits(x, id) >= bits {
					want++
				}
			}
			if hi-lo != want {
				t.Errorf("%d bits of %x: range holds %d, want %d", bits, id[:3], hi-lo, want)
			}
		}
	}
}

func commonBits(a, b krpc.ID) int {
	for i := range 160 {
		if bit(a, i) != bit(b, i) {
			return i
		}
	}
	return 160
}

// TestOracleTable checks a perfect table: K nodes (or all) per prefix
// length, never the node itself, and every node of the network sharing a
// long prefix (a small subtree) is in it.
func TestOracleTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	o := newOracle(randomIDs(rng, 2000), 1)
	self := o.ids[100]
	table := o.table(self)
	perLen := map[int]int{}
	for _, id := range table {
		if id == self {
			t.Fatal("the table holds its own node")
		}
		perLen[commonBits(id, self)]++
	}
	for d, n := range perLen {
		if n > dht.K {
			t.Errorf("%d nodes share %d bits, more than K", n, d)
		}
	}
	for _, id := range o.ids {
		if id == self {
			continue
		}
		// The nodes sharing exactly d bits with self: all in the table
		// when they are at most K.
		d := commonBits(id, self)
		sibling := self
		setBit(&sibling, d, !bit(self, d))
		if lo, hi := o.subtree(sibling, d+1); hi-lo <= dht.K && !slices.Contains(table, id) {
			t.Errorf("%x is one of %d nodes sharing %d bits with self but not in the table", id[:3], hi-lo, d)
		}
	}
}

// TestOracleLookup checks the ideal lookup: it asks the K closest nodes of
// the network and few others; in a network of K nodes it asks them all.
func TestOracleLookup(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	o := newOracle(randomIDs(rng, 5000), 1)
	for range 20 {
		target := randomIDs(rng, 1)[0]
		start := o.ids[rng.IntN(len(o.ids))]
		got := o.lookup(start, target, true)
		if !got.Completed || got.Queries < dht.K || got.Queries > dht.K+20 {
			t.Errorf("lookup of %x: %+v, want completed with %d to %d queries", target[:3], got, dht.K, dht.K+20)
		}
		if got.PathHops < 1 || got.PathHops > got.Queries-dht.K {
			t.Errorf("lookup of %x: path of %d hops for %d queries", target[:3], got.PathHops, got.Queries)
		}
	}
	small := newOracle(randomIDs(rng, dht.K), 1)
	if got := small.lookup(small.ids[0], randomIDs(rng, 1)[0], true); !got.Completed || got.Queries != dht.K {
		t.Errorf("in a network of K nodes: %+v, want every node asked once", got)
	}
}

// TestIdentity checks the state file the nodes start from: dht loads its
// ID (valid for the address by BEP 42, which dht checks by keeping it: a
// node whose saved ID does not fit its saved address takes a new one once
// it learns its address) and reads it as a saved table.
func TestIdentity(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	dir := t.TempDir()
	a := netip.MustParseAddrPort("81.2.69.160:6881")
	id := secureID(a.Addr(), rng)
	path, err := writeIdentity(dir, a, id)
	if err != nil {
		t.Fatal(err)
	}
	sn := newSimNet(testConfig())
	h := sn.Attach(a, false, rng)
	defer h.Close()
	node, err := dht.New(dht.Config{Conn: h, StateFile: path})
	if err != nil {
		t.Fatal(err)
	}
	if got := node.ID(); got != id {
		t.Fatalf("the node took ID %x, not %x from its state file", got, id)
	}
	// The node keeps the ID when told its address: it is valid for it.
	node.SetExternalIP(a.Addr())
	if got := node.ID(); got != id {
		t.Errorf("SetExternalIP changed the ID from %x to %x: not a valid BEP 42 ID", id, got)
	}
	// BEP 42's example: 124.31.75.21 with r = 1 gives IDs starting with
	// the 21 bits of 5fbfbf.
	var ex krpc.ID
	for range 1000 {
		if ex = secureID(netip.MustParseAddr("124.31.75.21"), rng); ex[19]&7 == 1 {
			break
		}
	}
	if ex[19]&7 != 1 || !bytes.Equal(ex[:2], []byte{0x5f, 0xbf}) || ex[2]&0xf8 != 0xb8 {
		t.Errorf("BEP 42 example: ID %x...%x, want 5fbfb8 to 5fbfbf at the start and r = 1", ex[:3], ex[19])
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 || filepath.Join(dir, entries[0].Name()) != path {
		t.Errorf("state folder holds %v, want only %s", entries, path)
	}
}
