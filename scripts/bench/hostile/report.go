package main

import (
	"fmt"
	"math"

	"github.com/swarmdrop/swarmdrop/scripts/bench/internal/benchkit"
)

// Issue 13's goals.
const (
	goalRSS   = 150 // MiB, the seeder's peak RSS in every case
	goalRatio = 1.5 // a download next to an attack vs without it
)

// side is the medians of one kind of window (baseline or attacked).
type side struct {
	dl, cpuShare float64 // seconds; CPU seconds per second of window
	peakRSS      float64 // MiB, highest over the windows
	failed       int     // downloads that did not complete
	all          []float64
}

// summarize takes the windows of one kind.
func summarize(ws []window, attacked bool) side {
	var s side
	var share []float64
	for _, w := range ws {
		if w.attacked != attacked {
			continue
		}
		s.all = append(s.all, w.dl)
		if math.IsNaN(w.dl) {
			s.failed++
		}
		share = append(share, w.cpu/w.wall)
		s.peakRSS = math.Max(s.peakRSS, mib(w.peakRSS))
	}
	s.dl, s.cpuShare = benchkit.Median(s.all), benchkit.Median(share)
	return s
}

// report prints the table, the details and the goals.
func report(runs int, results []caseResult) {
	fmt.Printf("\nbench-hostile: a swarmdrop seeder on 127.0.0.1, 128 MiB (2,048 pieces of 64 KiB), downloaded by libtorrent\n")
	fmt.Printf("%d runs per case without and next to the attack, interleaved; medians\n\n", runs)
	fmt.Printf("%-62s %17s %13s %17s %6s  %s\n", "", "seeder peak RSS", "seeder CPU", "download s", "", "goals")
	fmt.Printf("%-62s %8s %8s %6s %6s %8s %8s %6s  %s\n", "attack", "base", "attack", "base", "attack", "base", "attack", "ratio", "RSS<150 MiB, ratio<=1.5")
	rssMet, ratioMet := true, true
	for _, r := range results {
		base, att := summarize(r.windows, false), summarize(r.windows, true)
		peak := math.Max(math.Max(base.peakRSS, att.peakRSS), mib(r.lifePeak))
		ratio := att.dl / base.dl
		if att.failed > 0 {
			ratio = math.Inf(1)
		}
		rssOK, ratioOK := peak < goalRSS, ratio <= goalRatio
		rssMet, ratioMet = rssMet && rssOK, ratioMet && ratioOK
		fmt.Printf("%-62s %4.0f MiB %4.0f MiB %5.0f%% %5.0f%% %8s %8s %6s  %s, %s\n", r.name,
			base.peakRSS, att.peakRSS, 100*base.cpuShare, 100*att.cpuShare,
			secs(base), secs(att), ratioText(ratio), verdict(rssOK), verdict(ratioOK))
	}
	fmt.Println("peak RSS: the seeder's VmHWM over each download window (reset at its start; the attack's warm-up included),")
	fmt.Println("highest over the runs; the RSS goal also holds the seeder's lifetime peak (ru_maxrss). CPU: seeder CPU time")
	fmt.Println("per second of window (100% = one core). download: libtorrent's time from adding the torrent to completion.")
	fmt.Println("\nwhat the attacks saw:")
	for _, r := range results {
		held := 0
		for _, w := range r.windows {
			if w.attacked {
				held = max(held, w.peers)
			}
		}
		fmt.Printf("  %s (seeder: lifetime peak RSS %.0f MiB; at most %d connections during the attacks)\n", r.name, mib(r.lifePeak), held)
		for _, d := range r.details {
			fmt.Println("    " + d)
		}
		fmt.Printf("    download times, baseline: %s s; attacked: %s s; ratio of each run's pair: %s\n",
			benchkit.List("%.2f", summarize(r.windows, false).all), benchkit.List("%.2f", summarize(r.windows, true).all), pairRatios(r.windows))
		for _, s := range []bool{false, true} {
			if x := summarize(r.windows, s); x.failed > 0 {
				fmt.Printf("    %d downloads failed (%s); all: %s\n", x.failed, map[bool]string{false: "baseline", true: "attacked"}[s], benchkit.List("%.2f", x.all))
			}
		}
	}
	fmt.Printf("\ngoals: seeder peak RSS < %d MiB in every case: %s; download next to any attack <= %.1fx: %s\n",
		goalRSS, verdict(rssMet), goalRatio, verdict(ratioMet))
	for _, r := range results {
		for _, g := range r.goals {
			fmt.Println("       " + g)
		}
	}
}

// pairRatios lists, for each run, its attacked download time over its
// baseline one (the two windows are next to each other in time).
func pairRatios(ws []window) string {
	var out []float64
	for i := 0; i+1 < len(ws); i += 2 {
		a, b := ws[i], ws[i+1]
		if a.attacked {
			a, b = b, a
		}
		out = append(out, b.dl/a.dl)
	}
	return benchkit.List("%.2f", out)
}

// secs formats a median download time, or "failed".
func secs(s side) string {
	if s.failed > 0 {
		return fmt.Sprintf("%d failed", s.failed)
	}
	return fmt.Sprintf("%.2f", s.dl)
}

func ratioText(r float64) string {
	if math.IsInf(r, 1) || math.IsNaN(r) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", r)
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}
