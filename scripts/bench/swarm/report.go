package main

import (
	"fmt"
	"math"
	"strings"

	"github.com/swarmdrop/swarmdrop/scripts/bench/internal/benchkit"
)

// mbit converts bytes/s to Mbit/s.
func mbit(bytesPerSec float64) float64 { return bytesPerSec * 8 / 1e6 }

// meanDone is the mean completion time of a run's leechers, NaN unless
// all completed.
func meanDone(res runResult) float64 {
	var sum float64
	for _, l := range res.leechers {
		v := l.total
		if math.IsNaN(v) {
			return nan
		}
		sum += v
	}
	if len(res.leechers) == 0 {
		return nan
	}
	return sum / float64(len(res.leechers))
}

// lastDone is the latest completion of a run (NaN unless all completed).
func lastDone(res runResult) float64 {
	last := 0.0
	for _, l := range res.leechers {
		if math.IsNaN(l.total) {
			return nan
		}
		last = max(last, l.total)
	}
	return last
}

// finished counts a run's leechers that completed.
func finished(res runResult) int {
	n := 0
	for _, l := range res.leechers {
		if !math.IsNaN(l.total) {
			n++
		}
	}
	return n
}

// printRun prints one run as it ends.
func printRun(c benchCase, res runResult) {
	var b strings.Builder
	fmt.Fprintf(&b, "  %-10s %-10s ", c.name, res.c)
	if len(res.leechers) == 1 {
		l := res.leechers[0]
		if math.IsNaN(l.total) {
			fmt.Fprintf(&b, "NOT DONE (%.0f %% verified: %v; last line: %.200s)", 100*l.progress, shortErr(l.err), l.last)
		} else {
			fmt.Fprintf(&b, "done %6.1f s  steady %5.1f Mbit/s  first 10 %% %4.1f s  last 10 %% %4.1f s", l.total, mbit(l.steady), l.first, l.tail)
		}
	} else {
		fmt.Fprintf(&b, "%d/%d done  mean %5.1f s  last %5.1f s", finished(res), len(res.leechers),
			meanDone(res), lastDone(res))
		if sp := res.spread; sp.measured {
			fmt.Fprintf(&b, "  seeder: %.2f copies, %s", sp.copies, spreadText(sp))
		}
		for _, l := range res.leechers {
			if l.err != nil {
				fmt.Fprintf(&b, "\n         a leecher did not finish (%.0f %%): %v; last line: %.200s", 100*l.progress, shortErr(l.err), l.last)
				break
			}
		}
	}
	fmt.Fprintf(&b, "  | clients %.1f s CPU, emulator %.1f s CPU, %d dropped, %d lost, %.0f µs late | load %s",
		res.cpu, res.link.cpu, res.link.dropped, res.link.lost, res.link.meanLateUS, res.load)
	fmt.Println(b.String())
}

// spreadText says how the seeder gave out pieces.
func spreadText(sp spread) string {
	var s string
	if sp.reachedFive {
		s = fmt.Sprintf("%.0f %% of pieces sent once when the first reached 5 copies", 100*sp.coverageAtFive)
	} else {
		s = fmt.Sprintf("no piece reached 5 copies (%.0f %% sent once)", 100*sp.coverageAtFive)
	}
	if sp.fullReached {
		s += fmt.Sprintf(", every piece sent once %.1f s after joining, the most copies of one by then: %.2f", sp.fullAt, sp.maxAtFull)
	}
	return s
}

