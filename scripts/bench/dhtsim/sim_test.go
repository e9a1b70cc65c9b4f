package main

import (
	"bytes"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
)

// dhtsimFlags, when set, makes TestSimulation run the benchmark with
// these flags (those of the program, e.g. -dhtsim="-nodes 1000") instead
// of its small network: `make bench-dhtsim` runs it so.
var dhtsimFlags = flag.String("dhtsim", "", "run the benchmark with these flags, in virtual time")

// TestSimulation runs the benchmark in a synctest bubble, where time is
// virtual: it advances only when every node waits, so the nodes' timers,
// the network's delays and the measured times are exact whatever the
// machine's load, and a run takes the CPU time it needs, not the time it
// simulates.
//
// By default it runs 200 nodes (with NATs and churn) and checks that the
// benchmark works: the network is built, every lookup completes, every
// lookup of an announced info hash finds an announced peer, the wire shows
// its queries, the oracle completes, and the report, the plot and the raw
// figures are written. No speed is asserted. With -dhtsim it runs the
// benchmark asked for and prints its report; lookups that fail there are
// findings, not test failures.
func TestSimulation(t *testing.T) {
	p, err := parseParams([]string{"-nodes", "200", "-seeds", "2", "-lookups", "8", "-parallel", "8", "-settle", "1s", "-out", t.TempDir()})
	if *dhtsimFlags != "" {
		p, err = parseParams(strings.Fields(*dhtsimFlags))
	}
	if err != nil {
		t.Fatal(err)
	}
	p.Virtual = true
	if *dhtsimFlags != "" {
		synctest.Test(t, func(t *testing.T) {
			if err := bench(t.Context(), p, os.Stdout); err != nil {
				t.Fatal(err)
			}
		})
		return
	}
	synctest.Test(t, func(t *testing.T) { checkSimulation(t, p) })
}

func checkSimulation(t *testing.T, p params) {
	var log bytes.Buffer
	rep, err := run(t.Context(), p, &log)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, log.String())
	}
	t.Logf("run:\n%s", log.String())
	if rep.buildCut || rep.measureCut {
		t.Errorf("a phase ran out of time (build %v, measurement %v)", rep.buildCut, rep.measureCut)
	}
	if rep.live < p.Nodes-5 || rep.natted == 0 {
		t.Errorf("%d live nodes, %d behind NATs; want about %d and some", rep.live, rep.natted, p.Nodes)
	}
	if rep.announcedPeers == 0 {
		t.Fatal("no announce was accepted")
	}
	var cold, warm, announced int
	for i, r := range rep.results {
		if r.Warm {
			warm++
		} else {
			cold++
		}
		if r.Err != nil {
			t.Errorf("lookup %d (warm %v): %v", i, r.Warm, r.Err)
		}
		if r.Announced {
			announced++
			if !r.Found {
				t.Errorf("lookup %d (warm %v) did not find the announced peer", i, r.Warm)
			}
		}
		if r.Trace.queries == 0 || r.Trace.answered == 0 {
			t.Errorf("lookup %d (warm %v): the wire shows %d get_peers queries, %d answered", i, r.Warm, r.Trace.queries, r.Trace.answered)
		}
		if !r.Ideal.Completed || r.Ideal.Queries < 8 {
			t.Errorf("lookup %d: the oracle's lookup %+v", i, r.Ideal)
		}
	}
	if cold != p.Lookups || warm == 0 || announced == 0 {
		t.Errorf("%d cold and %d warm lookups, %d of announced info hashes; want %d cold and some of each", cold, warm, announced, p.Lookups)
	}

	var out bytes.Buffer
	if err := rep.write(&out, p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"time to the first announced peer", "ideal queries (oracle)", "where the cold lookups' get_peers queries went"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, out.String())
		}
	}
	f, err := os.Open(filepath.Join(p.Out, "lookups.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("lookups.png: %v", err)
	}
	csv, err := os.ReadFile(filepath.Join(p.Out, "lookups.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(csv), "\n"); lines != len(rep.results)+1 {
		t.Errorf("lookups.csv has %d lines for %d lookups", lines, len(rep.results))
	}
}
