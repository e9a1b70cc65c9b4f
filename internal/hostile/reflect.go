package hostile

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// A reflection attacker sends small queries with a forged source address
// and lets a DHT node send its larger answers to the victim. The probes
// here measure what that is worth: bytes that come back to a source the
// node has never heard from, per byte sent.

// Reflection is what one probe sent and what came back.
type Reflection struct {
	Kind string
	// Sent is the size of the query; Received the bytes of every packet
	// that came back to its socket within the wait (the reply and any
	// follow-up, such as the ping a node sends to verify a new querier),
	// in Packets packets.
	Sent, Received, Packets int
}

// Factor is Received / Sent.
func (r Reflection) Factor() float64 {
	if r.Sent == 0 {
		return 0
	}
	return float64(r.Received) / float64(r.Sent)
}

// ProbeQuery is one kind of query to weigh.
type ProbeQuery struct {
	Kind  string
	Query []byte
}

// ProbeQueries returns one query of each kind, each as small as it can be
// made (a one-byte transaction ID, no `v`), sent with node ID id: ping,
// find_node (plain, and asking for both address families), get_peers for a
// hash nobody announced and for stored (a hash with announced peers), a
// BEP 33 scrape of stored, announce_peer with token (valid for the
// probe's IP), a malformed query and an unknown method.
func ProbeQueries(id, stored krpc.ID, token []byte) []ProbeQuery {
	q := func(method string, a krpc.Args) []byte {
		a.ID = id
		return krpc.Msg{T: []byte("a"), Y: krpc.KindQuery, Q: method, A: a}.Encode()
	}
	return []ProbeQuery{
		{"ping", q(krpc.MethodPing, krpc.Args{})},
		{"find_node", q(krpc.MethodFindNode, krpc.Args{Target: randomID()})},
		{"find_node want n4 n6", q(krpc.MethodFindNode, krpc.Args{Target: randomID(), Want: []string{"n4", "n6"}})},
		{"get_peers (nothing stored)", q(krpc.MethodGetPeers, krpc.Args{InfoHash: randomID()})},
		{"get_peers (stored peers)", q(krpc.MethodGetPeers, krpc.Args{InfoHash: stored})},
		{"get_peers scrape (stored)", scrapeQuery(id, stored)},
		{"announce_peer", q(krpc.MethodAnnouncePeer, krpc.Args{InfoHash: stored, Token: token, Port: 6881})},
		{"malformed (short id)", []byte("d1:ad2:id3:abce1:q4:ping1:t1:a1:y1:qe")},
		{"unknown method", q("vote", krpc.Args{})},
	}
}

// scrapeQuery is a BEP 33 get_peers with scrape=1, bencoded by hand (the
// codec may not know the key).
func scrapeQuery(id, ih krpc.ID) []byte {
	b := []byte("d1:ad2:id20:")
	b = append(b, id[:]...)
	b = append(b, "9:info_hash20:"...)
	b = append(b, ih[:]...)
	b = append(b, "6:scrapei1ee1:q9:get_peers1:t1:a1:y1:qe"...)
	return b
}

// Probe sends query once from a new socket on local to target and counts
// every byte that comes back within wait.
func Probe(ctx context.Context, target netip.AddrPort, local netip.Addr, pq ProbeQuery, wait time.Duration) (Reflection, error) {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(local, 0)))
	if err != nil {
		return Reflection{}, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	r := Reflection{Kind: pq.Kind, Sent: len(pq.Query)}
	if _, err := c.WriteToUDPAddrPort(pq.Query, target); err != nil {
		return r, err
	}
	buf := make([]byte, 65536)
	deadline := time.Now().Add(wait)
	for {
		c.SetReadDeadline(deadline)
		n, _, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			return r, ctx.Err()
		}
		r.Received += n
		r.Packets++
	}
}

// call sends a query from c to target and returns its reply, trying three
// times (2 s each).
func call(ctx context.Context, c *net.UDPConn, target netip.AddrPort, q krpc.Msg) (krpc.Msg, error) {
	buf := make([]byte, 65536)
	for try := range 3 {
		q.T = []byte{'c', byte(try)}
		if _, err := c.WriteToUDPAddrPort(q.Encode(), target); err != nil {
			return krpc.Msg{}, err
		}
		deadline := time.Now().Add(2 * time.Second)
		for ctx.Err() == nil {
			c.SetReadDeadline(deadline)
			n, _, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				break
			}
			m, err := krpc.Decode(buf[:n])
			if err == nil && m.Y != krpc.KindQuery && string(m.T) == string(q.T) {
				if m.Y == krpc.KindError {
					return m, m.E
				}
				return m, nil
			}
		}
	}
	if ctx.Err() != nil {
		return krpc.Msg{}, ctx.Err()
	}
	return krpc.Msg{}, fmt.Errorf("%s to %v: no answer", q.Q, target)
}

// dialUDP opens a socket on local (any port), closed when ctx ends.
func dialUDP(ctx context.Context, local netip.Addr) (*net.UDPConn, func(), error) {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(local, 0)))
	if err != nil {
		return nil, nil, err
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	return c, func() { stop(); c.Close() }, nil
}

