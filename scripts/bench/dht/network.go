package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/swarmdrop/swarmdrop/scripts/bench/internal/benchkit"
)

// bench is the shared setup: binaries, torrent, DHT nodes and seeder.
type bench struct {
	cache, work string
	bin, ltpeer string
	torrent     string
	nodes       []*benchkit.Proc
	addrs       []string // host:port of each node
	contact     string   // the node written into the torrent
	infoHash    string   // hex
	seeder      *benchkit.Proc
	seederAddr  string // host:port
}

// newBench builds swarmdrop, makes sure the content exists and makes a
// work folder.
func newBench(ctx context.Context) (*bench, error) {
	root, err := benchkit.ModuleRoot()
	if err != nil {
		return nil, err
	}
	cache, err := benchkit.CacheDir()
	if err != nil {
		return nil, err
	}
	b := &bench{cache: cache, ltpeer: benchkit.LTPeer(root)}
	if b.bin, err = benchkit.BuildSwarmdrop(ctx, root, cache); err != nil {
		return nil, err
	}
	if _, err := benchkit.EnsureContent(cache); err != nil {
		return nil, err
	}
	if b.work, err = os.MkdirTemp("", "swarmdrop-bench-dht-"); err != nil {
		return nil, err
	}
	return b, nil
}

// startNetwork starts the nodes and waits for them to know one another,
// makes the torrent with the best-connected node as its only contact,
// starts the seeder and waits until its announce can be found.
func (b *bench) startNetwork(ctx context.Context) error {
	t0 := time.Now()
	if err := b.startNodes(ctx); err != nil {
		return err
	}
	fmt.Printf("%d DHT nodes listening after %.1f s\n", nodeCount, time.Since(t0).Seconds())
	if err := b.waitConverged(ctx); err != nil {
		return err
	}
	best := b.bestConnected(5)
	b.contact = best[0]
	if err := b.createTorrent(ctx); err != nil {
		return err
	}
	if err := b.startSeeder(ctx, best[1:3]); err != nil {
		return err
	}
	return b.waitAnnounced(ctx, best[2:])
}

// startNodes starts node 0 alone, then nine nodes that bootstrap from it,
// then the rest, each bootstrapping from node 0 and a random one of the
// nine.
func (b *bench) startNodes(ctx context.Context) error {
	for _, batch := range [][2]int{{0, 1}, {1, 10}, {10, nodeCount}} {
		for i := batch[0]; i < batch[1]; i++ {
			p, err := benchkit.Start(fmt.Sprintf("dht node %d", i), nil, benchkit.Python, b.ltpeer, "dht",
				"--port", "0", "--ip", nodeIP(i), "--bootstrap", b.bootstrapFor(i), "--get", randomHash(),
				"--seconds", "86400")
			if err != nil {
				return err
			}
			b.nodes = append(b.nodes, p)
		}
		for i := batch[0]; i < batch[1]; i++ {
			l, err := b.nodes[i].WaitPrefix(ctx, 60*time.Second, "LISTENING ")
			if err != nil {
				return err
			}
			b.addrs = append(b.addrs, nodeIP(i)+":"+strings.TrimPrefix(l.Text, "LISTENING "))
		}
	}
	return nil
}

// randomHash is a random info hash in hex. Each node looks it up every
// second (ltpeer dht --get), which fills the routing tables much faster
// than libtorrent's own refreshes.
func randomHash() string {
	var h [20]byte
	for i := range h {
		h[i] = byte(rand.IntN(256))
	}
	return hex.EncodeToString(h[:])
}

// nodeIP is node i's loopback address, from 127.0.0.30 on.
func nodeIP(i int) string { return fmt.Sprintf("127.0.0.%d", 30+i) }

// bootstrapFor lists the contacts node i starts from.
func (b *bench) bootstrapFor(i int) string {
	switch {
	case i == 0:
		return ""
	case i < 10:
		return b.addrs[0]
	}
	// Few contacts: libtorrent never puts its bootstrap contacts into its
	// routing table.
	return b.addrs[0] + "," + b.addrs[1+rand.IntN(9)]
}

// createTorrent makes the trackerless torrent of the content whose only
// contact is b.contact.
func (b *bench) createTorrent(ctx context.Context) error {
	b.torrent = filepath.Join(b.work, "dht.torrent")
	p, err := benchkit.Start("swarmdrop create", nil, b.bin, "create", "--quiet", "--nodes", b.contact,
		"--piece-length", "1M", "-o", b.torrent, filepath.Join(b.cache, "1GiB.bin"))
	if err != nil {
		return err
	}
	l, err := p.WaitPrefix(ctx, 2*time.Minute, "info hash ")
	if err != nil {
		return fmt.Errorf("creating the torrent: %w", err)
	}
	b.infoHash = strings.TrimPrefix(l.Text, "info hash ")
	if _, err := p.Exit(ctx, time.Minute); err != nil {
		return fmt.Errorf("creating the torrent: %w", err)
	}
	return nil
}