// shortErr keeps the first line of an error, shortened.
func shortErr(err error) string {
	if err == nil {
		return "no completion line"
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
}

// column collects one figure over the runs of one client.
func column(runs []runResult, f func(runResult) float64) []float64 {
	var xs []float64
	for _, r := range runs {
		xs = append(xs, f(r))
	}
	return xs
}

// report prints the table of medians and the goals.
func report(reps []caseReport, runs int) {
	fmt.Printf("\nbench-swarm: %d runs per client and case, the cases in turn and the clients alternating; medians (all runs in brackets)\n", runs)
	for _, rep := range reps {
		fmt.Printf("\n%s\n", rep.c.title)
		if rep.note != "" {
			fmt.Println(" ", rep.note)
		}
		if rep.c.name == "flash" {
			reportFlash(rep)
		} else {
			reportSingle(rep)
		}
	}
}

// reportSingle is the table of a one-downloader case.
func reportSingle(rep caseReport) {
	fmt.Printf("  %-10s %9s %14s %14s %11s %11s  %s\n", "client", "done s", "steady Mbit/s", "whole Mbit/s", "first 10 %", "last 10 %", "done s of each run")
	med := [2]float64{}
	steady := [2]float64{}
	for _, c := range clients {
		rs := rep.runs[c]
		done := column(rs, func(r runResult) float64 { return r.leechers[0].total })
		st := column(rs, func(r runResult) float64 { return mbit(r.leechers[0].steady) })
		first := column(rs, func(r runResult) float64 { return r.leechers[0].first })
		tail := column(rs, func(r runResult) float64 { return r.leechers[0].tail })
		med[c], steady[c] = benchkit.Median(done), benchkit.Median(st)
		whole := float64(rep.c.size) * 8 / 1e6 / med[c]
		fmt.Printf("  %-10s %9.1f %14.1f %14.1f %9.1f s %9.1f s  [%s]\n", c, med[c], steady[c], whole,
			benchkit.Median(first), benchkit.Median(tail), benchkit.List("%.1f", done))
	}
	if len(rep.tcp) > 0 {
		var rates []float64
		for _, r := range rep.tcp {
			rates = append(rates, mbit(r))
		}
		fmt.Printf("  %-10s %9s %14.1f %14s  (one plain TCP connection, %d MiB, each run: %s Mbit/s)\n", "tcp", "", benchkit.Median(rates), "", tcpSize>>20, benchkit.List("%.1f", rates))
	}
	fmt.Println("  done: joining to the completion line; steady: verified payload rate from 10 % to 90 % of the content;")
	fmt.Println("  whole: the content over the median done time (connection set-up and slow start included);")
	fmt.Println("  first 10 %: joining to 10 % verified; last 10 %: 90 % verified to completion (the end game)")
	switch rep.c.name {
	case "longfat", "longfat-sd":
		link := rep.c.linkRate / 1e6
		fmt.Printf("  goal: swarmdrop reaches >= 90 %% of the %.0f Mbit/s link: steady %.1f Mbit/s = %.1f %% (%s); whole download %.1f %%; libtorrent steady %.1f %%\n",
			link, steady[swarmdrop], 100*steady[swarmdrop]/link, verdict(steady[swarmdrop] >= 0.9*link),
			100*float64(rep.c.size)*8/1e6/med[swarmdrop]/link, 100*steady[libtorrent]/link)
		fmt.Println("  (payload at most 96.5 % of the IP rate: 1448 of 1500 bytes per full TCP segment with timestamps)")
	case "mixed":
		fmt.Printf("  goal: swarmdrop's time <= 0.90x libtorrent's: %s (%s)\n",
			benchkit.Ratio(med[swarmdrop], med[libtorrent]), verdict(med[swarmdrop] <= 0.9*med[libtorrent]))
		tail := benchkit.Median(column(rep.runs[swarmdrop], func(r runResult) float64 { return r.leechers[0].tail }))
		ideal := 0.1 * float64(rep.c.size) / (steady[swarmdrop] * 1e6 / 8)
		fmt.Printf("  goal: the slow peer does not stall the end game: swarmdrop's last 10 %% took %.1f s, %.1f s at its steady rate (%s: within 1.5x)\n",
			tail, ideal, verdict(tail <= 1.5*ideal))
	}
}

// reportFlash is the flash crowd's table.
func reportFlash(rep caseReport) {
	fmt.Printf("  %-10s %8s %8s %8s %10s %15s  %s\n", "client", "mean s", "last s", "done", "seeder x", "sent once at 5x", "mean s of each run")
	mean := [2]float64{}
	for _, c := range clients {
		rs := rep.runs[c]
		means := column(rs, meanDone)
		last := column(rs, lastDone)
		copies := column(rs, func(r runResult) float64 { return measuredOr(r.spread, r.spread.copies) })
		cover := column(rs, func(r runResult) float64 { return measuredOr(r.spread, 100*r.spread.coverageAtFive) })
		done, total := 0, 0
		for _, r := range rs {
			done += finished(r)
			total += len(r.leechers)
		}
		mean[c] = benchkit.Median(means)
		fmt.Printf("  %-10s %8.1f %8.1f %4d/%-3d %10.2f %14.0f%%  [%s]\n", c, mean[c],
			benchkit.Median(last), done, total, benchkit.Median(copies), benchkit.Median(cover), benchkit.List("%.1f", means))
	}
	fmt.Println("  mean: of the leechers' times from joining (all at once) to completion; seeder x: blocks the seeder")
	fmt.Println("  uploaded over the content's; sent once at 5x: pieces the seeder had sent whole when a first piece reached 5 copies")
	fmt.Printf("  goal: swarmdrop's mean completion <= 0.90x libtorrent's: %s (%s)\n",
		benchkit.Ratio(mean[swarmdrop], mean[libtorrent]), verdict(mean[swarmdrop] <= 0.9*mean[libtorrent]))
	for _, c := range clients {
		for i, r := range rep.runs[c] {
			if r.spread.measured {
				fmt.Printf("  %s seeder, run %d: %s\n", c, i+1, spreadText(r.spread))
			} else {
				fmt.Printf("  %s seeder, run %d: uploads not observed\n", c, i+1)
			}
		}
	}
	fmt.Println("  goal: the seeder uploads each piece about once before any piece five times (100 % sent once at 5x)")
}

// measuredOr is v when the spread was measured, NaN otherwise.
func measuredOr(sp spread, v float64) float64 {
	if !sp.measured {
		return nan
	}
	return v
}

// verdict words a goal's outcome.
func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}
