// Command utp is `make bench-utp`: 256 MiB downloaded over uTP from a
// libtorrent seeder that speaks uTP only, by Swarmdrop's uTP stack and by
// libtorrent, RUNS times with the two interleaved. It prints the median
// times, throughputs, CPU and peak memory of the downloaders and the time
// ratio of issue 16's goal: Swarmdrop no slower than libtorrent (ratio
// <= 1.00).
//
// Until the engine dials uTP itself, "Swarmdrop" here is this program
// re-run as a child (`utp fetch`): engine/udpmux and engine/utp under a
// minimal downloader built from engine/peerwire and engine/storage, which
// verifies and writes every piece as libtorrent does. Each time runs from
// process start to the completion line (DONE, for both), Python's start-up
// included for libtorrent.
//
// The path between seeder and downloaders is a link (links.go): loopback
// now; an emulated WAN link (50 ms, 1 % loss) plugs in there.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/swarmdrop/swarmdrop/scripts/bench/internal/benchkit"
)

// contentSize is the size of the downloaded content, 256 MiB.
const contentSize = 256 << 20

// downloadTimeout bounds one download.
const downloadTimeout = 5 * time.Minute

func main() {
	if len(os.Args) > 1 && os.Args[1] == "fetch" {
		os.Exit(fetchMain(os.Args[2:]))
	}
	benchkit.Main("bench-utp", run)
}

// run measures both downloaders on every link.
func run(ctx context.Context, runs int) error {
	b, err := newBench(ctx)
	if err != nil {
		return err
	}
	defer os.RemoveAll(b.work)
	for _, l := range links() {
		if err := b.runLink(ctx, l, runs); err != nil {
			return fmt.Errorf("%s: %w", l.name, err)
		}
	}
	fmt.Println("load after:", benchkit.Uptime())
	return nil
}

// bench is the shared setup.
type bench struct {
	self, ltpeer string
	cache, work  string
	content      string
	torrent      string
}

// newBench makes sure the content exists and makes its torrent.
func newBench(ctx context.Context) (*bench, error) {
	root, err := benchkit.ModuleRoot()
	if err != nil {
		return nil, err
	}
	b := &bench{ltpeer: benchkit.LTPeer(root)}
	if b.self, err = os.Executable(); err != nil {
		return nil, err
	}
	if b.cache, err = benchkit.CacheDir(); err != nil {
		return nil, err
	}
	if b.content, err = benchkit.EnsureSizedContent(b.cache, "256MiB.bin", contentSize); err != nil {
		return nil, err
	}
	if b.work, err = os.MkdirTemp("", "swarmdrop-bench-utp-"); err != nil {
		return nil, err
	}
	b.torrent = filepath.Join(b.work, "256MiB.torrent")
	p, err := benchkit.Start("libtorrent create", nil, benchkit.Python, b.ltpeer, "create", b.content, b.torrent, "--piece-length", "1048576")
	if err != nil {
		return nil, err
	}
	if _, err := p.Exit(ctx, 2*time.Minute); err != nil {
		return nil, fmt.Errorf("creating the torrent: %w", err)
	}
	return b, nil
}

// downloader is one of the two clients being compared.
type downloader struct {
	name  string
	start func(l link, seeder, dir string) (*benchkit.Proc, error)
}

// downloaders returns Swarmdrop's and libtorrent's; the report relies on
// the order.
func (b *bench) downloaders() []downloader {
	return []downloader{
		{name: "swarmdrop  <- libtorrent", start: func(l link, seeder, dir string) (*benchkit.Proc, error) {
			return start("swarmdrop uTP fetch", l.downloader(b.self, "fetch",
				"-torrent", b.torrent, "-peer", seeder, "-dir", dir, "-bind", l.downloaderIP+":0",
				"-timeout", downloadTimeout.String()))
		}},
		{name: "libtorrent <- libtorrent", start: func(l link, seeder, dir string) (*benchkit.Proc, error) {
			return start("libtorrent download", l.downloader(benchkit.Python, b.ltpeer, "download", b.torrent, dir,
				"--port", "0", "--ip", l.downloaderIP, "--peer", seeder, "--utp",
				"--seconds", fmt.Sprint(downloadTimeout.Seconds())))
		}},
	}
}

// start starts the command line cmd.
func start(label string, cmd []string) (*benchkit.Proc, error) {
	return benchkit.Start(label, nil, cmd[0], cmd[1:]...)
}

// result is one download's figures.
type result struct {
	done, cpu float64 // seconds
	maxRSS    int64   // KiB
}

