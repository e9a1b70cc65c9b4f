package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/linkem"
)

// flashCrowd is one seeder (host 0) sending at 20 Mbit/s and n leechers
// (hosts 1..n) started at once, every process of one client; each leecher
// sends at 10 Mbit/s, receives at up to 50 Mbit/s, and sits 5-25 ms from
// the centre each way (20-100 ms round trips between leechers). Each
// leecher is told of the seeder and every other leecher, and keeps
// seeding once complete. 16 MiB in 64 KiB pieces (256 pieces of 4
// blocks). Goals: mean completion at most 0.9x libtorrent's; the seeder
// uploads each piece about once before any piece five times.
func flashCrowd(n int) benchCase {
	hosts := make([]linkem.Host, n+1)
	hosts[0] = linkem.Host{
		Up:   linkem.Link{Rate: 20 * linkem.Mbit, Delay: 10 * time.Millisecond},
		Down: linkem.Link{Delay: 10 * time.Millisecond},
	}
	for i := 1; i <= n; i++ {
		d := time.Duration(5+5*(i%5)) * time.Millisecond
		hosts[i] = linkem.Host{
			Up:   linkem.Link{Rate: 10 * linkem.Mbit, Delay: d},
			Down: linkem.Link{Rate: 50 * linkem.Mbit, Delay: d},
		}
	}
	return benchCase{
		name:  "flash",
		title: fmt.Sprintf("flash crowd: a seeder at 20 Mbit/s, %d leechers at once (10 Mbit/s up, 50 down, 20-100 ms); 16 MiB", n),
		tag:   "sbfc", file: "swarm-16MiB.bin", size: 16 << 20, piece: 64 << 10,
		hosts:      hosts,
		runTimeout: 60 * time.Second,
		prepare:    func(context.Context, *bench, *network, content) (func(), error) { return func() {}, nil },
		measure: func(ctx context.Context, b *bench, nw *network, ct content, c client, deadline time.Time) (runResult, error) {
			return flashRun(ctx, b, nw, ct, c, n, deadline)
		},
	}
}

// flashRun starts the seeder, waits until it seeds, launches every
// leecher at once and waits for all of them.
func flashRun(ctx context.Context, b *bench, nw *network, ct content, c client, n int, deadline time.Time) (runResult, error) {
	base, err := b.runDir("flash-" + c.String())
	if err != nil {
		return runResult{}, err
	}
	defer os.RemoveAll(base)
	seeder, err := b.startSeeder(nw, 0, c, ct, filepath.Join(base, "seeder"), true)
	if err != nil {
		return runResult{}, err
	}
	defer seeder.Kill()
	if err := waitSeeding(ctx, seeder, c); err != nil {
		return runResult{}, err
	}
	all := make([]string, n+1)
	for i := range all {
		all[i] = nw.addr(i, peerPort)
	}
	ls, launch, err := launchLeechers(ctx, c, n, filepath.Join(base, "go"), func(k int, goFile string) (*leecher, error) {
		i := k + 1
		peers := append(append([]string(nil), all[:i]...), all[i+1:]...)
		return b.startLeecher(nw, i, c, ct, filepath.Join(base, fmt.Sprint(i)), goFile, peers, true, time.Until(deadline)+time.Minute)
	})
	if err != nil {
		return runResult{}, err
	}
	defer func() {
		for _, l := range ls {
			l.p.Kill()
		}
	}()
	deadline = launch.Add(time.Until(deadline))
	waitAll(ctx, ls, deadline)
	if ctx.Err() != nil {
		return runResult{}, ctx.Err()
	}
	res := runResult{}
	for _, l := range ls {
		l.stop()
		r := l.result(launch)
		res.leechers = append(res.leechers, r)
		res.cpu += r.cpu
	}
	seeder.Kill()
	if e, err := seeder.Exit(ctx, time.Second); err == nil || e.CPU > 0 {
		res.cpu += e.CPU.Seconds()
	}
	res.spread = measureSpread(ct, uploadOrder(seeder), launch)
	if *debugDir != "" {
		(&leecher{p: seeder}).dump()
	}
	return res, nil
}
