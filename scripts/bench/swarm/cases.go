package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/linkem"
)

// nan marks a figure that was not measured.
var nan = math.NaN()

// benchCase is one scenario: its links, its content, what is set up once
// (seeders that serve every run) and one run of one client.
type benchCase struct {
	name, title string
	tag         string // namespace tag (linkem: up to 8 letters and digits)
	file        string // content file name in the cache
	size, piece int64
	hosts       []linkem.Host
	// runTimeout bounds one run of one client; a run starts only when
	// the budget has that much left.
	runTimeout time.Duration
	// prepare starts what serves every run; its stop ends it.
	prepare func(ctx context.Context, b *bench, n *network, ct content) (stop func(), err error)
	// measure runs client c once.
	measure func(ctx context.Context, b *bench, n *network, ct content, c client, deadline time.Time) (runResult, error)
	// linkRate is the rate the goal compares with (long fat link only).
	linkRate float64 // bits/s
	// tcpFrom and tcpTo, when different, are the hosts of a plain TCP
	// transfer measured in each run before the clients (tcpReference).
	tcpFrom, tcpTo int
}

// cases lists the scenarios in run order.
func (b *bench) cases() []benchCase {
	return []benchCase{longFat(libtorrent), longFat(swarmdrop), mixedSwarm(), flashCrowd(*leechers)}
}

// runResult is one run of one client.
type runResult struct {
	c        client
	leechers []leecherResult
	spread   spread  // flash crowd: how the seeder gave out pieces
	cpu      float64 // seconds of CPU of the run's processes (leechers; the flash crowd's seeder too)
	link     linkFigures
	load     string // load average after the run
}

// linkFigures is what the emulator did during one run.
type linkFigures struct {
	cpu        float64 // seconds of the emulator's CPU
	dropped    uint64  // packets dropped by full queues or buffers
	lost       uint64  // packets lost at random
	meanLateUS float64 // mean lateness of releases, µs
}

// caseReport is every run of a case.
type caseReport struct {
	c    benchCase
	runs [2][]runResult // by client
	tcp  []float64      // plain TCP steady rates, bytes/s, one per run
	note string
}

// liveCase is a case set up for its runs: content, network and the
// seeders that serve every run.
type liveCase struct {
	c    benchCase
	ct   content
	n    *network
	stop func()
	rep  caseReport
}

// setUp makes a case's content, network and seeders.
func (b *bench) setUp(ctx context.Context, c benchCase) (*liveCase, error) {
	ct, err := b.makeContent(ctx, c.file, c.size, c.piece)
	if err != nil {
		return nil, err
	}
	n, err := startNetwork(ctx, c.tag, c.hosts)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	stop, err := c.prepare(ctx, b, n, ct)
	if err != nil {
		n.close()
		return nil, err
	}
	fmt.Printf("  %-10s %s (ready in %.1f s)\n", c.name, c.title, time.Since(t0).Seconds())
	return &liveCase{c: c, ct: ct, n: n, stop: stop, rep: caseReport{c: c}}, nil
}

// tearDown ends a case's processes and removes its network.
func (lc *liveCase) tearDown() {
	lc.stop()
	lc.n.close()
}

// runOnce runs the plain TCP reference (if the case has one) and each
// client once, the clients alternating first from run to run. It returns
// false when the budget has no room left for the case.
func (b *bench) runOnce(ctx context.Context, lc *liveCase, r int) (bool, error) {
	c, n := lc.c, lc.n
	budgetEnd, _ := ctx.Deadline()
	if time.Until(budgetEnd) < c.runTimeout {
		lc.rep.note = fmt.Sprintf("stopped after %d runs: the budget ends", r)
		fmt.Printf("  %-10s %s\n", c.name, lc.rep.note)
		return false, nil
	}
	if c.tcpFrom != c.tcpTo {
		before := n.stats()
		rate, err := tcpReference(ctx, n, c.tcpFrom, c.tcpTo)
		if err != nil {
			return false, err
		}
		lf := linkDelta(before, n.stats())
		lc.rep.tcp = append(lc.rep.tcp, rate)
		fmt.Printf("  %-10s %-10s steady %5.1f Mbit/s (one plain TCP connection, %d MiB)  | emulator %.1f s CPU, %d dropped, %d lost\n",
			c.name, "tcp", mbit(rate), tcpSize>>20, lf.cpu, lf.dropped, lf.lost)
	}
	for k := range clients {
		cl := clients[(k+r)%len(clients)]
		if !chosenClient(cl) {
			continue
		}
		deadline := time.Now().Add(c.runTimeout)
		if budgetEnd.Before(deadline) {
			deadline = budgetEnd
		}
		before := n.stats()
		res, err := c.measure(ctx, b, n, lc.ct, cl, deadline)
		if err != nil {
			return false, fmt.Errorf("run %d, %s: %w", r+1, cl, err)
		}
		res.c = cl
		after := n.stats()
		res.link = linkDelta(before, after)
		if *verbose {
			printLinks(before, after)
		}
		res.load = loadAverage()
		lc.rep.runs[cl] = append(lc.rep.runs[cl], res)
		printRun(c, res)
	}
	return true, nil
}

