package dht

import (
	"net/netip"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

func testAddr(i int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 6881)
}

// idAt returns an ID sharing exactly prefix bits with self, made unique by
// n in its last bytes.
func idAt(self ID, prefix, n int) ID {
	id := randomIDWithPrefix(self, prefix, false)
	id[18], id[19] = byte(n>>8), byte(n)
	return id
}

func TestTableSplitsOnlyOwnBucket(t *testing.T) {
	now := time.Now()
	self := ID{}
	tb := newRoutingTable(self, now)
	// 8 nodes far away (first bit set), then 8 more far away: the far
	// bucket stays at 8, the others become spares.
	for i := range 16 {
		tb.Seen(idAt(self, 0, i), testAddr(i), now)
	}
	if g, _, b := tb.Counts(now); g != K || b != 2 {
		t.Fatalf("got %d good in %d buckets, want %d in 2", g, b, K)
	}
	// Nodes close to us split our bucket again and again.
	for i := range 40 {
		tb.Seen(idAt(self, 1+i%5, 100+i), testAddr(100+i), now)
	}
	g, _, b := tb.Counts(now)
	if b < 6 || g != K+40 {
		t.Fatalf("got %d good in %d buckets; want %d in at least 6", g, b, K+40)
	}
	// Every bucket but the last holds IDs sharing exactly its index.
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for i, bk := range tb.buckets {
		if len(bk.nodes) > K {
			t.Fatalf("bucket %d has %d nodes", i, len(bk.nodes))
		}
		for _, e := range bk.nodes {
			cpl := commonPrefixLen(self, e.id)
			if i < len(tb.buckets)-1 && cpl != i || cpl < i {
				t.Fatalf("bucket %d holds an ID with prefix %d", i, cpl)
			}
		}
	}
}

func TestTableReplacesBadNodeAfterTwoFailures(t *testing.T) {
	now := time.Now()
	self := ID{}
	tb := newRoutingTable(self, now)
	for i := range K {
		tb.Seen(idAt(self, 0, i), testAddr(i), now)
	}
	// Force the far bucket to stay far by filling ours too.
	for i := range K {
		tb.Seen(idAt(self, 3, 50+i), testAddr(50+i), now)
	}
	spare := idAt(self, 0, 99)
	tb.Seen(spare, testAddr(99), now)
	if got := tb.Closest(spare, 1, false, now); got[0].ID == spare {
		t.Fatal("a full bucket of good nodes took a new one")
	}
	// Once the nodes are questionable (15 minutes on), they are the ones
	// maintenance pings, the bucket with a spare first.
	later := now.Add(goodFor + time.Minute)
	ping := tb.ToPing(later, time.Second, 100)
	if len(ping) < K {
		t.Fatalf("ToPing gave %d nodes, want the %d of the bucket with a spare", len(ping), K)
	}
	victim := testAddr(3)
	tb.Failed(victim, later)
	if got := tb.Closest(spare, K+1, false, later); containsID(got, spare) {
		t.Fatal("replaced after one failure")
	}
	tb.Failed(victim, later)
	got := tb.Closest(spare, K, false, later)
	if !containsID(got, spare) {
		t.Fatalf("the spare did not replace the node that failed twice: %v", got)
	}
	for _, c := range got {
		if c.Addr == victim {
			t.Fatal("the bad node is still there")
		}
	}
}

func containsID(nodes []krpc.NodeInfo, id ID) bool {
	for _, n := range nodes {
		if n.ID == id {
			return true
		}
	}
	return false
}

