// Command dht is `make bench-dht`: a loopback DHT of 50 libtorrent nodes
// (127.0.0.30-127.0.0.79) and a libtorrent seeder announcing a torrent
// into it; then, RUNS times interleaved, Swarmdrop and libtorrent each
// download that torrent starting from empty state and the torrent's nodes
// only, and the time from process start to the first peer and to the
// first verified piece is printed, with the medians and ratios (issue 5's
// goal: ours faster than libtorrent, lookups under 1 s).
//
// Swarmdrop gets no --nodes or --peer (its settings have no bootstrap
// contacts either); libtorrent gets the torrent's node with --dht as well,
// since ltpeer turns its DHT on only with contacts.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/swarmdrop/swarmdrop/scripts/bench/internal/benchkit"
)

// nodeCount is the size of the libtorrent DHT.
const nodeCount = 50

func main() { benchkit.Main("bench-dht", run) }

// run sets up the DHT and the seeder, measures both clients and prints the
// report.
func run(ctx context.Context, runs int) error {
	b, err := newBench(ctx)
	if err != nil {
		return err
	}
	defer os.RemoveAll(b.work)
	if err := b.startNetwork(ctx); err != nil {
		return err
	}
	clients := []client{{name: "swarmdrop", start: b.swarmdrop}, {name: "libtorrent", start: b.libtorrent}}
	results := make([][]lookup, len(clients))
	for r := range runs {
		for k := range clients {
			i := (k + r) % len(clients) // alternate who goes first
			res, err := b.measure(ctx, clients[i], r)
			if err != nil {
				return fmt.Errorf("run %d, %s: %w", r+1, clients[i].name, err)
			}
			fmt.Printf("  run %d  %-10s  first peer %6.3f s (after %6.3f s)  first piece %6.3f s (after %6.3f s)  first write %6.3f s\n",
				r+1, clients[i].name, res.firstPeer, res.peerAfter, res.firstPiece, res.pieceAfter, res.firstWrite)
			results[i] = append(results[i], res)
		}
	}
	report(runs, clients, results)
	fmt.Println("load after:", benchkit.Uptime())
	return nil
}
