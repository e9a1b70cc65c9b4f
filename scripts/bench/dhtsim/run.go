package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"time"
)

// report is what a run measured.
type report struct {
	build, settle, announce, measure time.Duration
	buildCut, measureCut             bool // the phase ran out of time
	simulated, wall                  time.Duration
	live, natted, joins, leaves      int
	swarms, announcedPeers           int
	results                          []lookupResult

	// During the measurement:
	sent            uint64
	drops           [causes]uint64
	late, waiting   [2]time.Duration // p50, p99
	rtt             [3]time.Duration // p10, p50, p90 of the round trip between two random nodes
	heapMiB, sysMiB uint64
	goroutines      int
	// Over the live nodes' lives (dht.Stats): queries they dropped.
	rateLimited, unanswered uint64
	serveErrs               []error
}

// run builds the network, lets it settle, announces and measures.
func run(ctx context.Context, p params, log io.Writer) (*report, error) {
	rep := &report{}
	sn := newSimNet(netConfig{
		Delay: p.Delay, Loss: p.Loss, NATTimeout: p.NATTimeout,
		InboxLen: p.InboxLen, UplinkLen: p.UplinkLen, NATLen: 1024, Shards: 4,
	})
	netCtx, stopNet := context.WithCancel(context.Background())
	var netDone sync.WaitGroup
	netDone.Add(1)
	go func() {
		defer netDone.Done()
		sn.Run(netCtx)
	}()
	nodesCtx, stopNodes := context.WithCancel(context.Background())
	w, err := newWorld(nodesCtx, p, sn)
	if err != nil {
		stopNodes()
		stopNet()
		netDone.Wait()
		return nil, err
	}
	churnCtx, stopChurn := context.WithCancel(ctx)
	var churnDone sync.WaitGroup
	defer func() {
		stopChurn()
		churnDone.Wait()
		rep.serveErrs = w.shutdown()
		stopNodes()
		stopNet()
		netDone.Wait()
	}()

	started, wallStarted := time.Now(), wallNow()
	say := func(format string, args ...any) {
		sent, _ := sn.Drops()
		fmt.Fprintf(log, "[%6.1fs, wall %6.1fs] %s (%d packets so far, delay line late p99 %v, goroutines waited to run p99 %v)\n",
			time.Since(started).Seconds(), wallNow().Sub(wallStarted).Seconds(), fmt.Sprintf(format, args...),
			sent, sn.late.quantile(0.99), schedLatency(0.99).Round(time.Microsecond))
	}
	say("building %d nodes from %d seeds, up to %d joining at once, churn from now on", p.Nodes, p.Seeds, p.JoinParallel)
	phase := time.Now()
	if err := w.startSeeds(); err != nil {
		return nil, err
	}
	churnDone.Add(1)
	go func() {
		defer churnDone.Done()
		w.churn(churnCtx)
	}()
	buildEnd := wallNow().Add(p.BuildTime)
	complete, err := w.build(ctx, p.Nodes-p.Seeds, func(n, j int) { say("joined %d, %d joining", n, j) },
		func() bool { return wallNow().After(buildEnd) })
	if err != nil {
		return nil, err
	}
	if !complete {
		rep.buildCut = true
		say("the build ran out of its %v: going on with the nodes that joined", p.BuildTime)
	}
	rep.build = time.Since(phase)
	builtJoins, builtLeaves, _ := w.counts()
	say("built; packets sent by kind: %s", kindLine(sn.Kinds()))

	phase = time.Now()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(p.Settle):
	}
	rep.settle = time.Since(phase)
	joins, leaves, live := w.counts()
	say("settled: %d live, %d left and %d joined since the build", live, leaves-builtLeaves, joins-builtJoins)

	phase = time.Now()
	swarms, err := announce(ctx, w, max(1, int(2*float64(p.Lookups)*p.AnnouncedShare)+1), p.Announcers, 32)
	if err != nil {
		return nil, fmt.Errorf("announcing: %w", err)
	}
	rep.announce = time.Since(phase)
	rep.swarms = len(swarms)
	for _, sw := range swarms {
		rep.announcedPeers += len(sw.peers)
	}
	say("announced %d info hashes", len(swarms))

	sn.late.reset()
	sn.waiting.reset()
	sent0, drops0 := sn.Drops()
	phase = time.Now()
	measureEnd := wallNow().Add(p.MeasureTime)
	var cut bool
	rep.results, cut, err = measure(ctx, func() bool { return wallNow().After(measureEnd) }, w, p.Lookups, p.Parallel, p.AnnouncedShare, swarms, p.Seed,
		func(n int) { say("probes done: %d of %d", n, p.Lookups) })
	if err != nil {
		return nil, fmt.Errorf("measuring: %w", err)
	}
	if cut {
		rep.measureCut = true
		say("the measurement ran out of its %v: %d lookups done", p.MeasureTime, len(rep.results))
	}
	rep.measure = time.Since(phase)
	sent1, drops1 := sn.Drops()
	rep.sent = sent1 - sent0
	for i := range drops1 {
		rep.drops[i] = drops1[i] - drops0[i]
	}
	rep.late = [2]time.Duration{sn.late.quantile(0.5), sn.late.quantile(0.99)}
	rep.waiting = [2]time.Duration{sn.waiting.quantile(0.5), sn.waiting.quantile(0.99)}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rep.heapMiB, rep.sysMiB = ms.HeapInuse>>20, ms.Sys>>20
	rep.goroutines = runtime.NumGoroutine()
	rep.joins, rep.leaves, rep.live = w.counts()
	nodes := w.liveNodes()
	for _, s := range nodes {
		if s.host.natted {
			rep.natted++
		}
		st := s.node.Stats()
		rep.rateLimited += st.RateLimited
		rep.unanswered += st.Unanswered
	}
	rep.rtt = pairRTTs(sn, nodes, p.Seed)
	rep.simulated, rep.wall = time.Since(started), wallNow().Sub(wallStarted)
	say("measured")
	return rep, nil
}

// pairRTTs returns the p10, p50 and p90 round trip between random pairs
// of nodes (jitter aside).
func pairRTTs(sn *simNet, nodes []*simNode, seed uint64) [3]time.Duration {
	if len(nodes) < 2 {
		return [3]time.Duration{}
	}
	rng := rand.New(rand.NewPCG(seed, 3))
	rtts := make([]time.Duration, 10000)
	for i := range rtts {
		a, b := nodes[rng.IntN(len(nodes))], nodes[rng.IntN(len(nodes))]
		rtts[i] = 2 * sn.oneWay(a.host, b.host)
	}
	slices.Sort(rtts)
	return [3]time.Duration{rtts[len(rtts)/10], rtts[len(rtts)/2], rtts[len(rtts)*9/10]}
}

func kindLine(k [kinds]uint64) string {
	s := ""
	for i, v := range k {
		if s != "" {
			s += ", "
		}
		s += fmt.Sprintf("%s %d", kindNames[i], v)
	}
	return s
}