// startSeeder starts libtorrent seeding the torrent on 127.0.0.80 and
// announcing it through the given contacts (not the torrent's).
func (b *bench) startSeeder(ctx context.Context, contacts []string) error {
	p, err := benchkit.Start("libtorrent seeder", nil, benchkit.Python, b.ltpeer, "seed", b.torrent, b.cache,
		"--port", "0", "--ip", "127.0.0.80", "--dht", strings.Join(contacts, ","), "--seconds", "86400")
	if err != nil {
		return err
	}
	b.seeder = p
	l, err := p.WaitPrefix(ctx, 60*time.Second, "LISTENING ")
	if err != nil {
		return err
	}
	b.seederAddr = "127.0.0.80:" + strings.TrimPrefix(l.Text, "LISTENING ")
	return nil
}

// waitConverged waits until most nodes know more than five others: nine
// in ten, or half after fifteen seconds. (libtorrent never puts its
// bootstrap contacts in its routing table, so a small DHT fills slowly.)
func (b *bench) waitConverged(ctx context.Context) error {
	t0 := time.Now()
	for {
		n := b.wellConnected()
		if n >= nodeCount*9/10 || n >= nodeCount/2 && time.Since(t0) > 15*time.Second {
			break
		}
		if time.Since(t0) > 3*time.Minute {
			return fmt.Errorf("the DHT did not converge: %d of %d nodes know more than 5 others", n, nodeCount)
		}
		if err := sleep(ctx, 500*time.Millisecond); err != nil {
			return err
		}
	}
	fmt.Printf("%d of %d nodes know more than 5 others after %.1f s (routing table sizes: %s)\n",
		b.wellConnected(), nodeCount, time.Since(t0).Seconds(), b.tableSizes())
	return nil
}

// waitAnnounced starts a probe node that asks the DHT, through the given
// contacts, for the torrent's peers, and waits until it finds the seeder
// (the seeder's own ANNOUNCED needs a reply with peers, which nobody but
// itself has); then two more seconds.
func (b *bench) waitAnnounced(ctx context.Context, contacts []string) error {
	t0 := time.Now()
	probe, err := benchkit.Start("dht probe", nil, benchkit.Python, b.ltpeer, "dht", "--port", "0", "--ip", "127.0.0.81",
		"--bootstrap", strings.Join(contacts, ","), "--get", b.infoHash, "--seconds", "180")
	if err != nil {
		return err
	}
	defer probe.Kill()
	want := "PEER " + b.seederAddr
	if _, err := probe.WaitFor(ctx, 3*time.Minute, func(l string) bool { return l == want }); err != nil {
		return fmt.Errorf("the seeder was not found in the DHT: %w", err)
	}
	fmt.Printf("a probe node found the seeder %s through the DHT after %.1f s\n", b.seederAddr, time.Since(t0).Seconds())
	return sleep(ctx, 2*time.Second)
}

// bestConnected returns the addresses of the n nodes with the largest
// routing tables, largest first.
func (b *bench) bestConnected(n int) []string {
	counts := b.nodeCounts()
	idx := make([]int, len(counts))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(x, y int) int { return counts[y] - counts[x] })
	out := make([]string, 0, n)
	for _, i := range idx[:min(n, len(idx))] {
		out = append(out, b.addrs[i])
	}
	return out
}

// wellConnected counts the nodes whose last NODES line says more than 5.
func (b *bench) wellConnected() int {
	n := 0
	for _, k := range b.nodeCounts() {
		if k > 5 {
			n++
		}
	}
	return n
}

// nodeCounts is each node's last reported routing table size (-1 before
// its first report).
func (b *bench) nodeCounts() []int {
	counts := make([]int, len(b.nodes))
	for i, p := range b.nodes {
		counts[i] = -1
		lines := p.Lines()
		for j := len(lines) - 1; j >= 0; j-- {
			if v, ok := strings.CutPrefix(lines[j].Text, "NODES "); ok {
				counts[i], _ = strconv.Atoi(v)
				break
			}
		}
	}
	return counts
}

// tableSizes summarises nodeCounts as "min A, median B, max C".
func (b *bench) tableSizes() string {
	c := b.nodeCounts()
	slices.Sort(c)
	return fmt.Sprintf("min %d, median %d, max %d", c[0], c[len(c)/2], c[len(c)-1])
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
