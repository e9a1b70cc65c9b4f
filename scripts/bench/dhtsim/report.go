package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/swarmdrop/swarmdrop/scripts/bench/internal/plot"
)

// Goals of issue 17.
const (
	goalMedian     = time.Second
	goalQueryRatio = 1.5
)

// write prints the report's table and writes the plot and the raw
// figures into p.Out.
func (r *report) write(w io.Writer, p params) error {
	fmt.Fprintf(w, "\nbench-dhtsim: %d nodes (%d seeds), %.0f %% behind NATs that drop unsolicited packets, churn %.1f %% of the nodes per minute, loss %.1f %%\n",
		p.Nodes, p.Seeds, 100*p.Unreachable, 100*p.Churn, 100*p.Loss)
	fmt.Fprintf(w, "round trip between two random nodes: p10 %v, median %v, p90 %v (one-way delay %v on average)\n",
		r.rtt[0].Round(time.Millisecond), r.rtt[1].Round(time.Millisecond), r.rtt[2].Round(time.Millisecond), p.Delay)
	fmt.Fprintf(w, "built in %v (%d joining at once), settled %v, announced %d info hashes (%d peers accepted) in %v, measured in %v\n",
		r.build.Round(time.Second), p.JoinParallel, r.settle.Round(time.Second), r.swarms, r.announcedPeers,
		r.announce.Round(time.Second), r.measure.Round(time.Second))
	fmt.Fprintf(w, "simulated %v in %v of wall-clock time (%s)\n", r.simulated.Round(time.Second), r.wall.Round(time.Second), clockName(p))
	fmt.Fprintf(w, "at the end: %d live nodes (%d behind NATs); %d nodes left and %d joined since the start\n",
		r.live, r.natted, r.leaves, r.joins)
	if r.buildCut {
		fmt.Fprintf(w, "NOTE: the build ran out of its %v before all %d nodes joined: the machine was too slow (see its load)\n", p.BuildTime, p.Nodes)
	}
	if r.measureCut {
		fmt.Fprintf(w, "NOTE: the measurement ran out of its %v before all %d probes ran\n", p.MeasureTime, p.Lookups)
	}
	fmt.Fprintln(w)

	var cold, warm []lookupResult
	for _, x := range r.results {
		if x.Warm {
			warm = append(warm, x)
		} else {
			cold = append(cold, x)
		}
	}
	fmt.Fprintf(w, "%-44s %5s %9s %9s   %s\n", "lookups (GetPeers without announce)", "n", "median", "p90", "goal")
	writeKind(w, "cold: a fresh node that knows one contact", cold, true)
	writeKind(w, "warm: the same node once it has bootstrapped", warm, false)
	fmt.Fprintf(w, "\nideal (the oracle): every routing table perfect (K=%d random live reachable nodes per\n", 8)
	fmt.Fprintf(w, "  prefix length, nothing lost), one query at a time to the closest node not yet asked,\n")
	fmt.Fprintf(w, "  from the contact (cold) or the node's own perfect table (warm), until the %d closest\n", 8)
	fmt.Fprintf(w, "  live reachable nodes have all answered: the greedy path plus those %d. Hops count from the\n", 8)
	fmt.Fprintf(w, "  contact (hop 1, the nodes it names hop 2...); log2(N/K) = %.1f bits to resolve.\n", math.Log2(float64(max(r.live, 8))/8))

	fmt.Fprintf(w, "\nwhere the cold lookups' get_peers queries went:\n  %s\n", fates(cold))
	fmt.Fprintf(w, "where the warm lookups' get_peers queries went:\n  %s\n", fates(warm))
	fmt.Fprintf(w, "\nduring the measurement: %d packets; lost: %s\n", r.sent, dropLine(r.drops))
	fmt.Fprintf(w, "queries the live nodes left unanswered over their lives: %d rate-limited, %d over the reply budget\n", r.rateLimited, r.unanswered)
	fmt.Fprintf(w, "machine: delay line late p50 %v / p99 %v; packets waited in socket buffers p50 %v / p99 %v;\n",
		r.late[0], r.late[1], r.waiting[0], r.waiting[1])
	fmt.Fprintf(w, "  heap in use %d MiB (from the OS %d MiB), %d goroutines\n", r.heapMiB, r.sysMiB, r.goroutines)
	for _, err := range r.serveErrs {
		fmt.Fprintln(w, "  node error:", err)
	}
	if err := r.writeCSV(filepath.Join(p.Out, "lookups.csv")); err != nil {
		return err
	}
	return r.plot(filepath.Join(p.Out, "lookups.png"), p, cold, warm)
}

