package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/linkem"
	"github.com/swarmdrop/swarmdrop/scripts/bench/internal/benchkit"
)

// mixedSeeder is one seeder of the mixed swarm: its client and link.
type mixedSeeder struct {
	c    client
	mbit float64       // upload rate
	rtt  time.Duration // round trip to the downloader
	loss float64       // each way
}

// mixedSeeders are the mixed swarm's 16 seeders, 141 Mbit/s in all; the
// last is the very slow one (0.25 Mbit/s: a 512 KiB piece takes it 17 s).
var mixedSeeders = []mixedSeeder{
	{libtorrent, 50, 80 * time.Millisecond, 0.001},
	{swarmdrop, 30, 200 * time.Millisecond, 0.005},
	{libtorrent, 12, 300 * time.Millisecond, 0},
	{swarmdrop, 10, 40 * time.Millisecond, 0.01},
	{libtorrent, 8, 150 * time.Millisecond, 0.002},
	{swarmdrop, 6, 20 * time.Millisecond, 0},
	{libtorrent, 5, 250 * time.Millisecond, 0.01},
	{swarmdrop, 4, 100 * time.Millisecond, 0.005},
	{libtorrent, 3, 60 * time.Millisecond, 0},
	{swarmdrop, 3, 280 * time.Millisecond, 0.002},
	{libtorrent, 2, 120 * time.Millisecond, 0.01},
	{swarmdrop, 2, 30 * time.Millisecond, 0},
	{libtorrent, 2, 220 * time.Millisecond, 0.005},
	{swarmdrop, 2, 180 * time.Millisecond, 0.001},
	{libtorrent, 2, 50 * time.Millisecond, 0},
	{swarmdrop, 0.25, 300 * time.Millisecond, 0.01},
}

// mixedSwarm is the 16 seeders (hosts 0-15; each link carries the whole
// round trip and loss, both ways; the rate limits what the seeder sends)
// and one downloader (host 16, no limit). 512 MiB in 512 KiB pieces.
// Goal: Swarmdrop's time at most 0.9x libtorrent's.
func mixedSwarm() benchCase {
	hosts := make([]linkem.Host, len(mixedSeeders)+1)
	for i, s := range mixedSeeders {
		way := linkem.Link{Delay: s.rtt / 2, Loss: s.loss}
		up := way
		up.Rate = int64(s.mbit * linkem.Mbit)
		hosts[i] = linkem.Host{Up: up, Down: way}
	}
	leecher := len(mixedSeeders)
	return benchCase{
		name: "mixed", title: "mixed swarm: 16 seeders (8 libtorrent, 8 swarmdrop), 0.25-50 Mbit/s, 20-300 ms, 0-1 % loss; 512 MiB",
		tag: "sbmx", file: "swarm-512MiB.bin", size: 512 << 20, piece: 512 << 10,
		hosts:      hosts,
		runTimeout: 100 * time.Second,
		prepare: func(ctx context.Context, b *bench, n *network, ct content) (func(), error) {
			var procs []*benchkit.Proc
			stop := func() {
				for _, p := range procs {
					p.Kill()
				}
			}
			for i, s := range mixedSeeders {
				p, err := b.startSeeder(n, i, s.c, ct, filepath.Join(b.work, fmt.Sprintf("mixed-seeder%d", i)), false)
				if err != nil {
					stop()
					return nil, err
				}
				procs = append(procs, p)
			}
			for i, p := range procs {
				if err := waitSeeding(ctx, p, mixedSeeders[i].c); err != nil {
					stop()
					return nil, err
				}
			}
			return func() { stop(); removeSeederDirs(b) }, nil
		},
		measure: func(ctx context.Context, b *bench, n *network, ct content, c client, deadline time.Time) (runResult, error) {
			peers := make([]string, len(mixedSeeders))
			for i := range peers {
				peers[i] = n.addr(i, peerPort)
			}
			return downloadOnce(ctx, b, n, ct, c, leecher, peers, deadline)
		},
	}
}

// removeSeederDirs removes the mixed seeders' XDG folders.
func removeSeederDirs(b *bench) {
	for i := range mixedSeeders {
		os.RemoveAll(filepath.Join(b.work, fmt.Sprintf("mixed-seeder%d", i)))
	}
}
