package main

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht"
	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
	"github.com/swarmdrop/swarmdrop/internal/hostile"
	"github.com/swarmdrop/swarmdrop/scripts/bench/internal/benchkit"
)

// cases returns the benchmark's cases in report order.
func cases() []spec {
	return []spec{
		{name: "ut_metadata requests, 10,000 a connection, not reading", warmup: time.Second,
			attack: &floodAttack{make: func(t target) *hostile.Flood { return hostile.MetadataFlood(t.peer(), 10_000, 0) }}},
		{name: "ut_metadata requests, 10,000 a connection, reading 64 KiB/s", warmup: time.Second,
			attack: &floodAttack{make: func(t target) *hostile.Flood { return hostile.MetadataFlood(t.peer(), 10_000, 64<<10) }}},
		{name: "block requests, 100,000 a connection, while choked", warmup: time.Second,
			attack: &floodAttack{make: func(t target) *hostile.Flood {
				return hostile.RequestFlood(t.peer(), 100_000, t.mi.Info.NumPieces(), t.mi.Info.PieceLength, false)
			}}},
		{name: "block requests, 100,000 a connection, choked, no fast ext.", warmup: time.Second,
			attack: &floodAttack{make: func(t target) *hostile.Flood {
				p := t.peer()
				p.NoFast = true
				return hostile.RequestFlood(p, 100_000, t.mi.Info.NumPieces(), t.mi.Info.PieceLength, false)
			}}},
		{name: "block requests, 100,000 a connection, unchoked, not reading", warmup: time.Second,
			attack: &floodAttack{make: func(t target) *hostile.Flood {
				return hostile.RequestFlood(t.peer(), 100_000, t.mi.Info.NumPieces(), t.mi.Info.PieceLength, true)
			}}},
		{name: "500 idle connections from one address", warmup: 3 * time.Second,
			attack: &idleAttack{locals: []string{"127.0.2.1"}, per: 500}},
		// Eviction takes a slot only from a connection idle for 10 s: the
		// flood is given 12 s to be there when the downloader comes.
		{name: "500 idle connections from 50 addresses", warmup: 12 * time.Second,
			attack: &idleAttack{locals: hostile.Addrs("127.0.2.10", 50), per: 10}},
		{name: "DHT table poisoning: 400 ports of one address, random IDs", dht: true, warmup: 5 * time.Second,
			attack: &poisonAttack{}},
		{name: "DHT table poisoning: 400 ports of one address, IDs per bucket", dht: true, warmup: 5 * time.Second,
			attack: &poisonAttack{crafted: true}},
		{name: "DHT reflection: probes, get_peers flood from 50 addresses", dht: true, warmup: 4 * time.Second,
			attack: &reflectAttack{}},
	}
}

// peer is a hostile peer aimed at the seeder's torrent.
func (t target) peer() hostile.Peer {
	return hostile.Peer{Addr: t.addr, InfoHash: t.mi.InfoHash, ID: hostile.PeerID("bench")}
}

// floodAttack runs rounds of a peer wire flood, each from the next of 50
// addresses (an attacker with many addresses: a ban of one does not end
// it), one after the other, until the window ends.
type floodAttack struct {
	make   func(t target) *hostile.Flood
	rounds []hostile.Round
}

// floodHold is how long a round waits for the seeder to hang up.
const floodHold = 20 * time.Second

func (a *floodAttack) setup() ([]string, error) { return nil, nil }

func (a *floodAttack) run(ctx context.Context, t target, _ int) {
	f := a.make(t)
	f.Sources, f.Hold, f.MaxRounds = hostile.Addrs("127.0.1.1", 50), floodHold, 500
	a.rounds = append(a.rounds, f.Run(ctx)...)
}

func (a *floodAttack) details(*seeder) []string {
	var flooded, dropped, kept, cut int
	var held []float64
	var written int64
	var firstErr string
	errs := 0
	for _, r := range a.rounds {
		switch {
		case r.Err != nil:
			errs++
			if firstErr == "" {
				firstErr = r.Err.Error()
			}
			continue
		case r.Dropped:
			dropped++
			held = append(held, r.Held.Seconds())
		case r.Held >= floodHold:
			kept++
		default:
			cut++
		}
		flooded++
		written += int64(r.Written)
	}
	out := []string{fmt.Sprintf("%d rounds flooded (%.1f MB written); the seeder hung up on %d (median %.2f s, at most %.2f s after the flood began), kept %d for the whole %v, %d were open when the window ended",
		flooded, float64(written)/1e6, dropped, benchkit.Median(held), maxOf(held), kept, floodHold, cut)}
	if errs > 0 {
		out = append(out, fmt.Sprintf("%d rounds could not flood (refused or no unchoke); first: %s", errs, firstErr))
	}
	return out
}

