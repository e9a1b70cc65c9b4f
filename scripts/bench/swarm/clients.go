package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/swarmdrop/swarmdrop/scripts/bench/internal/benchkit"
)

// client is one of the two BitTorrent implementations compared.
type client int

const (
	swarmdrop client = iota
	libtorrent
)

// clients is both, in report order.
var clients = []client{swarmdrop, libtorrent}

func (c client) String() string {
	if c == swarmdrop {
		return "swarmdrop"
	}
	return "libtorrent"
}

// peerPort is every peer's listening port: each has an address of its
// own, so they can all use the same.
const peerPort = 6881

// pollEvery is ltpeer's status poll; Swarmdrop's --json reports from
// snapshots every 100 ms, so both see completion up to 0.1 s late.
const pollEvery = "0.1"

// startSeeder starts a seeder of ct in host i (libtorrent verifies the
// data first, as Swarmdrop does). With counting, it reports every block
// it uploads (see uploadLines).
func (b *bench) startSeeder(n *network, i int, c client, ct content, xdg string, counting bool) (*benchkit.Proc, error) {
	label := fmt.Sprintf("%s seeder %d", c, i)
	if c == libtorrent {
		args := []string{b.ltpeer, "seed", ct.torrent, ct.dir, "--port", fmt.Sprint(peerPort), "--ip", n.ip(i),
			"--check", "--lean", "--seconds", "7200"}
		if *ltUTP {
			args = append(args, "--utp-too")
		}
		if counting {
			args = append(args, "--print-uploads")
		}
		return n.start(i, label, nil, benchkit.Python, args...)
	}
	env, err := benchkit.SwarmdropEnv(xdg)
	if err != nil {
		return nil, err
	}
	args := []string{"seed", "--json", "--no-dht", "--no-upnp", "--port", fmt.Sprint(peerPort), "--bind", n.ip(i),
		"--dir", ct.dir, ct.torrent}
	if !counting {
		return n.start(i, label, env, b.bin, args...)
	}
	// Its debugging lines (standard error) join its standard output.
	env = append(env, uploadLogEnv)
	return n.start(i, label, env, "sh", append([]string{"-c", `exec "$0" "$@" 2>&1`, b.bin}, args...)...)
}

// waitSeeding waits until a seeder has verified its data and seeds.
func waitSeeding(ctx context.Context, p *benchkit.Proc, c client) error {
	var err error
	if c == libtorrent {
		_, err = p.WaitPrefix(ctx, 3*time.Minute, "SEEDING")
	} else {
		_, err = p.WaitFor(ctx, 3*time.Minute, isComplete)
	}
	return err
}

// leecher is one downloading process.
type leecher struct {
	p      *benchkit.Proc
	c      client
	ct     content
	dir    string // where the data goes
	err    error  // why it did not complete, if it did not
	doneAt time.Time
	cpu    float64 // seconds of CPU, once stopped
}

// stop kills the leecher and reads its CPU time; with -debug, its output
// goes to a file there.
func (l *leecher) stop() {
	l.p.Kill()
	l.dump()
	if e, err := l.p.Exit(context.Background(), time.Second); err == nil || e.CPU > 0 {
		l.cpu = e.CPU.Seconds()
	}
}

// dump writes the process's output to a file in -debug's folder.
func (l *leecher) dump() {
	if *debugDir != "" {
		var b strings.Builder
		for _, line := range l.p.Lines() {
			fmt.Fprintf(&b, "%s %s\n", line.At.Format("15:04:05.000"), line.Text)
		}
		name := strings.ReplaceAll(fmt.Sprintf("%s-%s.log", l.p.Name, l.p.Started.Format("150405.000")), " ", "-")
		os.MkdirAll(*debugDir, 0o755)
		os.WriteFile(filepath.Join(*debugDir, name), []byte(b.String()), 0o644)
	}
}

// startLeecher starts a downloader of ct in host i, told of peers
// (host:port). With stay it keeps seeding after completion. timeout
// bounds libtorrent's process (Swarmdrop's is killed by the caller).
// libtorrent's waits, once listening, until goFile exists (see
// launchLeechers).
func (b *bench) startLeecher(n *network, i int, c client, ct content, base, goFile string, peers []string, stay bool, timeout time.Duration) (*leecher, error) {
	l := &leecher{c: c, ct: ct, dir: filepath.Join(base, "data")}
	label := fmt.Sprintf("%s leecher %d", c, i)
	if err := os.MkdirAll(l.dir, 0o755); err != nil {
		return nil, err
	}
	var err error
	if c == libtorrent {
		args := []string{b.ltpeer, "download", ct.torrent, l.dir, "--port", fmt.Sprint(peerPort), "--ip", n.ip(i),
			"--peers", strings.Join(peers, ","), "--lean", "--poll", pollEvery, "--progress", "0.5", "--wait-file", goFile,
			"--seconds", fmt.Sprint(int(timeout.Seconds()))}
		if stay {
			args = append(args, "--stay")
		}
		if *ltUTP {
			args = append(args, "--utp-too")
		}
		l.p, err = n.start(i, label, nil, benchkit.Python, args...)
		return l, err
	}
	env, err := benchkit.SwarmdropEnv(filepath.Join(base, "xdg"))
	if err != nil {
		return nil, err
	}
	args := []string{"download", "--json", "--no-dht", "--no-upnp", "--port", fmt.Sprint(peerPort), "--bind", n.ip(i), "--dir", l.dir}
	for _, p := range peers {
		args = append(args, "--peer", p)
	}
	if stay {
		args = append(args, "--seed")
	}
	args = append(args, ct.torrent)
	if *debugDir == "" {
		l.p, err = n.start(i, label, env, b.bin, args...)
		return l, err
	}
	env = append(env, uploadLogEnv)
	l.p, err = n.start(i, label, env, "sh", append([]string{"-c", `exec "$0" "$@" 2>&1`, b.bin}, args...)...)
	return l, err
}

