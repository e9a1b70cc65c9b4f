// Command download is `make bench-download`: a 1 GiB torrent (1 MiB
// pieces) downloaded on loopback by Swarmdrop and by libtorrent, from a
// libtorrent seeder and from a Swarmdrop seeder, RUNS times with the cases
// interleaved. It prints the median times, throughputs and peak memory of
// the downloaders and the ratios of issue 4's goals: Swarmdrop ≥1.2× as
// fast as libtorrent from the same libtorrent seeder, Swarmdrop→Swarmdrop
// ≥3× as fast as libtorrent→libtorrent, and our peak RSS under 100 MiB.
//
// Each time runs from process start to the completion line (Swarmdrop's
// "complete" event, ltpeer's DONE), Python's start-up included; the time
// to exit is shown too. Every download goes into a fresh folder, removed
// afterwards.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/swarmdrop/swarmdrop/scripts/bench/internal/benchkit"
)

func main() { benchkit.Main("bench-download", run) }

// run prepares the content, torrent and both seeders, runs every case runs
// times and prints the report.
func run(ctx context.Context, runs int) error {
	b, err := newBench(ctx)
	if err != nil {
		return err
	}
	defer os.RemoveAll(b.work)
	if err := b.startSeeders(ctx); err != nil {
		return err
	}
	cases := b.cases()
	results := make([][]result, len(cases))
	for r := range runs {
		for k := range cases {
			i := (k + r) % len(cases) // rotate the order each run
			res, err := b.measure(ctx, cases[i], r)
			if err != nil {
				return fmt.Errorf("run %d, %s: %w", r+1, cases[i].name, err)
			}
			fmt.Printf("  run %d  %-26s %7.3f s %7.1f MB/s  exit %7.3f s  CPU %6.2f s  peak RSS %7.1f MiB\n",
				r+1, cases[i].name, res.done, mbps(res.done), res.exit, res.cpu, mib(res.maxRSS))
			results[i] = append(results[i], res)
		}
	}
	report(runs, cases, results)
	fmt.Println("load after:", benchkit.Uptime())
	return nil
}

// bench is the shared setup: binaries, content, torrent and seeders.
type bench struct {
	root, cache, work string
	bin, ltpeer       string
	torrent           string
	ltSeeder          string // host:port of the libtorrent seeder
	sdSeeder          string // host:port of the Swarmdrop seeder
}

// newBench builds swarmdrop, makes sure the content exists and creates the
// torrent in a fresh work folder.
func newBench(ctx context.Context) (*bench, error) {
	root, err := benchkit.ModuleRoot()
	if err != nil {
		return nil, err
	}
	cache, err := benchkit.CacheDir()
	if err != nil {
		return nil, err
	}
	b := &bench{root: root, cache: cache, ltpeer: benchkit.LTPeer(root)}
	if b.bin, err = benchkit.BuildSwarmdrop(ctx, root, cache); err != nil {
		return nil, err
	}
	content, err := benchkit.EnsureContent(cache)
	if err != nil {
		return nil, err
	}
	if b.work, err = os.MkdirTemp("", "swarmdrop-bench-download-"); err != nil {
		return nil, err
	}
	b.torrent = filepath.Join(b.work, "1GiB.torrent")
	p, err := benchkit.Start("swarmdrop create", nil, b.bin, "create", "--quiet",
		"--nodes", "127.0.0.1:6881", "--piece-length", "1M", "-o", b.torrent, content)
	if err != nil {
		return nil, err
	}
	if _, err := p.Exit(ctx, 120*time.Second); err != nil {
		return nil, fmt.Errorf("creating the torrent: %w", err)
	}
	return b, nil
}

// startSeeders starts a libtorrent seeder (after verifying the data, so
// that the first download does not pay for its lazy checks) and a
// Swarmdrop seeder, both on 127.0.0.1, and waits until both seed.
func (b *bench) startSeeders(ctx context.Context) error {
	lt, err := benchkit.Start("libtorrent seeder", nil, benchkit.Python, b.ltpeer, "seed", b.torrent, b.cache,
		"--port", "0", "--ip", "127.0.0.1", "--check", "--seconds", "86400")
	if err != nil {
		return err
	}
	l, err := lt.WaitPrefix(ctx, 30*time.Second, "LISTENING ")
	if err != nil {
		return err
	}
	b.ltSeeder = "127.0.0.1:" + l.Text[len("LISTENING "):]
	if _, err := lt.WaitPrefix(ctx, 120*time.Second, "SEEDING"); err != nil {
		return err
	}
	port, err := benchkit.FreePort("127.0.0.1")
	if err != nil {
		return err
	}
	env, err := benchkit.SwarmdropEnv(filepath.Join(b.work, "seeder"))
	if err != nil {
		return err
	}
	sd, err := benchkit.Start("swarmdrop seeder", env, b.bin, "seed", "--json", "--no-upnp", "--no-dht",
		"--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--dir", b.cache, b.torrent)
	if err != nil {
		return err
	}
	if _, err := sd.WaitFor(ctx, 120*time.Second, isComplete); err != nil {
		return err
	}
	b.sdSeeder = fmt.Sprintf("127.0.0.1:%d", port)
	fmt.Printf("seeders: libtorrent %s, swarmdrop %s\n", b.ltSeeder, b.sdSeeder)
	return nil
}
