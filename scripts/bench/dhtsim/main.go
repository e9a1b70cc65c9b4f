// Command dhtsim is `make bench-dhtsim`: 10,000 of our DHT nodes
// (engine/dht, unchanged, through its public API) in one process on a
// simulated internet, and lookups from fresh nodes that know one contact,
// compared with an ideal Kademlia lookup (issue 17: under 1 s median with
// 100 ms per hop, within 1.5x the ideal's queries).
//
// The network is a fake on purpose: that is the point of the benchmark.
// Ten thousand real sockets, delays and NATs cannot be had on one machine
// (this kernel has no netem), and the public DHT is off limits. Each
// node's net.PacketConn is a host of an in-memory internet (simnet.go):
// a fixed one-way delay per pair of hosts from their random coordinates
// (50 ms on average: a hop is a 100 ms round trip), 10 % of the hosts
// behind NATs that drop unsolicited packets (they reach others and get
// answers, so they enter routing tables that others then cannot use),
// bounded socket buffers and uplinks (overflow is dropped and counted),
// and a delay line of a few heaps drained by one goroutine each. No
// packet leaves the process: the made-up public addresses (one per /24,
// so that BEP 42 and per-subnet table limits apply as on the internet)
// exist only inside it.
//
// Phases: seeds start, and churn with them (nodes leave without a word,
// new ones join from the seeds); the nodes join from the seeds, as many at
// once as the machine keeps up with; the network settles; some nodes
// announce info hashes; then probes, each a fresh node that knows one
// random reachable node, look up an info hash at once (cold), and another
// once they have bootstrapped (warm). The queries per lookup are counted
// on the wire (the dht package does not count them); the oracle
// (oracle.go) gives the ideal.
//
// Clocks: `make bench-dhtsim` runs the benchmark through TestSimulation in
// a testing/synctest bubble, where time is virtual: it advances only when
// every goroutine waits, so the nodes' own timers, the delays and the
// measured times are exact however busy the machine is, and a run costs
// the CPU it needs (about 80 µs of our node code per packet) rather than
// the time it simulates. This program runs it in real time: there the
// machine's load delays packets, and the report shows by how much.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/swarmdrop/swarmdrop/scripts/bench/internal/benchkit"
)

// params are the benchmark's settings (its flags).
type params struct {
	Nodes          int
	Seeds          int
	Unreachable    float64
	Delay          time.Duration
	Loss           float64
	Churn          float64
	JoinParallel   int
	Settle         time.Duration
	BuildTime      time.Duration
	MeasureTime    time.Duration
	Announcers     int
	Lookups        int
	Parallel       int
	AnnouncedShare float64
	NATTimeout     time.Duration
	QueryTimeout   time.Duration // dht.Config.QueryTimeout of every node; 0: the node's default
	InboxLen       int
	UplinkLen      int
	Seed           uint64
	Out            string
	CPUProfile     string
	Virtual        bool // the run is in a synctest bubble (set by the test, not a flag)
}

func defaults() params {
	return params{
		Nodes: 10000, Seeds: 4, Unreachable: 0.10, Delay: 50 * time.Millisecond, Churn: 0.02,
		JoinParallel: 400, BuildTime: 8 * time.Minute, MeasureTime: 4 * time.Minute,
		Announcers: 3, Lookups: 300, Parallel: 10, AnnouncedShare: 0.5,
		NATTimeout: 60 * time.Second, InboxLen: 256, UplinkLen: 1024, Seed: 1,
	}
}

