package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht"
	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// simNode is one DHT node of the simulation: our dht.Node, unchanged, on
// a host of the simulated network.
type simNode struct {
	node    *dht.Node
	host    *host
	seed    bool
	probe   bool // a measured node: churn spares it and nobody picks it
	started time.Time
	stop    context.CancelFunc
	done    chan struct{} // closed when Serve has returned and the host is closed
	index   int           // in world.live; -1 once it left
}

func (s *simNode) addr() netip.AddrPort { return s.host.addr }

// world is the simulated DHT: the network and the nodes on it, joining
// and leaving. Safe for concurrent use.
type world struct {
	p     params
	net   *simNet
	ctx   context.Context // ends every node
	state string          // folder of the nodes' state files

	wg sync.WaitGroup // the nodes' Serve goroutines

	// mu guards the fields below.
	mu     sync.Mutex
	rng    *rand.Rand
	live   []*simNode
	seeds  []*simNode
	nets   map[[3]byte]bool // /24s given out: one host per /24
	joins  int              // nodes started since the network was built
	leaves int
	errs   []error // Serve errors (at most a few kept)
}

func newWorld(ctx context.Context, p params, n *simNet) (*world, error) {
	dir, err := stateDir()
	if err != nil {
		return nil, err
	}
	return &world{
		p: p, net: n, ctx: ctx, state: dir,
		rng:  rand.New(rand.NewPCG(p.Seed, 0x5eed)),
		nets: map[[3]byte]bool{},
	}, nil
}

// newAddr returns an unused public-looking IPv4 address in a /24 of its
// own, port 6881 or a random one. The addresses exist only inside the
// simulated network. w.mu must be held.
func (w *world) newAddrLocked() netip.AddrPort {
	for {
		var a [4]byte
		v := w.rng.Uint32()
		a[0], a[1], a[2], a[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
		ip := netip.AddrFrom4(a)
		if a[0] == 0 || a[0] >= 224 || ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() ||
			a[0] == 100 && a[1]&0xc0 == 64 || a[0] == 198 && a[1]&0xfe == 18 {
			continue
		}
		net24 := [3]byte{a[0], a[1], a[2]}
		if w.nets[net24] {
			continue
		}
		w.nets[net24] = true
		port := uint16(6881)
		if w.rng.IntN(2) == 0 {
			port = uint16(1024 + w.rng.IntN(64000))
		}
		return netip.AddrPortFrom(ip, port)
	}
}

// nodeSpec says how to start a node.
type nodeSpec struct {
	seed      bool
	probe     bool
	natted    bool
	knowIP    bool     // starts with a BEP 42 ID for its address (see writeIdentity)
	bootstrap []string // contacts
	watch     *observer
}

// start attaches a host and starts a node on it; it is live until stop.
func (w *world) start(spec nodeSpec) (*simNode, error) {
	w.mu.Lock()
	addr := w.newAddrLocked()
	rng := rand.New(rand.NewPCG(w.rng.Uint64(), w.rng.Uint64()))
	w.mu.Unlock()
	cfg := dht.Config{Bootstrap: spec.bootstrap, QueryTimeout: w.p.QueryTimeout}
	var id krpc.ID
	if spec.knowIP {
		id = secureID(addr.Addr(), rng)
		path, err := writeIdentity(w.state, addr, id)
		if err != nil {
			return nil, err
		}
		cfg.StateFile = path
	}
	h := w.net.Attach(addr, spec.natted, rng)
	h.watch = spec.watch
	cfg.Conn = h
	node, err := dht.New(cfg)
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("starting a node at %v: %w", addr, err)
	}
	if spec.knowIP && node.ID() != id {
		h.Close()
		return nil, fmt.Errorf("the node at %v did not take the ID of its state file: has engine/dht's state format changed? (see identity.go)", addr)
	}
	ctx, cancel := context.WithCancel(w.ctx)
	s := &simNode{node: node, host: h, seed: spec.seed, probe: spec.probe, started: time.Now(), stop: cancel, done: make(chan struct{})}
	w.mu.Lock()
	s.index = len(w.live)
	w.live = append(w.live, s)
	if spec.seed {
		w.seeds = append(w.seeds, s)
	}
	w.joins++
	w.mu.Unlock()
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer close(s.done)
		if err := node.Serve(ctx); err != nil {
			w.mu.Lock()
			if len(w.errs) < 5 {
				w.errs = append(w.errs, fmt.Errorf("node %v: %w", addr, err))
			}
			w.mu.Unlock()
		}
		h.Close()
	}()
	return s, nil
}

// stop ends a node: it leaves without a word, as nodes do.
func (w *world) stop(s *simNode) {
	w.mu.Lock()
	if i := s.index; i >= 0 {
		last := w.live[len(w.live)-1]
		w.live[i], last.index = last, i
		w.live[len(w.live)-1] = nil
		w.live = w.live[:len(w.live)-1]
		s.index = -1
		w.leaves++
	}
	w.mu.Unlock()
	s.stop()
}

// seedContacts returns the seeds' addresses as contacts.
func (w *world) seedContacts() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, s := range w.seeds {
		out = append(out, s.addr().String())
	}
	return out
}

// pick returns a random live node for which ok is true, or nil.
func (w *world) pick(ok func(*simNode) bool) *simNode {
	w.mu.Lock()
	defer w.mu.Unlock()
	for range 1000 {
		if len(w.live) == 0 {
			return nil
		}
		if s := w.live[w.rng.IntN(len(w.live))]; ok(s) {
			return s
		}
	}
	return nil
}

