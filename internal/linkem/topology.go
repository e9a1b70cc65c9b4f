package linkem

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Host is one host's link to the star's centre: Up carries what it sends,
// Down what it receives. A packet from host i to host j crosses i's Up,
// then j's Down.
type Host struct {
	Up, Down Link
}

// Config describes a topology. Hosts is required; the rest has defaults.
type Config struct {
	// Tag is a short word (letters and digits, at most 8) in the
	// namespace names, saying whose they are.
	Tag string
	// Hosts are the hosts, at least 2: host i gets a namespace, a TUN
	// device and the addresses Addr4(i) and Addr6(i).
	Hosts []Host
	// MTU of every device; default 1500.
	MTU int
	// Seed seeds loss and jitter (each link direction gets its own
	// stream); 0 picks one at random.
	Seed uint64
	// Hold bounds the bytes one link direction without a Rate holds on
	// the wire at once; default 4 MiB. With a Rate the bound follows from
	// it: twice the queue and Rate x (Delay + Jitter), and four packets.
	Hold int
	// Buffers bounds the packets the whole emulator holds at once; default
	// 16,384 (24 MiB of buffers at MTU 1500).
	Buffers int
	// Slack is the least time between two wakeups of the emulator: with
	// it, packets wait up to Slack longer (arriving or leaving) and the
	// emulator wakes once for all that came meanwhile. It saves CPU at
	// high packet rates: measured at 100 Mbit/s, 44 % of a core with
	// none, 37 % with 100 µs, 29 % with 250 µs. Default 0: every packet on
	// time.
	Slack time.Duration
	// Sysctls are set in every host's namespace, for example
	// "net/ipv4/tcp_wmem": "4096 16384 16777216" (a path under
	// /proc/sys/net). A new namespace starts from the kernel's defaults
	// for most of them: tcp_wmem's 4 MiB at most holds too little in
	// flight for 100 Mbit/s at 200 ms.
	Sysctls map[string]string
}

// Pair is the Config of two hosts, 0 and 1: aToB applies to what 0 sends
// to 1, bToA to the way back.
func Pair(tag string, aToB, bToA Link) Config {
	return Config{Tag: tag, Hosts: []Host{{Up: aToB}, {Up: bToA}}}
}

// Topology is a set of hosts in network namespaces joined through the
// emulator as a star. New makes it, Serve moves packets, Close removes
// everything. Its methods are safe for concurrent use.
type Topology struct {
	cfg   Config          // defaults applied
	names []string        // namespace of each host
	tuns  []*os.File      // TUN device of each host
	stop  context.Context // done once Close starts
	halt  context.CancelFunc
	ready chan struct{} // closed once packets move

	mu      sync.Mutex    // guards the fields below
	serving chan struct{} // closed when Serve returns; nil if never called
	closed  bool
	child   *childConn // while Serve runs the emulator
	last    Stats      // the emulator's last report
}

// DeviceName is the name of each host's TUN device in its namespace.
const DeviceName = "linkem0"

// topologies numbers the topologies of this process, for unique names.
var topologies atomic.Uint64

var (
	tagPattern    = regexp.MustCompile(`^[a-zA-Z0-9]{0,8}$`)
	sysctlPattern = regexp.MustCompile(`^net/[a-zA-Z0-9_./-]+$`)
)

// New creates the namespaces and devices of cfg with their addresses and
// routes. Nothing moves until Serve. On error it leaves nothing behind.
// Needs root.
func New(cfg Config) (*Topology, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("linkem: %w", err)
	}
	t := &Topology{cfg: cfg, ready: make(chan struct{})}
	t.stop, t.halt = context.WithCancel(context.Background())
	serial := topologies.Add(1)
	for i := range cfg.Hosts {
		name := fmt.Sprintf("lk%s-%d-%d-%d", cfg.Tag, os.Getpid(), serial, i)
		if err := addNamespace(name); err != nil {
			t.remove()
			return nil, fmt.Errorf("linkem: %w", err)
		}
		t.names = append(t.names, name)
		f, err := openTUN(name, DeviceName)
		if err == nil {
			t.tuns = append(t.tuns, f)
			err = configureHost(name, DeviceName, i, cfg.MTU)
		}
		if err == nil {
			err = setSysctls(name, cfg.Sysctls)
		}
		if err != nil {
			t.remove()
			return nil, fmt.Errorf("linkem: host %d: %w", i, err)
		}
	}
	return t, nil
}

// withDefaults checks c and fills in its defaults.
func (c Config) withDefaults() (Config, error) {
	n := len(c.Hosts)
	if n < 2 || n > MaxHosts {
		return c, fmt.Errorf("%d hosts, want 2 to %d", n, MaxHosts)
	}
	if !tagPattern.MatchString(c.Tag) {
		return c, fmt.Errorf("tag %q is not up to 8 letters and digits", c.Tag)
	}
	for i, h := range c.Hosts {
		if err := h.Up.validate(); err != nil {
			return c, fmt.Errorf("host %d up: %w", i, err)
		}
		if err := h.Down.validate(); err != nil {
			return c, fmt.Errorf("host %d down: %w", i, err)
		}
	}
	c.Hosts = slices.Clone(c.Hosts)
	for k := range c.Sysctls {
		if !sysctlPattern.MatchString(k) || strings.Contains(k, "..") {
			return c, fmt.Errorf("sysctl %q is not a path under /proc/sys/net", k)
		}
	}
	c.MTU = orDefault(c.MTU, 1500)
	if c.MTU < 1280 || c.MTU > 65535 {
		return c, fmt.Errorf("MTU %d outside 1280..65535", c.MTU)
	}
	if c.Seed == 0 {
		c.Seed = rand.Uint64()
	}
	c.Hold = orDefault(c.Hold, 4<<20)
	c.Buffers = orDefault(c.Buffers, 16384)
	if c.Hold < 0 || c.Buffers < 0 || c.Slack < 0 || c.Slack > 100*time.Millisecond {
		return c, errors.New("negative Hold or Buffers, or Slack outside 0..100ms")
	}
	return c, nil
}