// TargetID pings target from local and returns its node ID.
func TargetID(ctx context.Context, target netip.AddrPort, local netip.Addr) (krpc.ID, error) {
	c, done, err := dialUDP(ctx, local)
	if err != nil {
		return krpc.ID{}, err
	}
	defer done()
	m, err := call(ctx, c, target, krpc.Msg{Y: krpc.KindQuery, Q: krpc.MethodPing, A: krpc.Args{ID: randomID()}})
	return m.R.ID, err
}

// Announce announces local's IP for ih with each of ports (one socket,
// the port given as an argument), one every 20 ms, and returns how many
// the target acknowledged. A node usually answers 50 queries from one
// address at once and 10 a second after that.
func Announce(ctx context.Context, target netip.AddrPort, local netip.Addr, ih krpc.ID, ports []int) (int, error) {
	c, done, err := dialUDP(ctx, local)
	if err != nil {
		return 0, err
	}
	defer done()
	id := randomID()
	r, err := call(ctx, c, target, krpc.Msg{Y: krpc.KindQuery, Q: krpc.MethodGetPeers, A: krpc.Args{ID: id, InfoHash: ih}})
	if err != nil {
		return 0, fmt.Errorf("token: %w", err)
	}
	if len(r.R.Token) == 0 {
		return 0, errors.New("token: the target gave none")
	}
	ok := 0
	for _, port := range ports {
		_, err := call(ctx, c, target, krpc.Msg{Y: krpc.KindQuery, Q: krpc.MethodAnnouncePeer,
			A: krpc.Args{ID: id, InfoHash: ih, Token: r.R.Token, Port: port}})
		if err == nil {
			ok++
		}
		if ctx.Err() != nil {
			return ok, ctx.Err()
		}
		time.Sleep(20 * time.Millisecond)
	}
	return ok, nil
}

// Token returns a get_peers token of target for local's IP address (from
// a socket of its own).
func Token(ctx context.Context, target netip.AddrPort, local netip.Addr, ih krpc.ID) ([]byte, error) {
	c, done, err := dialUDP(ctx, local)
	if err != nil {
		return nil, err
	}
	defer done()
	r, err := call(ctx, c, target, krpc.Msg{Y: krpc.KindQuery, Q: krpc.MethodGetPeers, A: krpc.Args{ID: randomID(), InfoHash: ih}})
	return r.R.Token, err
}

// IDNear returns an ID sharing depth leading bits with id (and differing
// at the next): an ID the owner of id files in one of its deepest buckets,
// where it wants every newcomer.
func IDNear(id krpc.ID, depth int) krpc.ID { return idForBucket(id, depth) }

// QueryFlood sends Query (as is) to Target from one socket per address of
// Locals in turn, at Rate packets per second in all, up to Max packets,
// and counts what comes back.
type QueryFlood struct {
	Target netip.AddrPort
	Locals []netip.Addr
	Query  []byte
	Rate   float64
	Max    int
}

// FloodTally counts a QueryFlood's traffic.
type FloodTally struct {
	Sent, SentBytes         int64
	Received, ReceivedBytes int64
}

// Factor is ReceivedBytes / SentBytes.
func (t FloodTally) Factor() float64 {
	if t.SentBytes == 0 {
		return 0
	}
	return float64(t.ReceivedBytes) / float64(t.SentBytes)
}

// Run floods until Max packets are sent or ctx ends, waits half a second
// for the last answers and returns the tally.
func (f *QueryFlood) Run(ctx context.Context) (FloodTally, error) {
	var conns []*net.UDPConn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for _, a := range f.Locals {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(a, 0)))
		if err != nil {
			return FloodTally{}, err
		}
		conns = append(conns, c)
	}
	if len(conns) == 0 || f.Rate <= 0 {
		return FloodTally{}, errors.New("hostile: QueryFlood needs Locals and a Rate")
	}
	var recv, recvBytes atomic.Int64
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 65536)
			for {
				n, _, err := c.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				recv.Add(1)
				recvBytes.Add(int64(n))
			}
		}()
	}
	var t FloodTally
	start := time.Now()
	tick := time.NewTicker(10 * time.Millisecond)
	for t.Sent < int64(f.Max) && ctx.Err() == nil {
		due := min(int64(f.Rate*time.Since(start).Seconds())+1, int64(f.Max))
		for ; t.Sent < due; t.Sent++ {
			c := conns[t.Sent%int64(len(conns))]
			if _, err := c.WriteToUDPAddrPort(f.Query, f.Target); err == nil {
				t.SentBytes += int64(len(f.Query))
			}
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	tick.Stop()
	select {
	case <-ctx.Done():
	case <-time.After(500 * time.Millisecond):
	}
	for _, c := range conns {
		c.Close()
	}
	wg.Wait()
	t.Received, t.ReceivedBytes = recv.Load(), recvBytes.Load()
	return t, nil
}

// LoopbackAddrs returns count addresses 127.x.y.z from first on, as
// netip.Addr values (see Addrs).
func LoopbackAddrs(first string, count int) []netip.Addr {
	var out []netip.Addr
	for _, s := range Addrs(first, count) {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}