// liveNodes returns a copy of the list of live nodes.
func (w *world) liveNodes() []*simNode {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]*simNode(nil), w.live...)
}

func (w *world) natted() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rng.Float64() < w.p.Unreachable
}

// joined reports whether a node has bootstrapped (or has K good nodes
// anyway) and has no lookup left running (its join, and the lookups that
// fill its far buckets). A node whose first join lookup got no answer in
// time, but whose table then filled from the queries of others, never
// records a bootstrap: hence the good nodes.
func joined(n *dht.Node) bool {
	st := n.Stats()
	return (!st.LastBootstrap.IsZero() || st.Good >= dht.K) && st.LookupsInFlight == 0
}

// startSeeds starts the seeds, which know each other.
func (w *world) startSeeds() error {
	var seeds []*simNode
	for range w.p.Seeds {
		s, err := w.start(nodeSpec{seed: true, knowIP: true})
		if err != nil {
			return err
		}
		seeds = append(seeds, s)
	}
	contacts := w.seedContacts()
	for i, s := range seeds {
		others := append(append([]string(nil), contacts[:i]...), contacts[i+1:]...)
		s.node.AddContacts(others)
	}
	return nil
}

// build starts count nodes that bootstrap from the seeds; it returns when
// all have joined (or given up after joinTimeout), or ctx ends (with its
// error). Once over reports true, it starts no more nodes and reports
// that the build is incomplete. How many join at once adapts to the
// machine, up to JoinParallel: an overloaded machine delivers packets
// late, queries time out and joins cost more.
func (w *world) build(ctx context.Context, count int, progress func(joined, joining int), over func() bool) (complete bool, err error) {
	const joinTimeout = 60 * time.Second
	contacts := w.seedContacts()
	var wg sync.WaitGroup
	var mu sync.Mutex
	done, slow, joining := 0, 0, 0
	var took []float64
	limit := min(100, w.p.JoinParallel)
	adjusted, reported := time.Now(), wallNow() // progress every 10 s of the machine's clock
	lateBefore := w.net.late.snapshot()
	complete = true
	for range count {
		if over() {
			complete = false
			break
		}
		for {
			if ctx.Err() != nil {
				wg.Wait()
				return false, ctx.Err()
			}
			if time.Since(adjusted) >= time.Second {
				// The delay line's lateness over the last second says
				// whether the machine keeps up (on a shared machine, other
				// processes make it late too).
				adjusted = time.Now()
				late := w.net.late.quantileSince(lateBefore, 0.9)
				lateBefore = w.net.late.snapshot()
				switch {
				case late < 200*time.Millisecond:
					limit = min(w.p.JoinParallel, limit+max(1, limit/4))
				case late > time.Second:
					limit = max(10, limit/2)
				}
			}
			mu.Lock()
			room := joining < limit
			if room {
				joining++
			}
			d, j := done, joining
			mu.Unlock()
			if progress != nil && wallNow().Sub(reported) >= 10*time.Second {
				reported = wallNow()
				progress(d, j)
			}
			if room {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		s, err := w.start(nodeSpec{natted: w.natted(), knowIP: true, bootstrap: contacts})
		if err != nil {
			wg.Wait()
			return false, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok := waitFor(ctx, joinTimeout, func() bool { return joined(s.node) })
			mu.Lock()
			defer mu.Unlock()
			joining--
			done++
			took = append(took, time.Since(s.started).Seconds())
			if !ok {
				slow++
			}
		}()
	}
	wg.Wait()
	if len(took) > 0 {
		fmt.Printf("  a join took %.1f s (median), %.1f s (p90), %.1f s (max)\n", quantile(took, 0.5), quantile(took, 0.9), quantile(took, 1))
	}
	if slow > 0 {
		fmt.Printf("  %d nodes took longer than %v to join\n", slow, joinTimeout)
	}
	return complete, ctx.Err()
}

// churn replaces nodes until ctx ends: each second, on average
// Churn x live / 60 random nodes (never the seeds) leave and as many new
// ones join from the seeds.
func (w *world) churn(ctx context.Context) {
	if w.p.Churn <= 0 {
		return
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	contacts := w.seedContacts()
	owed := 0.0
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		w.mu.Lock()
		owed += w.p.Churn * float64(len(w.live)) / 60
		w.mu.Unlock()
		for ; owed >= 1; owed-- {
			if s := w.pick(func(s *simNode) bool { return !s.seed && !s.probe }); s != nil {
				w.stop(s)
			}
			if _, err := w.start(nodeSpec{natted: w.natted(), knowIP: true, bootstrap: contacts}); err != nil {
				fmt.Println("  churn:", err)
				return
			}
		}
	}
}

// counts returns how many nodes joined and left since the start.
func (w *world) counts() (joins, leaves, live int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.joins, w.leaves, len(w.live)
}

// shutdown stops every node and waits for them.
func (w *world) shutdown() []error {
	for _, s := range w.liveNodes() {
		w.stop(s)
	}
	w.wg.Wait()
	if err := os.RemoveAll(w.state); err != nil {
		fmt.Println("  removing the nodes' state:", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.errs
}

// waitFor polls cond every 50 ms until it holds (true) or timeout or ctx
// ends (false).
func waitFor(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
	return true
}
