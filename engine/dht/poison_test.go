package dht

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// TestTablePoisoningOneIP attacks a node from one IP address on 300
// ports: each port queries the node with its own ID (random ones, and IDs
// crafted to fall in each bucket of the node's table) and answers the
// node's verification pings, as a real node would. Afterwards that
// address holds at most one entry of the table, and honest nodes on other
// addresses still get in.
func TestTablePoisoningOneIP(t *testing.T) {
	n, addr := startNode(t, "127.0.0.1", 0, Config{QueryRate: 10000, QueryBurst: 10000, QueryTimeout: time.Second})
	self := n.ID()
	const ports = 300
	var wg sync.WaitGroup
	var mu sync.Mutex
	pinged := 0
	for i := range ports {
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		id := randomID()
		if i%2 == 1 {
			id = idAt(self, i/2%40, i)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := krpc.Msg{T: []byte{1}, Y: krpc.KindQuery, Q: krpc.MethodFindNode, A: krpc.Args{ID: id, Target: randomID()}}
			conn.WriteToUDPAddrPort(q.Encode(), addr)
			// Answer what the node asks for a while.
			buf := make([]byte, 2048)
			conn.SetReadDeadline(time.Now().Add(1500 * time.Millisecond))
			for {
				size, from, err := conn.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				m, err := krpc.Decode(buf[:size])
				if err != nil || m.Y != krpc.KindQuery {
					continue
				}
				mu.Lock()
				pinged++
				mu.Unlock()
				r := krpc.Msg{T: m.T, Y: krpc.KindResponse, R: krpc.Reply{ID: id}}
				conn.WriteToUDPAddrPort(r.Encode(), from)
			}
		}()
	}
	wg.Wait()
	checkTable(t, n.tables[ipv4])
	attacker := netip.MustParsePrefix("127.0.0.2/32")
	nodes, spares := entriesIn(n.tables[ipv4], attacker)
	t.Logf("%d ports of one address: %d verification pings answered; %d nodes and %d spares at that address, table %d nodes",
		ports, pinged, nodes, spares, n.tables[ipv4].Len())
	if pinged == 0 {
		t.Fatal("the node verified none of the attacker's ports: the attack did not run")
	}
	if nodes+spares > 1 {
		t.Fatalf("one address holds %d nodes and %d spares", nodes, spares)
	}
	// Honest nodes, each on its own address, still enter.
	for i := range 8 {
		_, a := startNode(t, fmt.Sprintf("127.0.4.%d", i+1), 0, Config{Bootstrap: []string{addr.String()}, QueryTimeout: time.Second})
		waitFor(t, "an honest node in the table", 5*time.Second, func() bool { return n.tables[ipv4].Has(a) })
	}
}

// TestPeerStoreAnnounceFlood announces one torrent from one address on
// 1,000 ports (with valid tokens), and from 50 other addresses: the store
// keeps at most one peer per address (BEP 33), the other addresses'
// peers stay, and a get_peers from a new address gets a reply within
// twice its size.
func TestPeerStoreAnnounceFlood(t *testing.T) {
	n, addr := startNode(t, "127.0.0.1", 0, Config{QueryRate: 10000, QueryBurst: 10000})
	ih := randomID()
	flooder := newClient(t, "127.0.0.2")
	r, _ := flooder.call(krpc.Msg{Q: krpc.MethodGetPeers, A: krpc.Args{InfoHash: ih}}, addr)
	for port := 1; port <= 1000; port++ {
		flooder.send(krpc.Msg{Q: krpc.MethodAnnouncePeer, A: krpc.Args{InfoHash: ih, Token: r.R.Token, Port: port}}, addr)
		if port%100 == 0 { // let the node keep up, as a socket buffer would not
			flooder.call(krpc.Msg{Q: krpc.MethodPing}, addr)
		}
	}
	var honest []netip.AddrPort
	for i := range 50 {
		c := newClient(t, fmt.Sprintf("127.0.5.%d", i+1))
		r, _ := c.call(krpc.Msg{Q: krpc.MethodGetPeers, A: krpc.Args{InfoHash: ih}}, addr)
		if m, _ := c.call(krpc.Msg{Q: krpc.MethodAnnouncePeer, A: krpc.Args{InfoHash: ih, Token: r.R.Token, Port: 6881}}, addr); m.Y != krpc.KindResponse {
			t.Fatalf("announce: %+v", m)
		}
		honest = append(honest, netip.AddrPortFrom(c.addr().Addr(), 6881))
	}
	stored := n.peers.Get(ih, 1000, netip.MustParseAddr("127.0.0.1"), false, time.Now())
	byIP := map[netip.Addr]int{}
	for _, p := range stored {
		byIP[p.Addr()]++
	}
	t.Logf("after 1,000 announces from one address and 50 from others: %d peers stored, %d of the flooder", len(stored), byIP[flooder.addr().Addr()])
	for ip, k := range byIP {
		if k > 1 {
			t.Fatalf("%v holds %d peers of one torrent, limit 1", ip, k)
		}
	}
	for _, h := range honest {
		if !slices.Contains(stored, h) {
			t.Fatalf("honest peer %v is gone", h)
		}
	}
	c := newClient(t, "127.0.6.1")
	q := krpc.Msg{T: []byte("a"), Y: krpc.KindQuery, Q: krpc.MethodGetPeers, A: krpc.Args{ID: c.id, InfoHash: ih}}.Encode()
	c.sendRaw(q, addr)
	got, _ := c.received(200 * time.Millisecond)
	if got == 0 || got > 2*len(q) {
		t.Fatalf("a %d-byte get_peers got %d bytes back", len(q), got)
	}
}