// linkDelta is what the emulator did between two snapshots.
func linkDelta(a, b linkem.Stats) linkFigures {
	f := linkFigures{cpu: (b.CPU - a.CPU).Seconds()}
	for i := range b.Up {
		for _, pair := range [][2]linkem.LinkStats{{a.Up[i], b.Up[i]}, {a.Down[i], b.Down[i]}} {
			f.dropped += pair[1].Dropped + pair[1].Overflow - pair[0].Dropped - pair[0].Overflow
			f.lost += pair[1].Lost - pair[0].Lost
		}
	}
	f.dropped += b.NoBuffer - a.NoBuffer
	if rel := b.Released - a.Released; rel > 0 {
		f.meanLateUS = float64(b.Late-a.Late) / float64(rel) / 1e3
	}
	return f
}

// printLinks prints what each link direction did between two snapshots
// (-v).
func printLinks(a, b linkem.Stats) {
	for i := range b.Up {
		for d, pair := range [][2]linkem.LinkStats{{a.Up[i], b.Up[i]}, {a.Down[i], b.Down[i]}} {
			x, y := pair[0], pair[1]
			if y.Packets == x.Packets {
				continue
			}
			fmt.Printf("    host %2d %-4s %8d packets %6d lost %6d dropped %6d overflow  peak queue %8d of %8d  peak held %8d of %8d\n",
				i, [2]string{"up", "down"}[d], y.Packets-x.Packets, y.Lost-x.Lost, y.Dropped-x.Dropped, y.Overflow-x.Overflow,
				y.PeakQueue, y.QueueLimit, y.PeakHeld, y.HoldLimit)
		}
	}
	fmt.Printf("    no buffer %d, unroutable %d, too long %d, write failed %d, max late %v\n",
		b.NoBuffer-a.NoBuffer, b.Unroutable-a.Unroutable, b.TooLong-a.TooLong, b.WriteFail-a.WriteFail, b.MaxLate)
}

// loadAverage is the 1-, 5- and 15-minute load averages.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	var l1, l5, l15 string
	fmt.Sscan(string(b), &l1, &l5, &l15)
	return l1 + " " + l5 + " " + l15
}

// congestionControl is the host's TCP congestion control.
func congestionControl() string {
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_congestion_control")
	if err != nil {
		return "?"
	}
	return string(b[:len(b)-1])
}

// downloadOnce runs one leecher of c in host i against peers and returns
// its result; its folder is removed afterwards.
func downloadOnce(ctx context.Context, b *bench, n *network, ct content, c client, i int, peers []string, deadline time.Time) (runResult, error) {
	base, err := b.runDir(c.String())
	if err != nil {
		return runResult{}, err
	}
	defer os.RemoveAll(base)
	ls, launch, err := launchLeechers(ctx, c, 1, filepath.Join(base, "go"), func(_ int, goFile string) (*leecher, error) {
		return b.startLeecher(n, i, c, ct, base, goFile, peers, false, time.Until(deadline)+time.Minute)
	})
	if err != nil {
		return runResult{}, err
	}
	l := ls[0]
	deadline = launch.Add(time.Until(deadline))
	waitAll(ctx, ls, deadline)
	l.stop()
	if ctx.Err() != nil {
		return runResult{}, ctx.Err()
	}
	r := l.result(launch)
	return runResult{leechers: []leecherResult{r}, cpu: r.cpu}, nil
}