// launchLeechers starts n leechers of client c with start(k, goFile)
// and returns them with the instant they joined. Python's start-up is
// not counted: libtorrent's processes start first and wait, once
// listening, for the go file, which is made when all of them listen;
// Swarmdrop's processes start at that instant (their start-up counts).
func launchLeechers(ctx context.Context, c client, n int, goFile string, start func(k int, goFile string) (*leecher, error)) ([]*leecher, time.Time, error) {
	var ls []*leecher
	fail := func(err error) ([]*leecher, time.Time, error) {
		for _, l := range ls {
			l.p.Kill()
		}
		return nil, time.Time{}, err
	}
	if c == libtorrent {
		for k := range n {
			l, err := start(k, goFile)
			if err != nil {
				return fail(err)
			}
			ls = append(ls, l)
		}
		for _, l := range ls {
			if _, err := l.p.WaitPrefix(ctx, time.Minute, "LISTENING "); err != nil {
				return fail(err)
			}
		}
		if err := os.WriteFile(goFile, nil, 0o644); err != nil {
			return fail(err)
		}
		return ls, time.Now(), nil
	}
	launch := time.Now()
	for k := range n {
		l, err := start(k, goFile)
		if err != nil {
			return fail(err)
		}
		ls = append(ls, l)
	}
	return ls, launch, nil
}

// waitAll waits for every leecher's completion line, until deadline, each
// in its own goroutine; a leecher that exits first or misses the deadline
// keeps its error.
func waitAll(ctx context.Context, ls []*leecher, deadline time.Time) {
	var wg sync.WaitGroup
	for _, l := range ls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			done := isComplete
			if l.c == libtorrent {
				done = func(s string) bool { return strings.HasPrefix(s, "DONE ") }
			}
			line, err := l.p.WaitFor(ctx, time.Until(deadline), done)
			l.doneAt, l.err = line.At, err
		}()
	}
	wg.Wait()
}

// isComplete matches swarmdrop's --json "complete" event.
func isComplete(line string) bool {
	var ev struct {
		Event string `json:"event"`
	}
	return json.Unmarshal([]byte(line), &ev) == nil && ev.Event == "complete"
}

// leecherResult is one leecher's outcome in one run.
type leecherResult struct {
	total    float64 // seconds from the common launch to completion; NaN if none
	steady   float64 // verified payload bytes/s between 10 % and 90 % done; NaN if unknown
	first    float64 // seconds from launch to 10 % verified; NaN if unknown
	tail     float64 // seconds from 90 % verified to completion; NaN if unknown
	progress float64 // share of the content verified at the end, 0..1
	cpu      float64 // seconds of CPU of the process
	err      error
	last     string // its last output line, for a leecher that did not finish
}

// sample is verified bytes at a time.
type sample struct {
	at    time.Time
	bytes float64
}

// result reads a leecher's lines: its progress and its completion.
func (l *leecher) result(launch time.Time) leecherResult {
	r := leecherResult{total: nan, steady: nan, first: nan, tail: nan, err: l.err, cpu: l.cpu}
	var ss []sample
	lines := l.p.Lines()
	if len(lines) > 0 {
		r.last = lines[len(lines)-1].Text
	}
	for _, line := range lines {
		if l.c == libtorrent {
			f := strings.Fields(line.Text)
			if len(f) == 4 && f[0] == "PROGRESS" {
				if v, err := strconv.ParseFloat(f[2], 64); err == nil {
					ss = append(ss, sample{line.At, v})
				}
			}
			continue
		}
		var ev struct {
			Event      string `json:"event"`
			PiecesHave int    `json:"pieces_have"`
		}
		if json.Unmarshal([]byte(line.Text), &ev) != nil || ev.Event == "" {
			continue
		}
		ss = append(ss, sample{line.At, min(float64(ev.PiecesHave)*float64(l.ct.piece), float64(l.ct.size))})
	}
	if l.err == nil && !l.doneAt.IsZero() {
		r.total = l.doneAt.Sub(launch).Seconds()
		ss = append(ss, sample{l.doneAt, float64(l.ct.size)})
	}
	if len(ss) > 0 {
		r.progress = ss[len(ss)-1].bytes / float64(l.ct.size)
	}
	t10, ok1 := crossing(ss, 0.1*float64(l.ct.size))
	t90, ok2 := crossing(ss, 0.9*float64(l.ct.size))
	if ok1 && ok2 && t90.After(t10) {
		r.steady = 0.8 * float64(l.ct.size) / t90.Sub(t10).Seconds()
	}
	if ok1 {
		r.first = t10.Sub(launch).Seconds()
	}
	if ok2 && !l.doneAt.IsZero() && l.err == nil {
		r.tail = l.doneAt.Sub(t90).Seconds()
	}
	return r
}

// crossing interpolates when the samples reached v.
func crossing(ss []sample, v float64) (time.Time, bool) {
	for i, s := range ss {
		if s.bytes < v {
			continue
		}
		if i == 0 {
			return s.at, true
		}
		p := ss[i-1]
		if s.bytes == p.bytes {
			return s.at, true
		}
		f := (v - p.bytes) / (s.bytes - p.bytes)
		return p.at.Add(time.Duration(f * float64(s.at.Sub(p.at)))), true
	}
	return time.Time{}, false
}
