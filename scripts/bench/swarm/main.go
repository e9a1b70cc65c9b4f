// Command swarm is `make bench-swarm`: Swarmdrop and libtorrent compared
// on an emulated internet (issue 17). Every peer runs in a network
// namespace of its own behind a link of internal/linkem (delay, jitter,
// random loss, a rate and a bounded queue); nothing leaves the machine.
// Every case is set up first (all namespaces and seeders at once); then
// each run goes through the cases in turn, both clients under the same
// links, the two alternating first, so that the machine's changing load
// falls on every case alike:
//
//   - long fat link (longfat, longfat-sd): a seeder behind 100 Mbit/s,
//     200 ms round trip, 0.1 % loss each way; one downloader; 256 MiB;
//     once from a libtorrent seeder and once from a Swarmdrop seeder
//     (what the seeder does bounds the downloader), with a plain TCP
//     transfer on the same link in each run as the ceiling.
//   - mixed swarm: 16 seeders (8 libtorrent, 8 Swarmdrop, alternating) on
//     links of 2-50 Mbit/s, 20-300 ms, 0-1 % loss, one of them very slow
//     (0.25 Mbit/s); one downloader; 512 MiB.
//   - flash crowd: one seeder behind 20 Mbit/s and -leechers leechers
//     joining at once, all of one client; 16 MiB. The seeder's uploads
//     are counted per piece (ltpeer --print-uploads, the Swarmdrop
//     seeder's debug log). -leechers (LEECHERS) is 20 by default, as
//     the issue asks; it was 10 while Swarmdrop dialed uTP first, whose
//     CPU in Go starved a 2-core machine (12-17 s of client CPU and 16 s
//     of emulator CPU in runs of 20-30 s, load average 30-43).
//
// Times run from the instant the leechers join: libtorrent's processes
// (ltpeer.py) start first and wait, once listening, for a go file, so
// that Python's start-up is not counted; Swarmdrop's processes start at
// that instant, their start-up counted. Seeders are ready before.
//
// It prints each run, a table of medians with the goals, and
// writes a PNG of the completion times (-png, default
// bench-swarm.png in the working directory). The whole benchmark stops by
// itself within -budget (default 14m from its start, building the
// swarmdrop binary included; `go run` compiles this program before):
// a download that does not finish in its case's time is reported as
// such, and a run that the budget has no room for is not started.
//
// Measured on 3 December 2026, 04:11-04:24, make bench-swarm RUNS=3, 20
// leechers, with the reqq we announce raised from 500 to 2,000
// (engine/swarm/peer.go) and optimistic unchokes for newcomers
// (engine/swarm/choke.go), the machine otherwise idle (load 4-21 from
// the benchmark itself), medians, Swarmdrop against libtorrent:
//
//   - long fat link from the Swarmdrop seeder: steady 92.4 Mbit/s (92.4,
//     93.0, 91.9: met) against 93.4, plain TCP 94.0; done 26.1 s against
//     28.1. With a reqq of 500 both downloaders ran out of requests: on
//     the quiet machine at 03:14, -cases longfat-sd RUNS=3, Swarmdrop
//     90.9 (90.6, 90.9, 91.7) and libtorrent 90.7; with 2,000, in the two
//     invocations after, 94.0 (94.0, 94.3, 91.5) and 93.9 (93.0, 93.9,
//     95.1), libtorrent 93.4 and 92.0, and 92.9 (94.5, 92.9, 92.8) in a
//     whole make bench-swarm at 03:31. Each loss holds TCP's in-order
//     delivery, and the requests that follow, for a round trip: 500
//     blocks (8 MiB) barely covered what is in flight, queued at the
//     link and held out of order.
//   - long fat link from the libtorrent seeder: steady 89.6 Mbit/s (85.5,
//     90.4, 89.6) against libtorrent's own 86.3, plain TCP 94.5 (87.5 and
//     88.7 at 03:31, 87.5 at 03:23): bounded by libtorrent's upload (BBR
//     kept in STARTUP: 46-52 thousand packets dropped at the link's queue
//     per run against 3-8 thousand from the Swarmdrop seeder; see below),
//     for both downloaders alike.
//   - mixed swarm: 35.1 s against 44.9 (0.78x: met); last 10 % 4.0 s
//     against 13.2.
//   - flash crowd of 20: mean 16.8 s against 21.0 (0.80x: met), last
//     leecher 18.9 s against 21.5; the Swarmdrop seeder 2.08 copies,
//     99-100 % of pieces sent once before any reached 5 copies
//     (libtorrent's 59-87 %, 2.77 copies). Before the newcomer unchokes
//     (03:31, and -cases flash -clients swarmdrop -debug, 7 runs) one or
//     two leechers in most runs finished 4-7 s after the others (last
//     23.0 s against a mean of 16.8): choked by every peer from their
//     second second to their fourteenth, having joined last, they got no
//     regular slot (nothing to give) and waited for a random optimistic
//     unchoke held 30 s; in 5 of 100 leechers a stall of 9-11 s, after
//     the change 1 of 80 (8.6 s).
//
// Measured on 2 December 2026, 23:44-23:59, with outgoing connections
// racing TCP and uTP, TCP winning a tie (engine/dial.go), the machine
// otherwise idle (load 1-12), medians, Swarmdrop against libtorrent:
//
//   - RUNS=2, -cases mixed,flash,longfat-sd: mixed swarm 34.7 s against
//     45.1 (0.77x: met; last 10 % 3.6 s against 13.1); flash crowd of 20
//     mean 16.6 s against 19.9 (0.83x: met), the Swarmdrop seeder 2.08
//     copies and every piece sent once before any reached 5 copies (its
//     libtorrent counterpart 33-89 %); long fat link from the Swarmdrop
//     seeder steady 89.2 Mbit/s (88.9, 89.4: NOT met), libtorrent 86.7.
//   - RUNS=3, -cases longfat-sd,longfat, our reqq raised from 500 to
//     2,000 (not kept: no gain seen): from the libtorrent seeder 88.6
//     Mbit/s (88.7, 80.2, 88.6) against libtorrent's 85.4; from the
//     Swarmdrop seeder 87.1 (87.1, 90.9, 81.9) against 86.3. The plain TCP
//     reference on the same links varied 79-103 Mbit/s between runs: on
//     this link (BBR under 0.1 % loss, 200 ms) single transfers vary by
//     a fifth, and the 90 % goal is met in some runs, not reliably.
//
// Earlier the same evening, 23:05-23:17, outgoing connections TCP first
// (uTP after 1 s), make bench-swarm RUNS=3, 20 leechers, load 0.1 before
// and 10-24 during:
//
//   - long fat link from the libtorrent seeder: done 26.7 s against 28.1
//     (0.95x); steady 89.0 Mbit/s against 88.0, plain TCP 91.9: the 90 %
//     goal is missed by a point, bounded by libtorrent's upload (its
//     socket runs dry, BBR stays in STARTUP and the link drops 48-59
//     thousand of its packets per run, see below).
//   - long fat link from the Swarmdrop seeder: done 26.3 s against 30.2
//     (0.87x); steady 92.6 Mbit/s against 84.0, plain TCP 96.6: met.
//   - mixed swarm: 34.9 s against 45.4 (0.77x, goal 0.9x: met; runs
//     35.6/34.9/34.9 against 45.4/44.5/46.3); last 10 % 3.8 s against
//     13.3 (the slow peer does not stall the end game).
//   - flash crowd, 20 leechers: mean 16.5 s against 20.5 (0.81x, goal
//     0.9x: met; runs 16.5/16.9/16.2 against 22.5/20.5/20.4), last
//     leecher 18.8 s against 20.8; the Swarmdrop seeder sent every piece
//     once before any reached 5 copies in all 3 runs (2.07 copies in
//     all; libtorrent's 43-80 %, 2.84 copies). Clients' CPU 18.6 s per
//     run against libtorrent's 21.1 (uTP first: 16-18 s for 10 leechers).
//     With 10 leechers (RUNS=2, 22:57): 14.5 s against 18.5 (0.78x).
//
// Measured on 2 December 2026 (make bench-swarm RUNS=3, 10 leechers, a
// 2-core machine shared with other work, load averages 8-25), medians,
// Swarmdrop against libtorrent:
//
//   - long fat link from the libtorrent seeder: done 27.0 s against 28.7
//     (0.94x); steady 86.3 Mbit/s against 87.0, plain TCP 94.5: the goal
//     of 90 % of the link is NOT met from this seeder, and it bounds both
//     downloaders alike (the link drops 42-54 thousand of its packets at
//     the full queue in each run, against 3-12 thousand from the
//     Swarmdrop seeder).
//   - long fat link from the Swarmdrop seeder: 26.3 s against 29.2
//     (0.90x); steady 91.7 Mbit/s against 87.8, plain TCP 94.3: met.
//   - mixed swarm: 35.6 s against 46.1 (0.77x, goal 0.9x: met); last 10 %
//     3.8 s against 13.1 (the slow peer does not stall the end game).
//   - flash crowd: mean 15.7 s against 17.2 (0.91x, goal 0.9x: just
//     missed; right after, -cases flash -runs 4: 15.5 s against 17.2,
//     0.90x, met; libtorrent's mean varies 16.6-19.3 s between runs);
//     the Swarmdrop seeder sent every piece once before any reached 5
//     copies in 6 of 7 runs (75 % in the other; 2.05 copies in all,
//     libtorrent's seeder 2.39-2.45). The leechers' uploads bound it:
//     16 MiB to 10 leechers over 20 + 10 x 10 Mbit/s takes 11.2 s at
//     best.
//
// Before the request changes of the same branch (RUNS=2, load 4-30):
// long fat link 28.1 s (steady 85.9) and 26.9 s (89.9), mixed swarm
// 36.1 s, flash crowd mean 16.0 s (0.86x of libtorrent's 18.7). The
// changes: request slow start lasts while a peer's rate climbs (the first
// 10 % of the long fat link 5.9 -> 4.8 s), and minQueue 8 instead of 32
// (a flash crowd of ten Swarmdrop leechers, alone: mean 16.1 -> 14.9 s).
// What bounds the long fat link is TCP under loss, not the request queue:
// it holds 1,000-1,500 blocks (16-24 MiB, several times the 2.5 MB of
// bandwidth x delay), since each loss stops TCP's in-order delivery for a
// round trip; capped at 320 blocks (twice bandwidth x delay) the steady
// rate fell to 70 Mbit/s, and 3 s of rate instead of 1.5 s gained
// nothing measurable (88 Mbit/s, within the noise).
//
// Why the libtorrent seeder bounds both downloaders (2 December, ss -tin
// in the seeder's namespace during the runs): ltpeer runs libtorrent with
// uTP off, so Swarmdrop's uTP attempt gets no answer and TCP connects
// after the dialer's 1 s head start (Swarmdrop's first 10 % 5.8-6.9 s,
// libtorrent's, which dials TCP at once, 6.3-7.1 s). The namespaces'
// congestion control is BBR. libtorrent's upload leaves its socket short
// of data now and then (it buffers at most 500 KiB above the socket), so
// every round trip is marked application-limited and BBR never leaves
// STARTUP: pacing and window gain 2.89 for the whole download, about
// 5,000 packets in flight (2.9x bandwidth x delay) against a queue of one
// bandwidth x delay, so the link drops a fifth of the seeder's packets
// at its full queue (40-50 thousand per run), and retransmissions lost
// in turn end in timeouts (a window of 4 packets seen mid-run). A source
// that always has data (the plain TCP reference) leaves STARTUP and gets
// 92-98 Mbit/s. The downloader cannot fix this: 2,000 requests
// outstanding (31 MiB, libtorrent's reqq) changed nothing (85.0 Mbit/s;
// the seeder's socket still ran dry with 11 of its 16 MiB of buffer
// used); a receive window clamp (TCP_WINDOW_CLAMP) at 1.8x bandwidth x
// delay, which would keep BBR's flight within the queue, is undone by
// the kernel's receive autotuning, and SO_RCVBUF is capped by rmem_max,
// which a namespace cannot raise.
//
// After the request queue became a span of 8 round trips (0.5-1.5 s of
// rate) instead of 1.5 s for every peer (branch wan, RUNS=3, load
// averages 8-20 from other work on the machine): flash crowd mean 16.4 s
// against libtorrent's 18.2 s (0.90x; runs 15.5/17.4, 16.4/18.2,
// 17.9/18.4, the last as the load rose), the Swarmdrop seeder 1.85
// copies, every piece sent once 12.0-13.9 s after joining (libtorrent's
// 15.8-16.7 s); Swarmdrop alone, the two queues alternating: mean 16.0,
// 16.2, 15.2, 15.5 s against 18.0, 16.7, 17.1, 16.2 s with 1.5 s. The
// Swarmdrop leechers and seeder use 16-18 s of CPU per run against
// libtorrent's 9-10 s (uTP in Go against the kernel's TCP), so the ratio
// worsens when the machine is busy (0.98x in a run at load 18-20). Long
// fat link from the libtorrent seeder: steady 82.0 Mbit/s against
// libtorrent's 84.6 (plain TCP 95.0; 86-89 in other runs of the day):
// unchanged, for the reason below.
//
// What costs Swarmdrop most in the mixed swarm and the flash crowd is uTP
// (measured the same evening by adding --no-utp to the Swarmdrop
// leechers, which the benchmark does not do): ltpeer runs libtorrent
// with uTP off, so libtorrent trades over TCP (BBR here, which ignores
// random loss) while Swarmdrop's dialer prefers uTP (LEDBAT, which halves
// its window on each loss, and costs twice the CPU in Go). Mixed swarm:
// 46.3 and 46.9 s over uTP-first (libtorrent 45.3 and 45.7 s, 1.02x),
// 35.8 s over TCP; flash crowd, Swarmdrop alone at load 20: 14.7 and 14.6
// s over TCP with 7.8-8.9 s of client CPU, 15.5-17.9 s over uTP with
// 16-18 s. The request queue change does not cause the mixed swarm's
// slowdown: with 1.5 s for every peer it took 52.4 and 51.6 s.
//
// uTP's loss response since (branch utploss, engine/utp/cc.go): a loss
// while the queuing delay is under a quarter of LEDBAT's target cuts the
// window by a fifth instead of half. Mixed swarm only, one run per
// invocation, before (the branch's base) and after alternating, 2
// December 20:37-20:51, load averages 3-40 from other work: Swarmdrop
// 47.5, 49.5, 47.7, 48.0 s before (libtorrent in the same invocations
// 46.3, 46.6, 46.1, 44.2 s; 1.03-1.09x), 44.7, 47.3, 47.2 s after
// (libtorrent 46.2, 45.8, 46.0 s; 0.97-1.03x); steady 96-104 Mbit/s
// before, 101-105 after. A gain of a few per cent at most, within the
// noise. What bounds uTP on these links is more likely LEDBAT's growth
// of at most gainBytes (3,000 bytes, as libtorrent) per round trip: at
// 1 % loss nearly every round trip of a window of a few dozen packets
// sees a loss, so the window settles where a round trip's growth equals
// the expected cut (about 35 packets with a fifth off, 22 with half, by
// arithmetic, not measured), far below bandwidth x delay at 50 Mbit/s
// and 300 ms. One diagnostic run with gainBytes 12,000 (not kept): 43.4 s
// against libtorrent's 44.6 s, steady 113 Mbit/s; TCP (--no-utp) took
// 35.8 s. Swarmdrop's first 10 % (8-9 s against libtorrent's 6-7 s) also
// pays the dialer's 1 s uTP head start at the libtorrent seeders, which
// run with uTP off.
//
// Every namespace gets the same sysctls (sysctls below), printed at the
// start; both clients see the same links and the same TCP settings.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/swarmdrop/swarmdrop/scripts/bench/internal/benchkit"
)