func TestTableOneNodePerAddress(t *testing.T) {
	now := time.Now()
	tb := newRoutingTable(ID{}, now)
	a := testAddr(1)
	first, second := idAt(ID{}, 0, 1), idAt(ID{}, 0, 2)
	tb.Seen(first, a, now)
	tb.Seen(second, a, now) // the node at a restarted with a new ID
	all := tb.All(now)
	if len(all) != 1 || all[0].ID != second {
		t.Fatalf("got %v", all)
	}
	// A known good ID claimed from another address is ignored.
	tb.Seen(second, testAddr(2), now)
	all = tb.All(now)
	if len(all) != 1 || all[0].Addr != a {
		t.Fatalf("got %v", all)
	}
	// Our own ID and unusable addresses never enter.
	tb.Seen(ID{}, testAddr(3), now)
	tb.Seen(idAt(ID{}, 0, 3), netip.AddrPortFrom(netip.MustParseAddr("10.0.0.9"), 0), now)
	if tb.Len() != 1 {
		t.Fatalf("table has %d nodes", tb.Len())
	}
}

func TestTableStatesAndQueried(t *testing.T) {
	now := time.Now()
	tb := newRoutingTable(ID{}, now)
	id := idAt(ID{}, 0, 1)
	if !tb.Queried(id, testAddr(1), now) {
		t.Fatal("an unknown node with room in its bucket is not worth a ping")
	}
	tb.Add(id, testAddr(1), now)
	if g, q, _ := tb.Counts(now); g != 0 || q != 1 {
		t.Fatalf("a loaded node is %d good %d questionable", g, q)
	}
	tb.Seen(id, testAddr(1), now)
	if g, _, _ := tb.Counts(now); g != 1 {
		t.Fatal("a node that answered is not good")
	}
	later := now.Add(goodFor + time.Second)
	if g, q, _ := tb.Counts(later); g != 0 || q != 1 {
		t.Fatal("a silent node stays good")
	}
	// BEP 5: it is good again if it queries us after having answered.
	if tb.Queried(id, testAddr(1), later) {
		t.Fatal("a known node is worth a ping")
	}
	if g, _, _ := tb.Counts(later); g != 1 {
		t.Fatal("a node that answered once and queried us recently is not good")
	}
	if len(tb.Closest(ID{}, K, true, later)) != 1 {
		t.Fatal("ClosestGood")
	}
}

func TestTableResetRefilesNodes(t *testing.T) {
	now := time.Now()
	tb := newRoutingTable(ID{}, now)
	for i := range 30 {
		tb.Seen(randomID(), testAddr(i), now)
	}
	old := tb.All(now)
	self := randomID()
	tb.Reset(self, now)
	if tb.Self() != self || tb.Len() < K {
		t.Fatalf("after reset: self %x, %d nodes (had %d)", tb.Self(), tb.Len(), len(old))
	}
	// Every node is kept unless its bucket under the new ID is full (it
	// then waits as a spare). (A bound such as "at most K lost" failed
	// about 1 time in 50: two far buckets may both overflow.)
	tb.mu.Lock()
	for _, n := range old {
		if b := tb.buckets[tb.indexLocked(n.ID)]; tb.byAddr[n.Addr] == nil && len(b.nodes) < K {
			t.Errorf("node %v dropped from a bucket of %d", n.Addr, len(b.nodes))
		}
	}
	tb.mu.Unlock()
	if stale := tb.Stale(now.Add(time.Hour), 15*time.Minute); len(stale) == 0 {
		t.Fatal("no stale bucket after an hour")
	}
	if stale := tb.Stale(now.Add(time.Hour), 15*time.Minute); len(stale) != 0 {
		t.Fatal("buckets stay stale once their refresh started")
	}
}

