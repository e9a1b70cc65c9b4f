package main

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/linkem"
)

// longFat is one seeder of client seedClient (host 0) behind a 100 Mbit/s link of
// 50 ms each way with 0.1 % loss each way, and a downloader (host 1)
// 50 ms away each way: 200 ms round trip. 256 MiB in 256 KiB pieces.
// Goal: the downloader reaches at least 90 % of the link rate.
func longFat(seedClient client) benchCase {
	seeder := linkem.Link{Rate: 100 * linkem.Mbit, Delay: 50 * time.Millisecond, Loss: 0.001}
	leech := linkem.Link{Delay: 50 * time.Millisecond}
	return benchCase{
		name: longFatName(seedClient), title: "long fat link: 100 Mbit/s, 200 ms round trip, 0.1 % loss; 256 MiB from a " + seedClient.String() + " seeder",
		tag: "sblf" + seedClient.String()[:1], file: "swarm-256MiB.bin", size: 256 << 20, piece: 256 << 10,
		hosts:      []linkem.Host{{Up: seeder, Down: seeder}, {Up: leech, Down: leech}},
		runTimeout: 75 * time.Second,
		linkRate:   100e6, tcpFrom: 0, tcpTo: 1,
		prepare: func(ctx context.Context, b *bench, n *network, ct content) (func(), error) {
			xdg := filepath.Join(b.work, longFatName(seedClient)+"-seeder")
			p, err := b.startSeeder(n, 0, seedClient, ct, xdg, false)
			if err != nil {
				return nil, err
			}
			stop := func() { p.Kill(); os.RemoveAll(xdg) }
			if err := waitSeeding(ctx, p, seedClient); err != nil {
				stop()
				return nil, err
			}
			return stop, nil
		},
		measure: func(ctx context.Context, b *bench, n *network, ct content, c client, deadline time.Time) (runResult, error) {
			return downloadOnce(ctx, b, n, ct, c, 1, []string{n.addr(0, peerPort)}, deadline)
		},
	}
}

// longFatName is the name of the long fat case with a seeder of c.
func longFatName(c client) string {
	if c == swarmdrop {
		return "longfat-sd"
	}
	return "longfat"
}