// idleAttack is an IdleFlood for each window.
type idleAttack struct {
	locals             []string
	per                int
	peaks              []int
	attempts, handshks []int64
}

func (a *idleAttack) setup() ([]string, error) { return nil, nil }

func (a *idleAttack) run(ctx context.Context, t target, _ int) {
	f := &hostile.IdleFlood{Addr: t.addr, InfoHash: t.mi.InfoHash, Locals: a.locals, PerAddr: a.per}
	f.Run(ctx)
	at, hs := f.Dials()
	a.peaks, a.attempts, a.handshks = append(a.peaks, f.Peak()), append(a.attempts, at), append(a.handshks, hs)
}

func (a *idleAttack) details(*seeder) []string {
	return []string{fmt.Sprintf("%d connections kept up from %d address(es), reconnecting 1 s after a close; per window: at most %v open at once, %v connection attempts, %v handshakes",
		a.per*len(a.locals), len(a.locals), a.peaks, a.attempts, a.handshks)}
}

// poisonAttack is one Poisoner (127.0.0.66, 400 sockets) for the whole
// case: its socket 0 is the seeder's bootstrap contact, and each window
// runs it again, querying at 9 a second.
type poisonAttack struct {
	crafted bool
	p       *hostile.Poisoner
	goal    string // the verdict, set by details
}

// poisonIP is the poisoner's one address.
var poisonIP = netip.MustParseAddr("127.0.0.66")

func (a *poisonAttack) setup() ([]string, error) {
	a.p = &hostile.Poisoner{IP: poisonIP, Ports: 400, Crafted: a.crafted, Rate: 9, MaxQueries: 1000}
	if err := a.p.Listen(); err != nil {
		return nil, err
	}
	return []string{"--nodes", a.p.Addr().String()}, nil
}

func (a *poisonAttack) goals() []string { return []string{a.goal} }

func (a *poisonAttack) run(ctx context.Context, t target, _ int) {
	a.p.Target = t.s.dht
	a.p.Run(ctx)
}

func (a *poisonAttack) details(s *seeder) []string {
	defer a.p.Close()
	st := a.p.Stats()
	_, nodes := s.maxProgress(time.Time{}, time.Now())
	byIP := map[netip.Addr]int{}
	saved := dht.SavedContacts(tablePath(s), 100_000)
	for _, c := range saved {
		byIP[c.Addr()]++
	}
	verdict := "met"
	if byIP[poisonIP] > 1 {
		verdict = "NOT met"
	}
	kind := "random IDs"
	if a.crafted {
		kind = "IDs per bucket"
	}
	a.goal = fmt.Sprintf("DHT table poisoning (%s): %d entries from one IP (goal at most 1): %s", kind, byIP[poisonIP], verdict)
	return []string{
		fmt.Sprintf("poisoner: %d queries sent, %d answered; the seeder sent its sockets %d queries (verification pings, lookups), %d answered",
			st.QueriesSent, st.RepliesIn, st.QueriesIn, st.Answered),
		fmt.Sprintf("seeder's routing table on exit: %d entries, %d of them from %v (goal: at most 1 per IP: %s); at most %d good nodes reported while running",
			len(saved), byIP[poisonIP], poisonIP, verdict, nodes),
	}
}

// reflectAttack measures what a query from a new source brings back, per
// query type, and floods get_peers for a hash with stored peers. Each
// window first fills the seeder's table with 16 nodes of 16 addresses (so
// that its replies carry contacts, as on the real network) and stores
// peers: five addresses announce the hash on 40 ports each (as one host
// on many ports would).
type reflectAttack struct {
	goal      string              // the verdict, set by details
	nodes     []*hostile.Poisoner // one socket each: well-behaved nodes
	hash      krpc.ID
	kinds     []string
	probes    map[string][]hostile.Reflection
	floods    []hostile.FloodTally
	announced []int
	errs      []string
}

func (a *reflectAttack) setup() ([]string, error) {
	a.hash = krpc.ID{0x5a, 0x17, 0x13}
	a.probes = map[string][]hostile.Reflection{}
	for _, ip := range hostile.LoopbackAddrs("127.7.0.1", 16) {
		n := &hostile.Poisoner{IP: ip, Ports: 1, Rate: 2, MaxQueries: 1}
		if err := n.Listen(); err != nil {
			return nil, err
		}
		a.nodes = append(a.nodes, n)
	}
	return nil, nil
}

func (a *reflectAttack) goals() []string { return []string{a.goal} }