// writeKind prints the rows of one kind of lookup.
func writeKind(w io.Writer, title string, rs []lookupResult, goals bool) {
	fmt.Fprintln(w, title)
	if len(rs) == 0 {
		fmt.Fprintln(w, "  none")
		return
	}
	var first, done, tails, queries, ideals, ratios, findNodes, hops, idealHops []float64
	announced, found, failed, incomplete := 0, 0, 0, 0
	reached, allReached := 0, 0
	for _, x := range rs {
		done = append(done, x.Done.Seconds())
		tails = append(tails, x.Trace.tail(x.Done).Seconds())
		queries = append(queries, float64(x.Trace.queries))
		findNodes = append(findNodes, float64(x.FindNodes))
		if x.Err != nil {
			failed++
		}
		if x.Announced {
			announced++
			if x.Found {
				found++
				first = append(first, x.FirstPeer.Seconds())
			}
		}
		if x.Trace.maxHop > 0 {
			hops = append(hops, float64(x.Trace.maxHop))
		}
		if x.Ideal.Completed {
			idealHops = append(idealHops, float64(x.Ideal.PathHops+1))
			ideals = append(ideals, float64(x.Ideal.Queries))
			ratios = append(ratios, float64(x.Trace.queries)/float64(x.Ideal.Queries))
			reached += x.reached()
			if x.reached() == len(x.Ideal.Closest) {
				allReached++
			}
		} else {
			incomplete++
		}
	}
	goal := func(s string) string {
		if goals {
			return s
		}
		return ""
	}
	row := func(name string, v []float64, format, g string) {
		if len(v) == 0 {
			fmt.Fprintf(w, "  %-42s %5d\n", name, 0)
			return
		}
		fmt.Fprintf(w, "  %-42s %5d %9s %9s   %s\n", name, len(v),
			fmt.Sprintf(format, quantile(v, 0.5)), fmt.Sprintf(format, quantile(v, 0.9)), g)
	}
	row("time to the first announced peer", first, "%.2f s", goal(fmt.Sprintf("median < %v", goalMedian)))
	row("time until the lookup ends", done, "%.2f s", "")
	row("  of which after the last answer", tails, "%.2f s", "")
	row("get_peers queries sent", queries, "%.0f", "")
	row("ideal queries (oracle)", ideals, "%.0f", "")
	row("ours / ideal, per lookup", ratios, "%.2fx", goal(fmt.Sprintf("median <= %.1fx", goalQueryRatio)))
	if goals { // hops count from the contact: cold lookups only
		row("hops: deepest node that answered", hops, "%.0f", "")
		row("ideal hops to the first of the K closest", idealHops, "%.0f", "")
	}
	row("find_node queries meanwhile (bootstrap)", findNodes, "%.0f", "")
	if n := len(ratios); n > 0 {
		fmt.Fprintf(w, "  the %d closest live reachable nodes that answered: %.2f on average; all of them in %d of %d lookups\n",
			8, float64(reached)/float64(n), allReached, n)
	}
	fmt.Fprintf(w, "  announced peer found in %d of %d lookups of announced info hashes; %d lookups failed", found, announced, failed)
	if incomplete > 0 {
		fmt.Fprintf(w, "; the oracle did not complete %d", incomplete)
	}
	fmt.Fprintln(w)
}

// fates says what became of the get_peers queries of rs.
func fates(rs []lookupResult) string {
	var t trace
	for _, x := range rs {
		t.queries += x.Trace.queries
		t.answered += x.Trace.answered
		t.errors += x.Trace.errors
		for c := range causes {
			t.queryLost[c] += x.Trace.queryLost[c]
			t.replyLost[c] += x.Trace.replyLost[c]
		}
	}
	if t.queries == 0 {
		return "none sent"
	}
	pct := func(n int) string { return fmt.Sprintf("%.1f %%", 100*float64(n)/float64(t.queries)) }
	s := fmt.Sprintf("%d sent: answered %s, error replies %s, no answer in time %s", t.queries, pct(t.answered), pct(t.errors), pct(t.unanswered()))
	for c := delivered + 1; c < causes; c++ {
		if t.queryLost[c] > 0 {
			s += fmt.Sprintf(", query lost (%s) %s", causeNames[c], pct(t.queryLost[c]))
		}
		if t.replyLost[c] > 0 {
			s += fmt.Sprintf(", answer lost (%s) %s", causeNames[c], pct(t.replyLost[c]))
		}
	}
	return s
}

