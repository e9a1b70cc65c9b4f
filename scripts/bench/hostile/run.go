package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/scripts/bench/internal/benchkit"
)

// attack is what one case does to its seeder.
type attack interface {
	// setup runs before the seeder starts and returns extra flags for it.
	setup() ([]string, error)
	// run attacks t until ctx ends; window counts the attacked windows
	// of the case from 0.
	run(ctx context.Context, t target, window int)
	// details describes what the attack saw over all its windows, once
	// the seeder has exited (and saved its state).
	details(s *seeder) []string
}

// goaler is an attack with goals of its own (checked in details).
type goaler interface {
	goals() []string
}

// target is what an attack may aim at.
type target struct {
	addr string  // the seeder's TCP host:port
	s    *seeder // for its DHT address and its progress lines
	mi   *metainfo.MetaInfo
}

// spec is one case of the benchmark.
type spec struct {
	name string
	// dht turns the seeder's DHT on.
	dht bool
	// warmup is how long the attack runs before the download starts: a
	// flood that is already there when a real peer comes.
	warmup time.Duration
	attack attack
}

// window is one download and what the seeder did meanwhile.
type window struct {
	attacked bool
	dl       float64 // seconds; NaN when the download failed
	dlErr    string
	wall     float64 // seconds from the window's start (warm-up included) to its end
	cpu      float64 // seeder CPU seconds over the window
	peakRSS  int64   // KiB, the seeder's VmHWM over the window
	peers    int     // most connections the seeder reported
}

// caseResult is one case's windows and the attack's details.
type caseResult struct {
	name     string
	windows  []window
	lifePeak int64 // KiB, the seeder's ru_maxrss
	details  []string
	goals    []string // the attack's own goals and verdicts
}

// runCase starts a fresh seeder and runs runs baseline and runs attacked
// windows, alternating (the order flips every run).
func (b *bench) runCase(ctx context.Context, c spec, runs int) (caseResult, error) {
	res := caseResult{name: c.name}
	extra, err := c.attack.setup()
	if err != nil {
		return res, err
	}
	dir, err := os.MkdirTemp(b.work, "seeder-")
	if err != nil {
		return res, err
	}
	s, err := b.startSeeder(ctx, dir, c.dht, extra)
	if err != nil {
		return res, err
	}
	defer s.proc.Kill()
	t := target{addr: s.addr, s: s, mi: b.mi}
	slot := 0
	for r := range runs {
		order := []bool{false, true}
		if r%2 == 1 {
			order = []bool{true, false}
		}
		for _, attacked := range order {
			slot++
			w, err := b.window(ctx, c, t, attacked, r, slot)
			if err != nil {
				return res, err
			}
			res.windows = append(res.windows, w)
			label := "baseline"
			if attacked {
				label = "attacked"
			}
			fmt.Printf("  run %d %-8s download %s  seeder: peak RSS %6.1f MiB, CPU %5.2f s in %5.1f s, %d peers\n",
				r+1, label, dlText(w), mib(w.peakRSS), w.cpu, w.wall, w.peers)
		}
	}
	res.lifePeak, err = s.stop(ctx)
	if err != nil {
		fmt.Printf("  seeder exit: %v\n", err)
	}
	res.details = c.attack.details(s)
	if g, ok := c.attack.(goaler); ok {
		res.goals = g.goals()
	}
	for _, d := range res.details {
		fmt.Println("  " + d)
	}
	return res, nil
}

// window runs one download, next to the attack or not, and measures the
// seeder meanwhile. Each window's downloader has a loopback address of
// its own (127.0.3.slot): an address that evicted an idle peer may not
// evict again for a while, and different windows are different people.
func (b *bench) window(ctx context.Context, c spec, t target, attacked bool, run, slot int) (window, error) {
	pid := t.s.proc.Pid()
	if err := benchkit.ResetPeakRSS(pid); err != nil {
		return window{}, fmt.Errorf("resetting the seeder's peak RSS: %w", err)
	}
	before, err := benchkit.ReadUsage(pid)
	if err != nil {
		return window{}, err
	}
	start := time.Now()
	actx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	if attacked {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.attack.run(actx, t, run)
		}()
		select {
		case <-ctx.Done():
		case <-time.After(c.warmup):
		}
	}
	w := window{attacked: attacked}
	w.dl, w.dlErr = b.download(ctx, t.addr, fmt.Sprintf("127.0.3.%d", slot))
	stop()
	wg.Wait()
	after, err := benchkit.ReadUsage(pid)
	if err != nil {
		return window{}, fmt.Errorf("the seeder after the window: %w", err)
	}
	end := time.Now()
	w.wall = end.Sub(start).Seconds()
	w.cpu = (after.CPU - before.CPU).Seconds()
	w.peakRSS = after.PeakRSS
	w.peers, _ = t.s.maxProgress(start, end)
	return w, ctx.Err()
}

// dlText is a window's download time or why it failed.
func dlText(w window) string {
	if math.IsNaN(w.dl) {
		return "FAILED: " + w.dlErr
	}
	return fmt.Sprintf("%6.2f s", w.dl)
}

// mib converts KiB to MiB.
func mib(kib int64) float64 { return float64(kib) / 1024 }

// tablePath is where a seeder saves its DHT routing table.
func tablePath(s *seeder) string { return filepath.Join(s.stateDir, "dht-table.dat") }