// orDefault is v, or def when v is zero.
func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// pathRTTs gives, for each host, the longest round trip between it and
// another host (delays and jitter of the four links crossed), which sizes
// its links' default queues.
func pathRTTs(hosts []Host) []time.Duration {
	oneWay := func(l Link) time.Duration { return l.Delay + l.Jitter }
	rtts := make([]time.Duration, len(hosts))
	// The longest path from i is to the j with the slowest Up+Down.
	var worst, second time.Duration
	worstAt := -1
	for j, h := range hosts {
		d := oneWay(h.Up) + oneWay(h.Down)
		if d > worst {
			worst, second, worstAt = d, worst, j
		} else if d > second {
			second = d
		}
	}
	for i, h := range hosts {
		other := worst
		if i == worstAt {
			other = second
		}
		rtts[i] = oneWay(h.Up) + oneWay(h.Down) + other
	}
	return rtts
}

// Serve runs the emulator (a child process, see child.go) and moves
// packets until ctx ends or Close is called, and returns nil then (at
// once if Close came first); it returns an error if the emulator fails.
// It may be called once.
func (t *Topology) Serve(ctx context.Context) error {
	t.mu.Lock()
	if t.serving != nil {
		t.mu.Unlock()
		return errors.New("linkem: Serve called twice")
	}
	done := make(chan struct{})
	t.serving = done
	closed := t.closed
	t.mu.Unlock()
	defer close(done)
	if closed {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(t.stop, cancel)()
	c, first, err := startChild(t.cfg, t.tuns)
	if err != nil {
		return fmt.Errorf("linkem: %w", err)
	}
	t.mu.Lock()
	t.child, t.last = c, first
	t.mu.Unlock()
	close(t.ready)
	exited := make(chan struct{})
	go func() { c.cmd.Wait(); close(exited) }()
	select {
	case <-ctx.Done():
	case <-exited:
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.child = nil
	last, err := c.stop(exited)
	if err != nil {
		return fmt.Errorf("linkem: %w", err)
	}
	t.last = last
	return nil
}

// Ready is closed once Serve has the emulator moving packets. Packets
// sent before wait in the devices' queues (500 packets each).
func (t *Topology) Ready() <-chan struct{} { return t.ready }

// Close stops Serve, waits for it to return, and removes every device and
// namespace. Processes still running in a namespace keep it alive but
// unnamed, without a device: end them first.
func (t *Topology) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	serving := t.serving
	t.mu.Unlock()
	t.halt()
	if serving != nil {
		<-serving
	}
	return t.remove()
}

// remove closes the devices and deletes the namespaces made so far.
func (t *Topology) remove() error {
	var errs []error
	for _, f := range t.tuns {
		errs = append(errs, f.Close())
	}
	for _, name := range t.names {
		if err := deleteNamespace(name); err != nil {
			errs = append(errs, fmt.Errorf("linkem: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Hosts is the number of hosts.
func (t *Topology) Hosts() int { return len(t.names) }

// Namespace is the name of host i's network namespace (as ip netns sees
// it).
func (t *Topology) Namespace(i int) string { return t.names[i] }

// Addr4 is host i's IPv4 address.
func (t *Topology) Addr4(i int) netip.Addr { return hostAddr(prefix4, i) }

// Addr6 is host i's IPv6 address.
func (t *Topology) Addr6(i int) netip.Addr { return hostAddr(prefix6, i) }

// Command is exec.Command for running name inside host i's namespace.
func (t *Topology) Command(i int, name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", t.names[i], name}, args...)...)
}

// CommandContext is exec.CommandContext for running name inside host i's
// namespace.
func (t *Topology) CommandContext(ctx context.Context, i int, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", t.names[i], name}, args...)...)
}

// Do runs f on an OS thread inside host i's namespace and returns its
// error. Sockets f opens (net.Listen, net.ListenUDP, net.Dial to an
// address literal) belong to that namespace for good and can be used from
// any goroutine afterwards; goroutines f starts do not run in it.
func (t *Topology) Do(i int, f func() error) error {
	return inNamespace(t.names[i], f)
}

// Stats is a snapshot of what the links and the emulator did.
type Stats struct {
	Up, Down []LinkStats // per host
	Counts
	Buffers int           // packet buffers allocated (at most Config.Buffers)
	CPU     time.Duration // CPU time the emulator's process has used
	// UserCPU is the part of CPU outside the kernel. The kernel's part
	// includes the work of the receiving hosts' TCP/IP stacks, which runs
	// in the emulator's writes to their devices.
	UserCPU time.Duration
}

// Stats asks the emulator for its counts. Before Serve they are zero;
// after it, they are the emulator's last.
func (t *Topology) Stats() (Stats, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.child == nil {
		return t.last, nil
	}
	s, err := t.child.stats()
	if err != nil {
		return Stats{}, fmt.Errorf("linkem: %w", err)
	}
	t.last = s
	return s, nil
}