// TestTablePrefersSecureIDs: BEP 42 is preferred, not required. A full
// bucket of questionable nodes whose IDs do not match their public
// addresses gives way to a node whose ID does; another mismatched node
// waits as a spare; and a spare with a valid ID is promoted first.
func TestTablePrefersSecureIDs(t *testing.T) {
	now := time.Now()
	self := ID{} // far bucket: IDs starting with a 1 bit
	tb := newRoutingTable(self, now)
	public := func(i int) netip.AddrPort { // one /24 each: a bucket takes one node per /24
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{8, byte(i >> 8), byte(i), 1}), 6881)
	}
	far := func(id ID) ID { id[0] |= 0x80; return id }
	for i := range K {
		tb.Seen(far(randomID()), public(i), now)
	}
	for i := range K { // fill our own half so the far bucket stops splitting
		tb.Seen(idAt(self, 2, 50+i), testAddr(50+i), now)
	}
	later := now.Add(goodFor + time.Minute)
	insecure := far(randomID())
	tb.Seen(insecure, public(100), later)
	if containsID(tb.All(later), insecure) {
		t.Fatal("a mismatched ID displaced a node")
	}
	var secure ID
	for secure[0]&0x80 == 0 { // a valid ID for its address that falls in the far bucket
		secure = secureID(public(101).Addr(), byte(randomID()[0]))
	}
	if !secureIDValid(secure, public(101).Addr()) {
		t.Fatal("secureID")
	}
	tb.Seen(secure, public(101), later)
	if !containsID(tb.All(later), secure) {
		t.Fatal("a valid BEP 42 ID did not replace a questionable mismatched one")
	}
	// Spares: the valid one is promoted before a more recent mismatched one.
	var spareSecure ID
	for spareSecure[0]&0x80 == 0 {
		spareSecure = secureID(public(102).Addr(), byte(randomID()[0]))
	}
	tb.mu.Lock()
	b := tb.buckets[0]
	for len(b.spares) > 0 {
		tb.dropLocked(b.spares[0])
	}
	tb.addSpareLocked(b, &entry{id: spareSecure, addr: public(102), lastResponse: later, secure: true})
	tb.addSpareLocked(b, &entry{id: far(randomID()), addr: public(103), lastResponse: later})
	tb.mu.Unlock()
	victim := tb.Closest(far(ID{}), K, false, later)[0].Addr
	if victim == public(101) {
		victim = tb.Closest(far(ID{}), K, false, later)[1].Addr
	}
	tb.Failed(victim, later)
	tb.Failed(victim, later)
	if !containsID(tb.All(later), spareSecure) {
		t.Fatal("the spare with a valid ID was not promoted first")
	}
}

// checkTable fails t unless the table's indexes agree with its buckets,
// no IP address holds two entries (nodes and spares), and no bucket holds
// two entries of one non-local subnet.
func checkTable(t *testing.T, tb *routingTable) {
	t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	ips := map[netip.Addr]bool{}
	nodes := 0
	for i, b := range tb.buckets {
		nets := map[netip.Prefix]bool{}
		for li, list := range [][]*entry{b.nodes, b.spares} {
			for _, e := range list {
				ip := e.addr.Addr()
				if ips[ip] {
					t.Fatalf("two entries at %v", ip)
				}
				ips[ip] = true
				if tb.byIP[ip] != e {
					t.Fatalf("byIP[%v] is not its entry", ip)
				}
				if net, ok := subnetOf(ip); ok {
					if nets[net] {
						t.Fatalf("bucket %d holds two entries of %v", i, net)
					}
					nets[net] = true
				}
				if e.spare != (li == 1) {
					t.Fatalf("entry %v: spare flag %v", e.addr, e.spare)
				}
			}
		}
		for _, e := range b.nodes {
			if tb.byAddr[e.addr] != e {
				t.Fatalf("byAddr[%v] is not its node", e.addr)
			}
		}
		nodes += len(b.nodes)
	}
	if len(tb.byAddr) != nodes || len(tb.byIP) != len(ips) {
		t.Fatalf("indexes: %d by address for %d nodes, %d by IP for %d entries", len(tb.byAddr), nodes, len(tb.byIP), len(ips))
	}
}

// entriesIn counts the nodes and spares whose address net holds.
func entriesIn(tb *routingTable, net netip.Prefix) (nodes, spares int) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, b := range tb.buckets {
		for _, e := range b.nodes {
			if net.Contains(e.addr.Addr()) {
				nodes++
			}
		}
		for _, e := range b.spares {
			if net.Contains(e.addr.Addr()) {
				spares++
			}
		}
	}
	return nodes, spares
}

