// Command hostile is `make bench-hostile`: each attack of
// internal/hostile against a real `swarmdrop seed` process (built from the
// tree with -tags nogui) seeding a 128 MiB torrent (64 KiB pieces, a 40 KB
// info dictionary) on 127.0.0.1, with a real downloader (libtorrent,
// through ltpeer.py) fetching the torrent RUNS times without the attack
// and RUNS times next to it, interleaved. Every attack gets a seeder of
// its own, started fresh.
//
// It prints, per attack, the seeder's peak RSS (VmHWM from /proc, reset
// when each download starts), the seeder's CPU time per second of each
// download window (from /proc), the median download times without and
// with the attack and their ratio, against issue 13's goals: peak RSS
// under 150 MiB in every case, a download at most 1.5x slower next to any
// attack. Then what each attack saw: flood rounds and how soon the seeder
// hung up, idle connections held, the seeder's routing table entries from
// the poisoner's one IP address (read from the table it saves on exit),
// and the bytes that came back per query byte for each DHT query type
// from a source the seeder had never heard from.
//
// Everything runs on loopback (127.0.0.0/8); every attack is bounded in
// count and in time (its window: a warm-up plus the download, at most
// downloadTimeout).
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/scripts/bench/internal/benchkit"
)

// contentSize is the size of the seeded file.
const contentSize = 128 << 20

// only selects cases by name, for a quicker look at one attack.
var only = flag.String("only", "", "run only the cases whose name contains this text")

func main() { benchkit.Main("bench-hostile", run) }

// run prepares the content and the torrent, runs every case and prints
// the report.
func run(ctx context.Context, runs int) error {
	start := time.Now()
	b, err := newBench(ctx)
	if err != nil {
		return err
	}
	defer os.RemoveAll(b.work)
	defer b.sink.Close()
	var results []caseResult
	for _, c := range cases() {
		if !strings.Contains(c.name, *only) {
			continue
		}
		fmt.Printf("\n== %s\n", c.name)
		r, err := b.runCase(ctx, c, runs)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		results = append(results, r)
	}
	report(runs, results)
	fmt.Printf("whole benchmark: %.0f s\n", time.Since(start).Seconds())
	fmt.Println("load after:", benchkit.Uptime())
	return nil
}

// bench is the shared setup.
type bench struct {
	root, cache, work string
	bin, ltpeer       string
	torrent           string
	mi                *metainfo.MetaInfo
	// sink is a UDP socket nobody reads, the torrent's one DHT contact, so
	// that no seeder looks for contacts beyond loopback.
	sink net.PacketConn
}

// newBench builds swarmdrop, makes sure the content exists and creates the
// torrent in a fresh work folder.
func newBench(ctx context.Context) (_ *bench, err error) {
	root, err := benchkit.ModuleRoot()
	if err != nil {
		return nil, err
	}
	cache, err := benchkit.CacheDir()
	if err != nil {
		return nil, err
	}
	b := &bench{root: root, cache: cache, ltpeer: benchkit.LTPeer(root)}
	if b.work, err = os.MkdirTemp("", "swarmdrop-bench-hostile-"); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(b.work)
			if b.sink != nil {
				b.sink.Close()
			}
		}
	}()
	// The binary goes into the work folder, not the shared cache, where
	// another tree's benchmark may be building its own.
	if b.bin, err = benchkit.BuildSwarmdrop(ctx, root, b.work); err != nil {
		return nil, err
	}
	content, err := ensureContent(cache, "hostile-128MiB.bin", contentSize)
	if err != nil {
		return nil, err
	}
	if b.sink, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
		return nil, err
	}
	b.torrent = filepath.Join(b.work, "hostile-128MiB.torrent")
	p, err := benchkit.Start("swarmdrop create", nil, b.bin, "create", "--quiet",
		"--nodes", b.sink.LocalAddr().String(), "--piece-length", "64K", "-o", b.torrent, content)
	if err != nil {
		return nil, err
	}
	if _, err := p.Exit(ctx, 120*time.Second); err != nil {
		return nil, fmt.Errorf("creating the torrent: %w", err)
	}
	data, err := os.ReadFile(b.torrent)
	if err != nil {
		return nil, err
	}
	if b.mi, err = metainfo.Parse(data); err != nil {
		return nil, err
	}
	fmt.Printf("torrent: %d pieces of %d KiB, info dictionary %d bytes\n",
		b.mi.Info.NumPieces(), b.mi.Info.PieceLength>>10, len(b.mi.InfoBytes))
	return b, nil
}

// ensureContent returns dir/name, a file of size random bytes made the
// first time, read once so that it is in the page cache.
func ensureContent(dir, name string, size int64) (string, error) {
	path := filepath.Join(dir, name)
	if fi, err := os.Stat(path); err != nil || fi.Size() != size {
		fmt.Printf("making %s (once)\n", path)
		f, err := os.Create(path + ".tmp")
		if err != nil {
			return "", err
		}
		if _, err := io.CopyN(f, rand.Reader, size); err != nil {
			f.Close()
			return "", err
		}
		if err := f.Close(); err != nil {
			return "", err
		}
		if err := os.Rename(path+".tmp", path); err != nil {
			return "", err
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := io.Copy(io.Discard, f); err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	return path, nil
}
