package main

import (
	"bytes"
	"math/rand/v2"
	"slices"

	"github.com/swarmdrop/swarmdrop/engine/dht"
	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// oracle computes the ideal Kademlia lookup that our lookups are compared
// with, from a snapshot of the IDs of the live reachable nodes:
//
//   - Every node has a perfect BEP 5 routing table: for each length d of
//     the prefix it shares with its own ID, K nodes drawn at random from
//     those sharing exactly d bits (all of them where there are fewer). No
//     table holds a departed or unreachable node, and no query is lost.
//   - The lookup asks one node at a time (alpha = 1): first the contact,
//     then always the closest node to the target it has heard of and not
//     asked yet; each answer gives the K closest nodes of the answerer's
//     table. It stops once the K closest live reachable nodes of the whole
//     network have all answered: they are the nodes that store the peers
//     and that a lookup must ask before it can announce.
//
// Its query count is therefore the greedy path to the target's
// neighbourhood plus the K closest nodes: the fewest queries of any
// Kademlia lookup that ends, as ours does, when the K closest nodes have
// answered.
type oracle struct {
	ids []krpc.ID // sorted
	rng *rand.Rand
}

// ideal is the oracle's lookup of one target.
type ideal struct {
	Queries   int // nodes asked, contact included
	PathHops  int // asks before the first of the K closest (its hop is PathHops+1)
	Completed bool
	Closest   []krpc.ID // the K closest live reachable nodes: those a lookup must reach
}

func newOracle(ids []krpc.ID, seed uint64) *oracle {
	ids = slices.Clone(ids)
	slices.SortFunc(ids, func(a, b krpc.ID) int { return bytes.Compare(a[:], b[:]) })
	return &oracle{ids: slices.Compact(ids), rng: rand.New(rand.NewPCG(seed, 42))}
}

// subtree returns the range of IDs sharing the first bits bits with id.
func (o *oracle) subtree(id krpc.ID, bits int) (lo, hi int) {
	low, high := id, id
	for i := bits; i < 160; i++ {
		setBit(&low, i, false)
		setBit(&high, i, true)
	}
	lo, _ = slices.BinarySearchFunc(o.ids, low, func(a, b krpc.ID) int { return bytes.Compare(a[:], b[:]) })
	hi, found := slices.BinarySearchFunc(o.ids, high, func(a, b krpc.ID) int { return bytes.Compare(a[:], b[:]) })
	if found {
		hi++
	}
	return lo, hi
}

// table returns a perfect routing table of self (self excluded).
func (o *oracle) table(self krpc.ID) []krpc.ID {
	var out []krpc.ID
	for d := range 160 {
		sibling := self
		setBit(&sibling, d, !bit(self, d))
		lo, hi := o.subtree(sibling, d+1)
		if n := hi - lo; n <= dht.K {
			out = append(out, o.ids[lo:hi]...)
		} else {
			picked := make([]int, 0, dht.K)
			for len(picked) < dht.K {
				if i := o.rng.IntN(n); !slices.Contains(picked, i) {
					picked = append(picked, i)
					out = append(out, o.ids[lo+i])
				}
			}
		}
		lo, hi = o.subtree(self, d+1)
		if hi-lo == 0 || hi-lo == 1 && o.ids[lo] == self {
			break // nobody else shares d+1 bits with self
		}
	}
	return out
}

// closest returns the k IDs of ids closest to target.
func closest(ids []krpc.ID, target krpc.ID, k int) []krpc.ID {
	ids = slices.Clone(ids)
	slices.SortFunc(ids, func(a, b krpc.ID) int { return distanceCmp(a, b, target) })
	return ids[:min(k, len(ids))]
}

// lookup runs the ideal lookup of target. With fromContact, the looking
// node knows only start, which it must ask; otherwise start is the
// looking node itself, and it begins from its own perfect table without a
// query.
func (o *oracle) lookup(start, target krpc.ID, fromContact bool) ideal {
	want := closest(o.ids, target, dht.K)
	pending := map[krpc.ID]bool{}
	for _, id := range want {
		pending[id] = true
	}
	asked := map[krpc.ID]bool{}
	known := map[krpc.ID]bool{}
	res := ideal{Closest: want}
	learn := func(from krpc.ID) {
		for _, id := range closest(o.table(from), target, dht.K) {
			known[id] = true
		}
	}
	ask := func(id krpc.ID) {
		asked[id] = true
		res.Queries++
		if pending[id] {
			if len(pending) == dht.K {
				res.PathHops = res.Queries - 1
			}
			delete(pending, id)
		}
		learn(id)
	}
	if fromContact {
		ask(start)
	} else {
		learn(start)
	}
	for len(pending) > 0 && res.Queries < 1000 {
		var next krpc.ID
		found := false
		for id := range known {
			if !asked[id] && (!found || distanceCmp(id, next, target) < 0) {
				next, found = id, true
			}
		}
		if !found {
			return res
		}
		ask(next)
	}
	res.Completed = len(pending) == 0
	return res
}

func bit(id krpc.ID, i int) bool { return id[i/8]&(0x80>>(i%8)) != 0 }

func setBit(id *krpc.ID, i int, v bool) {
	if v {
		id[i/8] |= 0x80 >> (i % 8)
	} else {
		id[i/8] &^= 0x80 >> (i % 8)
	}
}

// distanceCmp compares the XOR distances of a and b to target.
func distanceCmp(a, b, target krpc.ID) int {
	for i := range target {
		if da, db := a[i]^target[i], b[i]^target[i]; da != db {
			if da < db {
				return -1
			}
			return 1
		}
	}
	return 0
}
