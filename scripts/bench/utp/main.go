// Command utp is `make bench-utp`: a torrent downloaded over uTP from a
// libtorrent seeder that speaks uTP only, by Swarmdrop's uTP stack and by
// libtorrent, RUNS times with the two interleaved, over two links: 256 MiB
// on loopback, and 8 MiB (-wan-size) through an emulated link of 50 ms and
// 1 % loss each way (internal/linkem; needs root). It prints the median
// times, throughputs, CPU and peak memory of the downloaders and the time
// ratio of issue 16's goal: Swarmdrop no slower than libtorrent (ratio
// <= 1.00) on both links. (LEDBAT, like TCP, reaches only about 200 KB/s
// with 1 % random loss at a 100 ms round trip: 256 MiB would take 20
// minutes per download there.)
//
// Three downloaders are compared: "swarmdrop", the whole engine (a
// `swarmdrop download --no-dht --no-upnp --no-lsd --prefer-utp --peer
// SEEDER` child (uTP first, as libtorrent here has TCP off), built with
// -tags nogui, with empty XDG folders: its dialer,
// swarm, storage and hashing), done at its --json "complete" event;
// "uTP stack", this program re-run as a child (`utp fetch`): engine/udpmux
// and engine/utp under a minimal downloader built from engine/peerwire and
// engine/storage, which verifies and writes every piece; and libtorrent.
// Each time runs from process start to the completion line, Python's
// start-up included for libtorrent. The goal's ratio is the engine's.
//
// The path between seeder and downloaders is a link (links.go).
//
// Measured on the shared 2-core machine (load average 6-10), RUNS=3,
// medians: loopback, engine 5.7 s (47 MB/s, CPU 2.4 s, 55 MiB; runs
// 4.0-6.2 s), uTP stack 6.6 s (40 MB/s, CPU 3.3 s, 27 MiB), libtorrent
// 44.7 s (6.0 MB/s, CPU 4.4 s, 290 MiB; runs 37-53 s): time ratio
// engine/libtorrent 0.13, CPU 0.55 (stack alone 0.15, 0.75). Emulated
// link, engine 34.8 s (0.24 MB/s, CPU 0.45 s, 16 MiB; runs 34.2-36.5 s),
// uTP stack 31.9 s (CPU 0.30 s; runs 28.6-34.8 s), libtorrent 34.5 s
// (0.24 MB/s, CPU 1.35 s, 37 MiB; runs 34.4-35.2 s): time ratio 1.01,
// so the goal is missed by 0.3 s, within the runs' spread; CPU ratio 0.33
// (stack alone 0.92, 0.22). A RUNS=1 run gave 0.14 and 1.00 (32.6 against
// 32.5 s). 1 % random loss makes single transfers vary a lot.
//
// Later the same day (branch wan, RUNS=3, load 5-21), two runs of the
// emulated link: before the request queue change, engine 30.8 s (runs
// 24.8-33.6), libtorrent 35.0 s (28.4-36.1): ratio 0.88; after it, engine
// 32.9 s (31.9-33.0), libtorrent 28.9 s (28.8-32.3): ratio 1.14, the uTP
// stack alone 1.06. The spread of single runs (up to 11 s) is the
// sender's: libtorrent's LEDBAT halves its window on each loss, so the
// rate follows the loss pattern, and the downloader only acknowledges
// (each packet, with selective ACKs) and keeps requests queued (20-30
// blocks, over a second of the rate). Loopback in the same run: 0.06.
//
// On 2 December 23:18-23:29, the machine otherwise idle (load 0.2-9),
// `make bench-utp RUNS=7 UTP_FLAGS="-link an"`, medians: engine 29.6 s
// (0.28 MB/s, CPU 0.48 s, 16.7 MiB; runs 27.8-35.6 s), uTP stack 31.5 s
// (runs 26.8-35.1 s), libtorrent 32.3 s (CPU 1.17 s, 37.9 MiB; runs
// 27.4-34.5 s): time ratio 0.92 (goal <= 1.00: met), CPU ratio 0.41;
// the stack alone 0.97. Seven runs narrow the medians; with three, the
// ratio of the same code has ranged 0.88-1.14. Loopback right after
// (RUNS=3, `UTP_FLAGS="-link loop"`): engine 2.6 s (103 MB/s, CPU 2.4 s,
// 55 MiB), uTP stack 3.2 s, libtorrent 27.5 s (9.8 MB/s, CPU 3.3 s, 290
// MiB): time ratio 0.09, CPU ratio 0.71.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/swarmdrop/swarmdrop/scripts/bench/internal/benchkit"
)