func dropLine(d [causes]uint64) string {
	s := ""
	for c := delivered + 1; c < causes; c++ {
		if s != "" {
			s += ", "
		}
		s += fmt.Sprintf("%s %d", causeNames[c], d[c])
	}
	return s
}

// quantile returns the q-quantile of v (nearest rank).
func quantile(v []float64, q float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// writeCSV writes one line per lookup.
func (r *report) writeCSV(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(f)
	cw.Write([]string{"kind", "announced", "found", "first_peer_s", "done_s", "get_peers", "answered", "unanswered", "ideal", "ideal_path_hops", "first_peers_hop", "max_hop", "find_node", "table_good", "tail_s", "reached", "error"})
	for _, x := range r.results {
		kind := "cold"
		if x.Warm {
			kind = "warm"
		}
		errText := ""
		if x.Err != nil {
			errText = x.Err.Error()
		}
		cw.Write([]string{kind, strconv.FormatBool(x.Announced), strconv.FormatBool(x.Found),
			fmt.Sprintf("%.3f", x.FirstPeer.Seconds()), fmt.Sprintf("%.3f", x.Done.Seconds()),
			strconv.Itoa(x.Trace.queries), strconv.Itoa(x.Trace.answered), strconv.Itoa(x.Trace.unanswered()),
			strconv.Itoa(x.Ideal.Queries), strconv.Itoa(x.Ideal.PathHops),
			strconv.Itoa(x.Trace.firstPeersHop), strconv.Itoa(x.Trace.maxHop),
			strconv.Itoa(x.FindNodes), strconv.Itoa(x.TableGood), fmt.Sprintf("%.3f", x.Trace.tail(x.Done).Seconds()), strconv.Itoa(x.reached()), errText})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

// plot draws the CDFs of the lookup times and of the queries per lookup.
func (r *report) plot(path string, p params, cold, warm []lookupResult) error {
	series := func(rs []lookupResult, f func(lookupResult) (float64, bool)) []float64 {
		var out []float64
		for _, x := range rs {
			if v, ok := f(x); ok {
				out = append(out, v)
			}
		}
		return out
	}
	firstPeer := func(x lookupResult) (float64, bool) { return x.FirstPeer.Seconds(), x.Found }
	done := func(x lookupResult) (float64, bool) { return x.Done.Seconds(), true }
	times := []plot.Series{
		{Name: "cold: first peer", Values: series(cold, firstPeer)},
		{Name: "cold: lookup done", Values: series(cold, done)},
		{Name: "warm: first peer", Values: series(warm, firstPeer)},
		{Name: "warm: lookup done", Values: series(warm, done)},
	}
	all := slices.Concat(times[0].Values, times[1].Values, times[2].Values, times[3].Values)
	timePanel, err := plot.CDF(fmt.Sprintf("Lookup time, %d nodes, RTT median %v", p.Nodes, r.rtt[1].Round(time.Millisecond)),
		"seconds since GetPeers was called", times,
		plot.CDFOptions{Marks: []plot.Mark{{Name: "goal: median < 1 s", X: goalMedian.Seconds()}}, XMax: cap99(all)})
	if err != nil {
		return err
	}
	queries := func(x lookupResult) (float64, bool) { return float64(x.Trace.queries), true }
	ideal := func(x lookupResult) (float64, bool) { return float64(x.Ideal.Queries), x.Ideal.Completed }
	qs := []plot.Series{
		{Name: "cold: ours", Values: series(cold, queries)},
		{Name: "cold: ideal", Values: series(cold, ideal)},
		{Name: "warm: ours", Values: series(warm, queries)},
		{Name: "warm: ideal", Values: series(warm, ideal)},
	}
	var marks []plot.Mark
	if len(qs[1].Values) > 0 {
		marks = append(marks, plot.Mark{Name: "goal: 1.5 x ideal (cold median)", X: goalQueryRatio * quantile(qs[1].Values, 0.5)})
	}
	queryPanel, err := plot.CDF("get_peers queries per lookup", "queries sent", qs, plot.CDFOptions{Marks: marks, IntegerX: true})
	if err != nil {
		return err
	}
	return plot.SavePNG(path, 2, 6.5, 4.8, timePanel, queryPanel)
}

// cap99 returns an x-axis end that shows 99 % of v (the slowest few
// would squeeze the rest into a corner).
func cap99(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	return quantile(v, 0.99) * 1.05
}

// clockName says which clock the nodes ran on.
func clockName(p params) string {
	if p.Virtual {
		return "virtual time (testing/synctest): the machine's speed does not change the timings"
	}
	return "real time: a busy machine adds to every delay"
}
