package krpc

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestLibtorrentPackets6 exchanges BEP 32 packets with a libtorrent DHT
// node over IPv6 (::1), both ways:
//   - libtorrent's get_peers to us gets `values` holding an 18-byte IPv6
//     peer and a `nodes6` naming a second socket of ours: libtorrent's
//     lookup reports that peer, and queries that socket (it parsed both);
//   - our find_node and get_peers with `want` n4 and n6 get a `nodes6`
//     reply, and get_peers of the torrent libtorrent announced gets its
//     own 18-byte IPv6 address in `values`;
//   - libtorrent's announce_peer reaches us over IPv6.
//
// With SWARMDROP_KRPC_CAPTURE=DIR set it writes every packet received to
// DIR (how testdata/libtorrent6 was made).
func TestLibtorrentPackets6(t *testing.T) {
	listen := func() *net.UDPConn {
		c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	conn, decoy := listen(), listen()
	us := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	decoyAddr := decoy.LocalAddr().(*net.UDPAddr).AddrPort()
	ltPort := testpeers.FreePort(t, "::1")
	ih := sha1.Sum([]byte("krpc interop over IPv6"))
	fakePeer := netip.MustParseAddrPort("[2001:db8::42]:4242")
	lt := testpeers.StartLT(t, "dht", "--ip", "::1", "--port", strconv.Itoa(ltPort),
		"--bootstrap", us.String(), "--get", hex.EncodeToString(ih[:]), "--announce", hex.EncodeToString(ih[:]), "--seconds", "60")
	lt.Port(t)
	ltAddr := netip.AddrPortFrom(netip.IPv6Loopback(), uint16(ltPort))
	self := id("swarmdrop-krpc-six!!")
	capture := os.Getenv("SWARMDROP_KRPC_CAPTURE")

	// libtorrent's lookup output: the peers it found.
	peers := make(chan string, 16)
	go func() {
		for l := range lt.Lines {
			if p, ok := strings.CutPrefix(l, "PEER "); ok {
				peers <- p
			}
		}
	}()
	// The decoy socket records whether libtorrent queried it.
	decoyQueried := make(chan Msg, 1)
	go func() {
		buf := make([]byte, 2048)
		for {
			size, from, err := decoy.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if m, err := Decode(buf[:size]); err == nil && m.Y == KindQuery {
				select {
				case decoyQueried <- m:
				default:
				}
				decoy.WriteToUDPAddrPort(Msg{T: m.T, Y: KindResponse, R: Reply{ID: id("swarmdrop-krpc-decoy")}, IP: from}.Encode(), from)
			}
		}
	}()

	send := func(m Msg) {
		if _, err := conn.WriteToUDPAddrPort(m.Encode(), ltAddr); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"n4", "n6"}
	queries := map[string]bool{}
	replies := map[string]Msg{}
	buf := make([]byte, 65536)
	n := 0
	deadline := time.Now().Add(30 * time.Second)
	var asked time.Time
	for time.Now().Before(deadline) && !(queries[MethodAnnouncePeer] && len(replies["g6"].R.Values) > 0) {
		if queries[MethodAnnouncePeer] && time.Since(asked) > time.Second {
			// libtorrent keeps its own announce once made: ask for it
			// (again, until it is there).
			send(Msg{T: []byte("f6"), Y: KindQuery, Q: MethodFindNode, A: Args{ID: self, Target: ID(ih), Want: want}})
			send(Msg{T: []byte("g6"), Y: KindQuery, Q: MethodGetPeers, A: Args{ID: self, InfoHash: ID(ih), Want: want}})
			asked = time.Now()
		}
		conn.SetReadDeadline(time.Now().Add(time.Second))
		size, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			continue
		}
		pkt := append([]byte(nil), buf[:size]...)
		if capture != "" {
			n++
			os.WriteFile(filepath.Join(capture, fmt.Sprintf("lt6-%02d.bin", n)), pkt, 0o644)
		}
		m, err := Decode(pkt)
		if err != nil {
			t.Fatalf("libtorrent sent a packet we cannot decode: %v\n%q", err, pkt)
		}
		switch m.Y {
		case KindQuery:
			queries[m.Q] = true
			r := Msg{T: m.T, Y: KindResponse, R: Reply{ID: self}, IP: from}
			switch m.Q {
			case MethodGetPeers:
				r.R.Token = []byte("tok6")
				r.R.Values = []netip.AddrPort{fakePeer}
				// libtorrent among them: it then announces to itself too,
				// and keeps the announce.
				r.R.Nodes6 = []NodeInfo{{ID: id("swarmdrop-krpc-decoy"), Addr: decoyAddr}, {ID: m.A.ID, Addr: from}}
			case MethodFindNode:
				r.R.Nodes6 = []NodeInfo{{ID: id("swarmdrop-krpc-decoy"), Addr: decoyAddr}}
			case MethodAnnouncePeer:
				if string(m.A.Token) != "tok6" || m.A.InfoHash != ID(ih) || from.Addr() != netip.IPv6Loopback() {
					t.Fatalf("libtorrent's announce_peer from %v: %+v", from, m)
				}
			}
			conn.WriteToUDPAddrPort(r.Encode(), from)
		case KindResponse, KindError:
			replies[string(m.T)] = m
		}
	}
	if !queries[MethodGetPeers] || !queries[MethodAnnouncePeer] {
		t.Fatalf("libtorrent sent no get_peers or no announce_peer over IPv6; queries seen: %v", queries)
	}
	f, g := replies["f6"], replies["g6"]
	t.Logf("find_node want n4 n6: %d nodes, nodes6 %v; get_peers: values %v, nodes6 %v", len(f.R.Nodes), f.R.Nodes6, g.R.Values, g.R.Nodes6)
	if f.Y != KindResponse || !containsAddr(f.R.Nodes6, us) && !containsAddr(f.R.Nodes6, decoyAddr) {
		t.Errorf("libtorrent's find_node reply names neither of our IPv6 sockets in nodes6: %+v", f)
	}
	if g.Y != KindResponse || len(g.R.Token) == 0 {
		t.Errorf("libtorrent's get_peers reply: %+v", g)
	}
	found := false
	for _, v := range g.R.Values {
		found = found || v.Addr() == netip.IPv6Loopback() && v.Port() == uint16(ltPort)
	}
	if !found {
		t.Errorf("libtorrent's get_peers values %v lack its own IPv6 address [::1]:%d", g.R.Values, ltPort)
	}
	// Our 18-byte value and our nodes6, as libtorrent read them.
	select {
	case p := <-peers:
		if p != fakePeer.String() {
			t.Errorf("libtorrent's lookup reported %q, want %v", p, fakePeer)
		}
	case <-time.After(15 * time.Second):
		t.Errorf("libtorrent's lookup reported no peer from our IPv6 values")
	}
	select {
	case m := <-decoyQueried:
		t.Logf("libtorrent queried the node we named in nodes6: %s", m.Q)
	case <-time.After(15 * time.Second):
		t.Errorf("libtorrent never queried the node we named in nodes6")
	}
}

func containsAddr(nodes []NodeInfo, a netip.AddrPort) bool {
	for _, n := range nodes {
		if n.Addr == a {
			return true
		}
	}
	return false
}