// contentSize is the size of the content downloaded on loopback, 256 MiB.
const contentSize = 256 << 20

// wanSize is the size of the content downloaded over the emulated link.
var wanSize = flag.Int64("wan-size", 8<<20, "bytes downloaded over the emulated link")

// only picks one link by the start of its name ("loopback", "an emulated").
var only = flag.String("link", "", "measure only the link whose name starts with this")

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
	for _, l := range links(*wanSize) {
		if !strings.HasPrefix(l.name, *only) {
			continue
		}
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
	bin          string // swarmdrop built without a window
	cache, work  string
	content      string // of the link being measured
	torrent      string
}

// newBench finds the programs and makes a work folder.
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
	if b.work, err = os.MkdirTemp("", "swarmdrop-bench-utp-"); err != nil {
		return nil, err
	}
	if b.bin, err = benchkit.BuildSwarmdrop(ctx, root, b.work); err != nil {
		os.RemoveAll(b.work)
		return nil, err
	}
	return b, nil
}

// prepare makes sure content of size bytes exists and makes its torrent
// (pieces of 1 MiB, at most 256 KiB for small contents).
func (b *bench) prepare(ctx context.Context, size int64) error {
	name := fmt.Sprintf("%dMiB", size>>20)
	var err error
	if b.content, err = benchkit.EnsureSizedContent(b.cache, name+".bin", size); err != nil {
		return err
	}
	b.torrent = filepath.Join(b.work, name+".torrent")
	piece := "1048576"
	if size < 64<<20 {
		piece = "262144"
	}
	p, err := benchkit.Start("libtorrent create", nil, benchkit.Python, b.ltpeer, "create", b.content, b.torrent, "--piece-length", piece)
	if err != nil {
		return err
	}
	if _, err := p.Exit(ctx, 2*time.Minute); err != nil {
		return fmt.Errorf("creating the torrent: %w", err)
	}
	return nil
}

// downloader is one of the clients being compared; done matches its
// completion line.
type downloader struct {
	name  string
	start func(p *path, seeder, dir string, env []string) (*benchkit.Proc, error)
	done  func(line string) bool
}

// The downloaders' indexes, in report order.
const (
	engineDL = iota
	stackDL
	libtorrentDL
)

// downloaders returns Swarmdrop's (the whole engine, and the uTP stack
// alone) and libtorrent's; the report relies on the order.
func (b *bench) downloaders() []downloader {
	return []downloader{
		engineDL: {name: "swarmdrop  <- libtorrent", done: isComplete, start: func(p *path, seeder, dir string, env []string) (*benchkit.Proc, error) {
			return start("swarmdrop download", env, p.downloader(b.bin, "download", "--json", "--no-upnp", "--no-dht", "--no-lsd", "--prefer-utp",
				"--port", "0", "--bind", p.downloaderIP, "--dir", dir, "--peer", seeder, b.torrent))
		}},
		stackDL: {name: "uTP stack  <- libtorrent", done: isDone, start: func(p *path, seeder, dir string, _ []string) (*benchkit.Proc, error) {
			return start("swarmdrop uTP fetch", nil, p.downloader(b.self, "fetch",
				"-torrent", b.torrent, "-peer", seeder, "-dir", dir, "-bind", p.downloaderIP+":0",
				"-timeout", downloadTimeout.String()))
		}},
		libtorrentDL: {name: "libtorrent <- libtorrent", done: isDone, start: func(p *path, seeder, dir string, _ []string) (*benchkit.Proc, error) {
			return start("libtorrent download", nil, p.downloader(benchkit.Python, b.ltpeer, "download", b.torrent, dir,
				"--port", "0", "--ip", p.downloaderIP, "--peer", seeder, "--utp",
				"--seconds", fmt.Sprint(downloadTimeout.Seconds())))
		}},
	}
}

// start starts the command line cmd with env added to this environment.
func start(label string, env, cmd []string) (*benchkit.Proc, error) {
	return benchkit.Start(label, env, cmd[0], cmd[1:]...)
}

// isComplete matches swarmdrop's --json "complete" event.
func isComplete(line string) bool {
	var ev struct {
		Event string `json:"event"`
	}
	return json.Unmarshal([]byte(line), &ev) == nil && ev.Event == "complete"
}

// isDone matches the DONE line of ltpeer and of `utp fetch`.
func isDone(line string) bool { return strings.HasPrefix(line, "DONE ") }

// result is one download's figures.
type result struct {
	done, cpu float64 // seconds
	maxRSS    int64   // KiB
}

