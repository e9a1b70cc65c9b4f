package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// Bounds of each phase's requests.
const (
	announceTimeout = 60 * time.Second
	lookupTimeout   = 60 * time.Second // GetPeers gives up after this
	bootWait        = 30 * time.Second // a probe's bootstrap, before its warm lookup
)

// swarm is an info hash and the peers announced for it.
type swarm struct {
	infoHash krpc.ID
	peers    []netip.AddrPort
}

// announce makes count info hashes, each announced by per random joined
// reachable nodes (on TCP port 7000+i), a few at a time. It returns the
// info hashes with the peers whose announce some node accepted.
func announce(ctx context.Context, w *world, count, per, parallel int) ([]swarm, error) {
	out := make([]swarm, count)
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed int
	var lastErr error
	for i := range out {
		rand.Read(out[i].infoHash[:])
		for j := range per {
			s := w.pick(func(s *simNode) bool { return !s.seed && !s.probe && !s.host.natted && joined(s.node) })
			if s == nil {
				return nil, errors.New("no joined reachable node to announce from")
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			port := 7000 + i*per + j
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				actx, cancel := context.WithTimeout(ctx, announceTimeout)
				defer cancel()
				err := s.node.GetPeers(actx, out[i].infoHash, port, nil)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failed++
					lastErr = err
					return
				}
				out[i].peers = append(out[i].peers, netip.AddrPortFrom(s.addr().Addr(), uint16(port)))
			}()
		}
	}
	wg.Wait()
	if failed > 0 {
		fmt.Printf("  %d of %d announces failed (last: %v)\n", failed, count*per, lastErr)
	}
	return out, ctx.Err()
}

// lookupResult is one measured lookup.
type lookupResult struct {
	Warm      bool          // from a probe that had bootstrapped, not from a fresh one
	Announced bool          // the info hash had announced peers
	Found     bool          // an announced peer was found
	FirstPeer time.Duration // time to the first announced peer; 0 if none
	Done      time.Duration // time until GetPeers returned
	Err       error
	Trace     trace // the get_peers queries on the wire
	FindNodes int   // find_node queries the probe sent meanwhile (its bootstrap)
	Ideal     ideal
	TableGood int // good nodes in the probe's table when the lookup started
}

// reached returns how many of the K closest live reachable nodes (the
// oracle's) answered the lookup: a lookup that stops early sends fewer
// queries, but misses some of them.
func (r lookupResult) reached() int {
	n := 0
	for _, id := range r.Ideal.Closest {
		if slices.Contains(r.Trace.answerers, id) {
			n++
		}
	}
	return n
}

// probe starts a fresh node that knows one contact and looks up a first
// info hash at once (cold); once it has bootstrapped, it looks up a
// second one (warm), then leaves.
func probe(ctx context.Context, w *world, seed uint64, cold, warm swarm) ([]lookupResult, error) {
	contact := w.pick(func(s *simNode) bool {
		return !s.seed && !s.probe && !s.host.natted && joined(s.node)
	})
	if contact == nil {
		return nil, errors.New("no contact for a probe")
	}
	// The oracle's view of the network when the lookup starts.
	orc := newOracle(reachableIDs(w), seed)
	obs := newObserver(contact.addr())
	s, err := w.start(nodeSpec{probe: true, bootstrap: []string{contact.addr().String()}, watch: obs})
	if err != nil {
		return nil, err
	}
	defer func() {
		w.stop(s)
		<-s.done
	}()
	res := []lookupResult{lookupOnce(ctx, s, obs, cold)}
	res[0].Ideal = orc.lookup(contact.node.ID(), cold.infoHash, true)

	if !waitFor(ctx, bootWait, func() bool { return joined(s.node) }) {
		return res, nil // counted as missing warm lookups
	}
	orc = newOracle(reachableIDs(w), seed+1)
	r := lookupOnce(ctx, s, obs, warm)
	r.Warm = true
	r.Ideal = orc.lookup(s.node.ID(), warm.infoHash, false)
	return append(res, r), nil
}

// lookupOnce runs GetPeers on the probe s for sw and measures it.
func lookupOnce(ctx context.Context, s *simNode, obs *observer, sw swarm) lookupResult {
	r := lookupResult{Announced: len(sw.peers) > 0, TableGood: s.node.Stats().Good}
	before := obs.Methods()[krpc.MethodFindNode]
	lctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	start := time.Now()
	r.Err = s.node.GetPeers(lctx, sw.infoHash, 0, func(peers []netip.AddrPort) {
		if r.Found {
			return
		}
		for _, p := range peers {
			if slices.Contains(sw.peers, p) {
				r.Found, r.FirstPeer = true, time.Since(start)
				return
			}
		}
	})
	r.Done = time.Since(start)
	r.FindNodes = obs.Methods()[krpc.MethodFindNode] - before
	r.Trace = obs.Trace(sw.infoHash)
	return r
}

// reachableIDs returns the IDs of the live nodes that others can reach
// (probes aside).
func reachableIDs(w *world) []krpc.ID {
	var ids []krpc.ID
	for _, s := range w.liveNodes() {
		if !s.probe && !s.host.natted {
			ids = append(ids, s.node.ID())
		}
	}
	return ids
}

// measure runs count probes, parallel at a time, each with a cold and a
// warm lookup; a share announced of the lookups are for announced info
// hashes (taken in turn from swarms), the others for random ones. No probe
// starts once over reports true (cut is then set).
func measure(ctx context.Context, over func() bool, w *world, count, parallel int, announcedShare float64, swarms []swarm, seed uint64,
	progress func(done int)) (results []lookupResult, cut bool, err error) {
	rng := mrand.New(mrand.NewPCG(seed, 7))
	next := 0
	target := func() swarm {
		if rng.Float64() < announcedShare && len(swarms) > 0 {
			sw := swarms[next%len(swarms)]
			next++
			return sw
		}
		var sw swarm
		rand.Read(sw.infoHash[:])
		return sw
	}
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	done := 0
	for i := range count {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		if over() {
			<-sem
			cut = true
			break
		}
		cold, warm := target(), target()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			res, err := probe(ctx, w, seed+uint64(2*i), cold, warm)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			results = append(results, res...)
			done++
			if progress != nil && done%max(1, count/10) == 0 {
				progress(done)
			}
		}()
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return results, cut, firstErr
}
