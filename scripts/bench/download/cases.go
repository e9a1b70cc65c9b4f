package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/swarmdrop/swarmdrop/scripts/bench/internal/benchkit"
)

// downloadTimeout bounds one download of the 1 GiB torrent.
const downloadTimeout = 5 * time.Minute

// dlCase is one downloader/seeder pairing.
type dlCase struct {
	name  string
	start func(dir string, env []string) (*benchkit.Proc, error)
	done  func(line string) bool
}

// result is one download's figures: seconds to the completion line and to
// exit, CPU seconds (user plus system) and the peak RSS in KiB.
type result struct {
	done, exit, cpu float64
	maxRSS          int64
}

// The case indexes, in report order.
const (
	sdFromLT = iota
	ltFromLT
	sdFromSD
	ltFromSD
)

// cases returns the four pairings; the report relies on their order.
func (b *bench) cases() []dlCase {
	return []dlCase{
		sdFromLT: {name: "swarmdrop  <- libtorrent", start: b.swarmdrop(b.ltSeeder), done: isComplete},
		ltFromLT: {name: "libtorrent <- libtorrent", start: b.libtorrent(b.ltSeeder), done: isDone},
		sdFromSD: {name: "swarmdrop  <- swarmdrop", start: b.swarmdrop(b.sdSeeder), done: isComplete},
		ltFromSD: {name: "libtorrent <- swarmdrop", start: b.libtorrent(b.sdSeeder), done: isDone},
	}
}

// swarmdrop starts our downloader with its own empty XDG folders (env).
func (b *bench) swarmdrop(seeder string) func(dir string, env []string) (*benchkit.Proc, error) {
	return func(dir string, env []string) (*benchkit.Proc, error) {
		return benchkit.Start("swarmdrop download", env, b.bin, "download", "--json", "--no-upnp", "--no-dht",
			"--port", "0", "--bind", "127.0.0.1", "--dir", dir, "--peer", seeder, b.torrent)
	}
}

// libtorrent starts ltpeer's downloader (DHT off).
func (b *bench) libtorrent(seeder string) func(dir string, env []string) (*benchkit.Proc, error) {
	return func(dir string, _ []string) (*benchkit.Proc, error) {
		return benchkit.Start("libtorrent download", nil, benchkit.Python, b.ltpeer, "download", b.torrent, dir,
			"--port", "0", "--ip", "127.0.0.1", "--peer", seeder, "--seconds", fmt.Sprint(downloadTimeout.Seconds()))
	}
}

// measure runs one download into a fresh folder, removed afterwards.
func (b *bench) measure(ctx context.Context, c dlCase, run int) (result, error) {
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
	p, err := c.start(dir, env)
	if err != nil {
		return result{}, err
	}
	defer p.Kill()
	done, err := p.WaitFor(ctx, downloadTimeout, c.done)
	if err != nil {
		return result{}, err
	}
	ended, err := p.Exit(ctx, 30*time.Second)
	if err != nil {
		return result{}, err
	}
	if err := checkSize(filepath.Join(dir, "1GiB.bin")); err != nil {
		return result{}, err
	}
	return result{
		done:   done.At.Sub(p.Started).Seconds(),
		exit:   ended.At.Sub(p.Started).Seconds(),
		cpu:    ended.CPU.Seconds(),
		maxRSS: ended.MaxRSS,
	}, nil
}

// checkSize makes sure the download left a whole file behind.
func checkSize(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("downloaded file: %w", err)
	}
	if fi.Size() != benchkit.ContentSize {
		return fmt.Errorf("downloaded file has %d bytes, want %d", fi.Size(), benchkit.ContentSize)
	}
	return nil
}

// isComplete matches swarmdrop's --json "complete" event.
func isComplete(line string) bool {
	var ev struct {
		Event string `json:"event"`
	}
	return json.Unmarshal([]byte(line), &ev) == nil && ev.Event == "complete"
}

// isDone matches ltpeer's DONE line.
func isDone(line string) bool { return strings.HasPrefix(line, "DONE ") }

// mbps is the throughput of the 1 GiB content in MB/s (10^6 bytes).
func mbps(seconds float64) float64 {
	if seconds <= 0 {
		return 0
	}
	return benchkit.ContentSize / 1e6 / seconds
}

// mib converts KiB to MiB.
func mib(kib int64) float64 { return float64(kib) / 1024 }