// runLink starts a seeder behind link l and measures both downloaders.
func (b *bench) runLink(ctx context.Context, l link, runs int) error {
	if err := b.prepare(ctx, l.size); err != nil {
		return err
	}
	p, err := l.setup(ctx)
	if err != nil {
		return err
	}
	defer p.close()
	seeder, err := start("libtorrent seeder", nil, p.seeder(benchkit.Python, b.ltpeer, "seed", b.torrent, b.cache,
		"--port", "0", "--ip", p.seederIP, "--utp", "--check", "--seconds", "86400"))
	if err != nil {
		return err
	}
	defer seeder.Kill()
	line, err := seeder.WaitPrefix(ctx, 30*time.Second, "LISTENING ")
	if err != nil {
		return err
	}
	addr := p.seederIP + ":" + strings.TrimPrefix(line.Text, "LISTENING ")
	if _, err := seeder.WaitPrefix(ctx, 2*time.Minute, "SEEDING"); err != nil {
		return err
	}
	fmt.Printf("link %s: libtorrent seeder (uTP only) at %s\n", l.name, addr)
	ds := b.downloaders()
	results := make([][]result, len(ds))
	for r := range runs {
		for k := range ds {
			i := (k + r) % len(ds) // alternate who goes first
			res, err := b.measure(ctx, ds[i], p, l.size, addr, r)
			if err != nil {
				return fmt.Errorf("run %d, %s: %w", r+1, ds[i].name, err)
			}
			fmt.Printf("  run %d  %-26s %7.3f s %7.2f MB/s  CPU %6.2f s  peak RSS %7.1f MiB\n",
				r+1, ds[i].name, res.done, mbps(l.size, res.done), res.cpu, float64(res.maxRSS)/1024)
			results[i] = append(results[i], res)
		}
	}
	report(l, runs, ds, results)
	return nil
}

// measure runs one download into a fresh folder, removed afterwards, and
// checks that the whole file arrived.
func (b *bench) measure(ctx context.Context, d downloader, p *path, size int64, seeder string, run int) (result, error) {
	base, err := os.MkdirTemp(b.work, fmt.Sprintf("run%d-", run+1))
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(base)
	dir := filepath.Join(base, "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return result{}, err
	}
	env, err := benchkit.SwarmdropEnv(filepath.Join(base, "xdg"))
	if err != nil {
		return result{}, err
	}
	proc, err := d.start(p, seeder, dir, env)
	if err != nil {
		return result{}, err
	}
	defer proc.Kill()
	done, err := proc.WaitFor(ctx, downloadTimeout, d.done)
	if err != nil {
		return result{}, err
	}
	ended, err := proc.Exit(ctx, 30*time.Second)
	if err != nil && !strings.Contains(err.Error(), "did not exit") {
		return result{}, err
	}
	fi, err := os.Stat(filepath.Join(dir, filepath.Base(b.content)))
	if err != nil || fi.Size() != size {
		return result{}, fmt.Errorf("the downloaded file is missing or short: %v", err)
	}
	return result{done: done.At.Sub(proc.Started).Seconds(), cpu: ended.CPU.Seconds(), maxRSS: ended.MaxRSS}, nil
}

// mbps is the throughput of size bytes in seconds, in MB/s (10^6 bytes).
func mbps(size int64, seconds float64) float64 {
	if seconds <= 0 {
		return 0
	}
	return float64(size) / 1e6 / seconds
}

// report prints the medians and the goal's ratio for one link.
func report(l link, runs int, ds []downloader, results [][]result) {
	fmt.Printf("\nuTP download of %d MiB over %s, %d runs per case, interleaved; medians\n", l.size>>20, l.name, runs)
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
		fmt.Printf("  %-26s %8.3f %8.2f %7.2f %8.1f MiB  %s\n", d.name, med[i].done, mbps(l.size, med[i].done), med[i].cpu, med[i].rss, benchkit.List("%.3f", done))
	}
	fmt.Println("times: process start to the DONE line, Python start-up included for libtorrent; CPU = user+system of the downloader")
	lt := med[libtorrentDL]
	verdict := "met"
	if med[engineDL].done > lt.done {
		verdict = "NOT met"
	}
	fmt.Printf("time ratio swarmdrop/libtorrent: %s (goal <= 1.00: %s); CPU ratio: %s\n",
		benchkit.Ratio(med[engineDL].done, lt.done), verdict, benchkit.Ratio(med[engineDL].cpu, lt.cpu))
	fmt.Printf("uTP stack alone/libtorrent: time %s, CPU %s\n\n",
		benchkit.Ratio(med[stackDL].done, lt.done), benchkit.Ratio(med[stackDL].cpu, lt.cpu))
}