var (
	budget   = flag.Duration("budget", 14*time.Minute, "the whole benchmark stops after this")
	only     = flag.String("cases", "longfat,longfat-sd,mixed,flash", "cases to run, comma-separated")
	onlyFor  = flag.String("clients", "swarmdrop,libtorrent", "clients to measure, comma-separated (diagnosis)")
	leechers = flag.Int("leechers", 20, "leechers of the flash crowd")
	pngPath  = flag.String("png", "bench-swarm.png", "where the plot goes")
	verbose  = flag.Bool("v", false, "print what each link did in each run")
	ltUTP    = flag.Bool("lt-utp", false, "run libtorrent with uTP on as well as TCP, its own defaults (ltpeer --utp-too); by default libtorrent runs TCP only")
	debugDir = flag.String("debug", "", "a folder for every leecher's output, Swarmdrop's debugging lines included (diagnosis)")
)

func main() {
	if len(os.Args) > 1 && strings.HasPrefix(os.Args[1], "tcp-") {
		os.Exit(tcpMain(os.Args[1:]))
	}
	benchkit.Main("bench-swarm", run)
}

// run prepares the binaries and content, runs the chosen cases and
// reports; what was measured is reported even when the budget ran out.
func run(ctx context.Context, runs int) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("needs root: it makes network namespaces")
	}
	ctx, cancel := context.WithTimeout(ctx, *budget)
	defer cancel()
	b, err := newBench(ctx)
	if err != nil {
		return err
	}
	defer os.RemoveAll(b.work)
	fmt.Printf("sysctls in every namespace: %s\n", sysctlList())
	fmt.Println("\nsetting up")
	var lives []*liveCase
	defer func() {
		benchkit.KillAll() // before the namespaces go
		for _, lc := range lives {
			lc.tearDown()
		}
	}()
	for _, c := range b.cases() {
		if !chosen(c.name) {
			continue
		}
		lc, err := b.setUp(ctx, c)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		lives = append(lives, lc)
	}
	var runErr error
	active := slices.Clone(lives)
	for r := 0; r < runs && len(active) > 0 && runErr == nil; r++ {
		fmt.Printf("\nrun %d of %d (load %s)\n", r+1, runs, loadAverage())
		for i := 0; i < len(active); {
			more, err := b.runOnce(ctx, active[i], r)
			if err != nil {
				runErr = fmt.Errorf("%s: %w", active[i].c.name, err)
				fmt.Println("  stopped:", runErr)
				break
			}
			if !more {
				active = slices.Delete(active, i, i+1)
				continue
			}
			i++
		}
	}
	var reports []caseReport
	for _, lc := range lives {
		reports = append(reports, lc.rep)
	}
	report(reports, runs)
	if err := writePlot(*pngPath, reports); err != nil {
		fmt.Println("plot:", err)
	} else {
		abs, _ := filepath.Abs(*pngPath)
		fmt.Println("plot:", abs)
	}
	fmt.Println("load after:", benchkit.Uptime())
	return runErr
}

// chosen reports whether -cases names the case.
func chosen(name string) bool { return inList(*only, name) }

// chosenClient reports whether -clients names the client.
func chosenClient(c client) bool { return inList(*onlyFor, c.String()) }

// inList reports whether the comma-separated list names name.
func inList(list, name string) bool {
	for _, n := range strings.Split(list, ",") {
		if strings.TrimSpace(n) == name {
			return true
		}
	}
	return false
}
