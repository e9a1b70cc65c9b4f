package main

import (
	"fmt"
	"slices"

	"github.com/swarmdrop/swarmdrop/scripts/bench/internal/benchkit"
)

// summary is the medians of one case over all runs.
type summary struct {
	done, exit, cpu float64 // seconds
	rss             float64 // MiB
	all             []float64
	peakRSS         float64 // MiB, highest over the runs
}

// summarize takes the medians of one case's results.
func summarize(rs []result) summary {
	var done, exit, cpu, rss []float64
	for _, r := range rs {
		done = append(done, r.done)
		exit = append(exit, r.exit)
		cpu = append(cpu, r.cpu)
		rss = append(rss, mib(r.maxRSS))
	}
	return summary{
		done: benchkit.Median(done), exit: benchkit.Median(exit), cpu: benchkit.Median(cpu), rss: benchkit.Median(rss),
		all: done, peakRSS: slices.Max(rss),
	}
}

// report prints the table and the three goals' ratios.
func report(runs int, cases []dlCase, results [][]result) {
	s := make([]summary, len(cases))
	for i := range cases {
		s[i] = summarize(results[i])
	}
	fmt.Printf("\ndownload 1 GiB (1024 pieces of 1 MiB) on loopback, %d runs per case, interleaved; medians\n", runs)
	fmt.Printf("  %-26s %8s %8s %8s %7s %12s  %s\n", "downloader <- seeder", "done s", "MB/s", "exit s", "CPU s", "peak RSS", "all runs (done s)")
	for i, c := range cases {
		fmt.Printf("  %-26s %8.3f %8.1f %8.3f %7.2f %8.1f MiB  %s\n",
			c.name, s[i].done, mbps(s[i].done), s[i].exit, s[i].cpu, s[i].rss, benchkit.List("%.3f", s[i].all))
	}
	fmt.Println("times: process start to the completion line (swarmdrop \"complete\" event, ltpeer DONE), Python start-up included;")
	fmt.Println("swarmdrop reports completion with its next snapshot (every 100 ms), so its times are late by up to 0.1 s;")
	fmt.Println("MB/s = 10^6 bytes/s over the done time; CPU = user+system of the downloader process")
	fmt.Println()
	fmt.Printf("a) speed ratio swarmdrop/libtorrent, both from the libtorrent seeder: %s (goal >= 1.20)\n",
		benchkit.Ratio(s[ltFromLT].done, s[sdFromLT].done))
	fmt.Printf("b) speed ratio swarmdrop->swarmdrop / libtorrent->libtorrent:       %s (goal >= 3.00)\n",
		benchkit.Ratio(s[ltFromLT].done, s[sdFromSD].done))
	ours := max(s[sdFromLT].peakRSS, s[sdFromSD].peakRSS)
	theirs := max(s[ltFromLT].peakRSS, s[ltFromSD].peakRSS)
	verdict := "met"
	if ours >= 100 {
		verdict = "NOT met"
	}
	fmt.Printf("c) peak RSS of the downloader: swarmdrop %.1f MiB, libtorrent %.1f MiB (goal: swarmdrop < 100 MiB: %s)\n",
		ours, theirs, verdict)
	fmt.Println("   (libtorrent 2 maps the files with mmap: its RSS counts the page-cache pages it touched)")
}