func (a *reflectAttack) run(ctx context.Context, t target, window int) {
	node := t.s.dht
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, n := range a.nodes {
		n.Target = node
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.Run(ctx)
		}()
	}
	acks := make(chan int, 5)
	for k, ip := range hostile.LoopbackAddrs(fmt.Sprintf("127.4.%d.1", window), 5) {
		go func() {
			var ports []int
			for i := range 40 {
				ports = append(ports, 20000+k*100+i)
			}
			n, _ := hostile.Announce(ctx, node, ip, a.hash, ports)
			acks <- n
		}()
	}
	total := 0
	for range 5 {
		total += <-acks
	}
	a.announced = append(a.announced, total)
	a.probe(ctx, node, window)
	get := krpc.Msg{T: []byte("fl"), Y: krpc.KindQuery, Q: krpc.MethodGetPeers, A: krpc.Args{ID: krpc.ID{0xf1}, InfoHash: a.hash}}.Encode()
	f := &hostile.QueryFlood{Target: node, Locals: hostile.LoopbackAddrs("127.6.0.1", 50), Query: get, Rate: 1000, Max: 100_000}
	tally, err := f.Run(ctx)
	if err != nil {
		a.errs = append(a.errs, err.Error())
	}
	a.floods = append(a.floods, tally)
}

// probe sends every probe query once, each from an address of its own
// that the seeder has never heard from, all at once.
func (a *reflectAttack) probe(ctx context.Context, node netip.AddrPort, window int) {
	base := fmt.Sprintf("127.5.%d.", window)
	id, err := hostile.TargetID(ctx, node, netip.MustParseAddr(base+"1"))
	if err != nil {
		a.errs = append(a.errs, "seeder's node ID: "+err.Error())
		return
	}
	queries := hostile.ProbeQueries(hostile.IDNear(id, 150), a.hash, nil)
	results := make([]hostile.Reflection, len(queries))
	done := make(chan struct{}, len(queries))
	for k, pq := range queries {
		go func() {
			defer func() { done <- struct{}{} }()
			ip := netip.MustParseAddr(fmt.Sprintf("%s%d", base, 10+k))
			if pq.Kind == "announce_peer" { // a token for this address, fetched from another port
				tok, err := hostile.Token(ctx, node, ip, a.hash)
				if err != nil {
					return
				}
				pq = hostile.ProbeQueries(hostile.IDNear(id, 150), a.hash, tok)[k]
			}
			results[k], _ = hostile.Probe(ctx, node, ip, pq, 1500*time.Millisecond)
		}()
	}
	for range queries {
		<-done
	}
	if len(a.kinds) == 0 {
		for _, q := range queries {
			a.kinds = append(a.kinds, q.Kind)
		}
	}
	for _, r := range results {
		if r.Kind != "" {
			a.probes[r.Kind] = append(a.probes[r.Kind], r)
		}
	}
}

func (a *reflectAttack) details(*seeder) []string {
	for _, n := range a.nodes {
		n.Close()
	}
	out := []string{fmt.Sprintf("stored peers: announces acknowledged per window (5 addresses x 40 ports): %v", a.announced),
		"bytes back per query byte, from a new source (reply and any follow-up within 1.5 s; medians; goal <= 2.0):"}
	worst := 0.0
	for _, k := range a.kinds {
		rs := a.probes[k]
		var sent, recv, factor []float64
		for _, r := range rs {
			sent, recv, factor = append(sent, float64(r.Sent)), append(recv, float64(r.Received)), append(factor, r.Factor())
		}
		f := benchkit.Median(factor)
		worst = max(worst, f)
		flag := ""
		if f > 2 {
			flag = "  > 2x"
		}
		out = append(out, fmt.Sprintf("  %-28s %4.0f -> %5.0f bytes  %5.2fx  (runs: %s)%s", k, benchkit.Median(sent), benchkit.Median(recv), f, benchkit.List("%.2f", factor), flag))
	}
	verdict := "met"
	if worst > 2 {
		verdict = "NOT met"
	}
	out = append(out, fmt.Sprintf("  worst query type: %.2fx (goal <= 2.0: %s)", worst, verdict))
	a.goal = fmt.Sprintf("DHT reflection: worst query type %.2fx (goal at most 2.0): %s", worst, verdict)
	for _, t := range a.floods {
		out = append(out, fmt.Sprintf("get_peers flood: %d queries (%.0f KB) from 50 addresses, %d packets (%.0f KB) back: %.2fx",
			t.Sent, float64(t.SentBytes)/1e3, t.Received, float64(t.ReceivedBytes)/1e3, t.Factor()))
	}
	if len(a.errs) > 0 {
		out = append(out, "errors: "+strings.Join(a.errs, "; "))
	}
	return out
}

// maxOf is the largest of xs, or 0.
func maxOf(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	return slices.Max(xs)
}