// TestTableOneEntryPerIP poisons a table from one address on 2,000 ports,
// with random IDs and IDs crafted for each bucket, after honest nodes
// have filled it: one entry at most holds that address, loopback
// included. When that node goes bad, the address may come back on
// another port (a restart behind a NAT).
func TestTableOneEntryPerIP(t *testing.T) {
	for _, attacker := range []string{"203.0.113.7", "127.0.0.2", "2001:db8::7"} {
		t.Run(attacker, func(t *testing.T) {
			now := time.Now()
			self := randomID()
			tb := newRoutingTable(self, now)
			for i := range 200 {
				tb.Seen(randomID(), netip.AddrPortFrom(netip.AddrFrom4([4]byte{8, byte(i), 1, 1}), 6881), now)
			}
			ip := netip.MustParseAddr(attacker)
			for port := 1; port <= 2000; port++ {
				id := randomID()
				if port%2 == 0 {
					id = idAt(self, port/2%idBits, port)
				}
				addr := netip.AddrPortFrom(ip, uint16(port))
				tb.Queried(id, addr, now)
				tb.Seen(id, addr, now)
			}
			checkTable(t, tb)
			nodes, spares := entriesIn(tb, netip.PrefixFrom(ip, ip.BitLen()))
			if nodes+spares != 1 {
				t.Fatalf("%d nodes and %d spares at %v after 2,000 ports", nodes, spares, ip)
			}
			var held netip.AddrPort
			for _, n := range tb.All(now) {
				if n.Addr.Addr() == ip {
					held = n.Addr
				}
			}
			if !held.IsValid() {
				t.Fatal("the address holds only a spare; the test wants a node")
			}
			tb.Failed(held, now)
			tb.Failed(held, now)
			later, id := netip.AddrPortFrom(ip, 9999), idAt(self, 150, 1) // a bucket with room
			if !tb.Queried(id, later, now) {
				t.Fatal("a bad node's address is not worth a ping from another port")
			}
			tb.Seen(id, later, now)
			checkTable(t, tb)
			if !tb.Has(later) {
				t.Fatal("the address did not come back on a new port after its node went bad")
			}
		})
	}
}

// TestTableOneNodePerSubnetPerBucket poisons a table from 256 addresses of
// one /24 (and 256 of one IPv6 /64), with IDs crafted for each bucket:
// each bucket keeps at most one of them; a LAN's addresses are exempt.
func TestTableOneNodePerSubnetPerBucket(t *testing.T) {
	for _, net := range []string{"198.51.100.0/24", "2001:db8:1:2::/64", "192.168.1.0/24"} {
		t.Run(net, func(t *testing.T) {
			now := time.Now()
			self := randomID()
			tb := newRoutingTable(self, now)
			for i := range 200 {
				tb.Seen(randomID(), netip.AddrPortFrom(netip.AddrFrom4([4]byte{8, byte(i), 1, 1}), 6881), now)
			}
			p := netip.MustParsePrefix(net)
			ip := p.Addr()
			for i := range 256 {
				ip = ip.Next()
				tb.Seen(idAt(self, i%24, i), netip.AddrPortFrom(ip, 6881), now)
			}
			checkTable(t, tb)
			nodes, spares := entriesIn(tb, p)
			_, _, buckets := tb.Counts(now)
			t.Logf("%v: %d nodes and %d spares in %d buckets", p, nodes, spares, buckets)
			if exemptIP(p.Addr()) {
				if nodes <= buckets {
					t.Fatalf("a LAN's nodes were limited to %d", nodes)
				}
				return
			}
			if nodes+spares > buckets {
				t.Fatalf("%d entries of %v in %d buckets", nodes+spares, p, buckets)
			}
		})
	}
}