// runLink starts a seeder behind link l and measures both downloaders.
func (b *bench) runLink(ctx context.Context, l link, runs int) error {
	cleanup, err := l.setup(ctx)
	if err != nil {
		return err
	}
	defer cleanup()
	seeder, err := start("libtorrent seeder", l.seeder(benchkit.Python, b.ltpeer, "seed", b.torrent, b.cache,
		"--port", "0", "--ip", l.seederIP, "--utp", "--check", "--seconds", "86400"))
	if err != nil {
		return err
	}
	defer seeder.Kill()
	line, err := seeder.WaitPrefix(ctx, 30*time.Second, "LISTENING ")
	if err != nil {
		return err
	}
	addr := l.seederIP + ":" + strings.TrimPrefix(line.Text, "LISTENING ")
	if _, err := seeder.WaitPrefix(ctx, 2*time.Minute, "SEEDING"); err != nil {
		return err
	}
	fmt.Printf("link %s: libtorrent seeder (uTP only) at %s\n", l.name, addr)
	ds := b.downloaders()
	results := make([][]result, len(ds))
	for r := range runs {
		for k := range ds {
			i := (k + r) % len(ds) // alternate who goes first
			res, err := b.measure(ctx, ds[i], l, addr, r)
			if err != nil {
				return fmt.Errorf("run %d, %s: %w", r+1, ds[i].name, err)
			}
			fmt.Printf("  run %d  %-26s %7.3f s %7.1f MB/s  CPU %6.2f s  peak RSS %7.1f MiB\n",
				r+1, ds[i].name, res.done, mbps(res.done), res.cpu, float64(res.maxRSS)/1024)
			results[i] = append(results[i], res)
		}
	}
	report(l, runs, ds, results)
	return nil
}

// measure runs one download into a fresh folder, removed afterwards, and
// checks that the whole file arrived.
func (b *bench) measure(ctx context.Context, d downloader, l link, seeder string, run int) (result, error) {
	dir, err := os.MkdirTemp(b.work, fmt.Sprintf("run%d-", run+1))
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(dir)
	p, err := d.start(l, seeder, dir)
	if err != nil {
		return result{}, err
	}
	defer p.Kill()
	done, err := p.WaitPrefix(ctx, downloadTimeout, "DONE ")
	if err != nil {
		return result{}, err
	}
	ended, err := p.Exit(ctx, 30*time.Second)
	if err != nil && !strings.Contains(err.Error(), "did not exit") {
		return result{}, err
	}
	fi, err := os.Stat(filepath.Join(dir, filepath.Base(b.content)))
	if err != nil || fi.Size() != contentSize {
		return result{}, fmt.Errorf("the downloaded file is missing or short: %v", err)
	}
	return result{done: done.At.Sub(p.Started).Seconds(), cpu: ended.CPU.Seconds(), maxRSS: ended.MaxRSS}, nil
}

// mbps is the content's throughput in MB/s (10^6 bytes).
func mbps(seconds float64) float64 {
	if seconds <= 0 {
		return 0
	}
	return contentSize / 1e6 / seconds
}

// report prints the medians and the goal's ratio for one link.
func report(l link, runs int, ds []downloader, results [][]result) {
	fmt.Printf("\nuTP download of 256 MiB (256 pieces of 1 MiB) over %s, %d runs per case, interleaved; medians\n", l.name, runs)
	fmt.Printf("  %-26s %8s %8s %7s %12s  %s\n", "downloader <- seeder", "done s", "MB/s", "CPU s", "peak RSS", "all runs (done s)")
	med := make([]struct{ done, cpu, rss float64 }, len(ds))
	for i, d := range ds {
		var done, cpu, rss []float64
		for _, r := range results[i] {
			done = append(done, r.done)
			cpu = append(cpu, r.cpu)
			rss = append(rss, float64(r.maxRSS)/1024)
		}
		med[i].done, med[i].cpu, med[i].rss = benchkit.Median(done), benchkit.Median(cpu), benchkit.Median(rss)
		fmt.Printf("  %-26s %8.3f %8.1f %7.2f %8.1f MiB  %s\n", d.name, med[i].done, mbps(med[i].done), med[i].cpu, med[i].rss, benchkit.List("%.3f", done))
	}
	fmt.Println("times: process start to the DONE line, Python start-up included for libtorrent; CPU = user+system of the downloader")
	verdict := "met"
	if med[0].done > med[1].done {
		verdict = "NOT met"
	}
	fmt.Printf("time ratio swarmdrop/libtorrent: %s (goal <= 1.00: %s); CPU ratio: %s\n\n",
		benchkit.Ratio(med[0].done, med[1].done), verdict, benchkit.Ratio(med[0].cpu, med[1].cpu))
}
