package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/swarmdrop/swarmdrop/scripts/bench/internal/benchkit"
)

// dhtCounts is what the DHT counter saw from one client.
type dhtCounts struct {
	getPeers, announces, packets int
	minutes                      float64 // the length of the count's window
	bins                         []int   // get_peers + announce_peer per 10 s from start
}

// perMinute returns n per minute of the window.
func (d dhtCounts) perMinute(n int) float64 {
	if d.minutes <= 0 {
		return 0
	}
	return float64(n) / d.minutes
}

// maxBin is the most lookups (get_peers + announce_peer) in one 10 s bin.
func (d dhtCounts) maxBin() int {
	m := 0
	for _, n := range d.bins {
		m = max(m, n)
	}
	return m
}

// countQueries adds up the counter's "QUERIES SEC get_peers=N
// announce_peer=N packets_in=N" lines of the seconds from from to to.
func countQueries(lines []benchkit.Line, from, to time.Time) dhtCounts {
	d := dhtCounts{minutes: to.Sub(from).Minutes()}
	d.bins = make([]int, int(to.Sub(from)/(10*time.Second))+1)
	for _, l := range lines {
		f := strings.Fields(l.Text)
		if len(f) != 5 || f[0] != "QUERIES" {
			continue
		}
		sec, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		at := time.Unix(sec, 0)
		if at.Before(from.Truncate(time.Second)) || at.After(to) {
			continue
		}
		val := func(s string) int {
			_, v, _ := strings.Cut(s, "=")
			n, _ := strconv.Atoi(v)
			return n
		}
		g, a, p := val(f[2]), val(f[3]), val(f[4])
		d.getPeers += g
		d.announces += a
		d.packets += p
		if i := int(at.Sub(from) / (10 * time.Second)); i >= 0 && i < len(d.bins) {
			d.bins[i] += g + a
		}
	}
	return d
}

// print writes one run's figures.
func (r result) print(client string, run int) {
	fmt.Printf("%-10s run %d: start %.2f s (%.1f MiB read), RSS %.1f MiB (peak %.1f), idle CPU %.2f %%, goroutines %d, threads %d, "+
		"DHT get_peers %d, announce_peer %d, packets %d in %.1f min; lookups per 10 s: %v",
		client, run, r.start.Seconds(), mib(r.readAtStart>>10), mib(r.rss), mib(r.peak), 100*r.cpu, r.goroutines, r.threads,
		r.dht.getPeers, r.dht.announces, r.dht.packets, r.dht.minutes, r.dht.bins)
	if r.stop > 0 {
		fmt.Printf(", stop %.2f s", r.stop.Seconds())
	}
	fmt.Println()
}

func mib(kib int64) float64 { return float64(kib) / 1024 }

// report prints the medians of both clients, their ratios and the goals.
func report(sd, lt []result) {
	med := func(rs []result, f func(result) float64) float64 {
		xs := make([]float64, len(rs))
		for i, r := range rs {
			xs[i] = f(r)
		}
		return benchkit.Median(xs)
	}
	rows := []struct {
		name, unit, goal string
		f                func(result) float64
	}{
		{"start (all seeding)", "s", "< 5 s, no re-hash", func(r result) float64 { return r.start.Seconds() }},
		{"read by start", "MiB", "no re-hash", func(r result) float64 { return mib(r.readAtStart >> 10) }},
		{"RSS after idle", "MiB", "< 200 MiB", func(r result) float64 { return mib(r.rss) }},
		{"peak RSS", "MiB", "", func(r result) float64 { return mib(r.peak) }},
		{"idle CPU", "% core", "< 1 %", func(r result) float64 { return 100 * r.cpu }},
		{"goroutines", "", "", func(r result) float64 { return float64(r.goroutines) }},
		{"threads", "", "", func(r result) float64 { return float64(r.threads) }},
		{"DHT get_peers", "/min", "", func(r result) float64 { return r.dht.perMinute(r.dht.getPeers) }},
		{"DHT announce_peer", "/min", "", func(r result) float64 { return r.dht.perMinute(r.dht.announces) }},
		{"DHT packets in", "/min", "", func(r result) float64 { return r.dht.perMinute(r.dht.packets) }},
		{"DHT lookups, most in 10 s", "", "no burst", func(r result) float64 { return float64(r.dht.maxBin()) }},
	}
	fmt.Printf("\nmedians of %d run(s), %d torrents (%d small + 64 GiB sparse), idle window %s\n", max(len(sd), len(lt)), *numTorrents+1, *numTorrents, *idle)
	fmt.Printf("%-27s %-7s %12s %12s %8s  %s\n", "", "unit", "swarmdrop", "libtorrent", "ratio", "goal")
	for _, row := range rows {
		a, b := med(sd, row.f), med(lt, row.f)
		fmt.Printf("%-27s %-7s %12.2f %12.2f %8s  %s\n", row.name, row.unit, a, b, benchkit.Ratio(a, b), row.goal)
	}
	if len(sd) > 0 {
		fmt.Printf("swarmdrop stop (SIGINT to exit, saving state): %.2f s\n", med(sd, func(r result) float64 { return r.stop.Seconds() }))
	}
}