// parseParams reads the benchmark's flags from args.
func parseParams(args []string) (params, error) {
	p := defaults()
	fs := flag.NewFlagSet("bench-dhtsim", flag.ContinueOnError)
	fs.IntVar(&p.Nodes, "nodes", p.Nodes, "DHT nodes in the network")
	fs.IntVar(&p.Seeds, "seeds", p.Seeds, "bootstrap nodes the others join from (they never leave)")
	fs.Float64Var(&p.Unreachable, "unreachable", p.Unreachable, "share of nodes behind a NAT that drops unsolicited packets")
	fs.DurationVar(&p.Delay, "delay", p.Delay, "mean one-way delay between two nodes (a hop is twice that)")
	fs.Float64Var(&p.Loss, "loss", p.Loss, "share of packets lost at random")
	fs.Float64Var(&p.Churn, "churn", p.Churn, "share of the nodes replaced per minute, from the start")
	fs.IntVar(&p.JoinParallel, "join-parallel", p.JoinParallel, "most nodes joining at once while the network is built (fewer while the machine cannot keep up)")
	fs.DurationVar(&p.Settle, "settle", 0, "time the network runs (with churn) before the measurement (default: 6 s per 1,000 nodes, 5 s to 60 s)")
	fs.DurationVar(&p.BuildTime, "build-time", p.BuildTime, "wall-clock time after which the build stops adding nodes (a slow machine gets a smaller network)")
	fs.DurationVar(&p.MeasureTime, "measure-time", p.MeasureTime, "wall-clock time after which no probe starts")
	fs.IntVar(&p.Announcers, "announcers", p.Announcers, "nodes announcing each announced info hash")
	fs.IntVar(&p.Lookups, "lookups", p.Lookups, "probes: fresh nodes that each run a cold and a warm lookup")
	fs.IntVar(&p.Parallel, "parallel", p.Parallel, "probes at once")
	fs.Float64Var(&p.AnnouncedShare, "announced", p.AnnouncedShare, "share of the lookups for announced info hashes")
	fs.DurationVar(&p.NATTimeout, "nat-timeout", p.NATTimeout, "how long a NAT lets answers in after a packet out")
	fs.DurationVar(&p.QueryTimeout, "query-timeout", 0, "the nodes' dht.Config.QueryTimeout (a lookup stops waiting for a query after a quarter of it); 0: the node's default")
	fs.IntVar(&p.InboxLen, "inbox", p.InboxLen, "packets a node's socket buffer holds")
	fs.IntVar(&p.UplinkLen, "uplink", p.UplinkLen, "packets a node may have on their way")
	fs.Uint64Var(&p.Seed, "seed", p.Seed, "random seed of the network's layout")
	fs.StringVar(&p.Out, "out", "", "folder for the plot and the raw figures (default: a new one under $TMPDIR/swarmdrop-bench)")
	fs.StringVar(&p.CPUProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
	if err := fs.Parse(args); err != nil {
		return p, err
	}
	if fs.NArg() > 0 {
		return p, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if p.Settle <= 0 {
		p.Settle = min(max(time.Duration(p.Nodes)*6*time.Millisecond, 5*time.Second), time.Minute)
	}
	return p, p.check()
}

func main() {
	p, err := parseParams(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err == nil {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err = bench(ctx, p, os.Stdout)
		stop()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-dhtsim:", err)
		os.Exit(1)
	}
}

// bench runs the benchmark with p and prints its report to out.
func bench(ctx context.Context, p params, out io.Writer) error {
	// Ten thousand nodes allocate fast; memory is plentiful, CPU is not.
	defer debug.SetGCPercent(debug.SetGCPercent(200))
	if p.Out == "" {
		dir, err := benchkit.CacheDir()
		if err != nil {
			return err
		}
		p.Out = filepath.Join(dir, "dhtsim-"+wallNow().Format("20060102-150405"))
	}
	if err := os.MkdirAll(p.Out, 0o755); err != nil {
		return err
	}
	if p.CPUProfile != "" {
		f, err := os.Create(p.CPUProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Fprintln(out, "load before:", benchkit.Uptime())
	rep, err := run(ctx, p, out)
	if err != nil {
		return err
	}
	if err := rep.write(out, p); err != nil {
		return err
	}
	fmt.Fprintln(out, "load after:", benchkit.Uptime())
	fmt.Fprintln(out, "plot and raw figures in", p.Out)
	return nil
}

// wallNow is the time of the machine's clock, even inside a synctest
// bubble (where time.Now is the bubble's).
func wallNow() time.Time {
	var tv syscall.Timeval
	if err := syscall.Gettimeofday(&tv); err != nil {
		return time.Now()
	}
	return time.Unix(tv.Sec, tv.Usec*1000)
}

func (p params) check() error {
	switch {
	case p.Nodes < 20 || p.Seeds < 1 || p.Seeds > p.Nodes:
		return fmt.Errorf("need at least 20 nodes and 1 to %d seeds", p.Nodes)
	case p.Lookups < 1 || p.Parallel < 1 || p.JoinParallel < 1 || p.Announcers < 1:
		return fmt.Errorf("-lookups, -parallel, -join-parallel and -announcers must be at least 1")
	case p.Unreachable < 0 || p.Unreachable >= 1 || p.Loss < 0 || p.Loss >= 1 || p.Churn < 0 || p.Churn > 1:
		return fmt.Errorf("-unreachable and -loss must be in [0, 1), -churn in [0, 1]")
	case p.Delay <= 0 || p.InboxLen < 1 || p.UplinkLen < 1:
		return fmt.Errorf("-delay, -inbox and -uplink must be positive")
	}
	return nil
}
