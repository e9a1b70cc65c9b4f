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
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestLibtorrentPackets exchanges real packets with a libtorrent DHT node:
// it decodes libtorrent's queries (it bootstraps from us and looks up a
// torrent), answers them with our encoder, and decodes libtorrent's
// responses and errors to our queries. With SWARMDROP_KRPC_CAPTURE=DIR set
// it also writes every packet received to DIR (how testdata/libtorrent was
// made).
func TestLibtorrentPackets(t *testing.T) {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ourPort := conn.LocalAddr().(*net.UDPAddr).Port
	ltIP := "127.0.0.12"
	ltPort := testpeers.FreePort(t, ltIP)
	ih := sha1.Sum([]byte("krpc interop"))
	testpeers.StartLT(t, "dht", "--ip", ltIP, "--port", strconv.Itoa(ltPort),
		"--bootstrap", fmt.Sprintf("127.0.0.1:%d", ourPort),
		"--get", hex.EncodeToString(ih[:]), "--announce", hex.EncodeToString(ih[:]), "--seconds", "60").Port(t)
	lt := netip.AddrPortFrom(netip.MustParseAddr(ltIP), uint16(ltPort))
	self := id("swarmdrop-krpc-test!")
	capture := os.Getenv("SWARMDROP_KRPC_CAPTURE")

	send := func(m Msg) {
		if _, err := conn.WriteTo(m.Encode(), net.UDPAddrFromAddrPort(lt)); err != nil {
			t.Fatal(err)
		}
	}
	// Our queries to libtorrent, one of each method, then an announce with
	// a wrong token; the transaction ID says which is which.
	send(Msg{T: []byte("p1"), Y: KindQuery, Q: MethodPing, A: Args{ID: self}})
	send(Msg{T: []byte("f1"), Y: KindQuery, Q: MethodFindNode, A: Args{ID: self, Target: ID(ih)}})
	send(Msg{T: []byte("g1"), Y: KindQuery, Q: MethodGetPeers, A: Args{ID: self, InfoHash: ID(ih)}})

	seenQueries := map[string]bool{}
	replies := map[string]Msg{}
	buf := make([]byte, 65536)
	deadline := time.Now().Add(30 * time.Second)
	n := 0
	for time.Now().Before(deadline) && !(seenQueries[MethodAnnouncePeer] && len(replies) >= 5) {
		conn.SetReadDeadline(time.Now().Add(time.Second))
		size, from, err := conn.ReadFrom(buf)
		if err != nil {
			continue
		}
		pkt := append([]byte(nil), buf[:size]...)
		if capture != "" {
			n++
			os.WriteFile(filepath.Join(capture, fmt.Sprintf("lt-%02d.bin", n)), pkt, 0o644)
		}
		m, err := Decode(pkt)
		if err != nil {
			t.Fatalf("libtorrent sent a packet we cannot decode: %v\n%q", err, pkt)
		}
		if again, err := Decode(m.Encode()); err != nil {
			t.Fatalf("our re-encoding of %q does not decode: %v", pkt, err)
		} else if again.Y != m.Y || again.Q != m.Q || again.A.ID != m.A.ID || again.R.ID != m.R.ID {
			t.Fatalf("re-encoding changed %+v into %+v", m, again)
		}
		switch m.Y {
		case KindQuery:
			seenQueries[m.Q] = true
			if m.A.ID == (ID{}) {
				t.Fatalf("query without an id: %+v", m)
			}
			if m.Q == MethodAnnouncePeer && (string(m.A.Token) != "tok" || m.A.Port == 0 || m.A.InfoHash != ID(ih)) {
				t.Fatalf("libtorrent's announce_peer: %+v", m)
			}
			r := Msg{T: m.T, Y: KindResponse, R: Reply{ID: self}, IP: from.(*net.UDPAddr).AddrPort()}
			if m.Q == MethodGetPeers {
				r.R.Token = []byte("tok")
				r.R.Values = []netip.AddrPort{netip.MustParseAddrPort("127.0.0.99:4242")}
			}
			conn.WriteTo(r.Encode(), from)
		case KindResponse, KindError:
			replies[string(m.T)] = m
			if string(m.T) == "g1" && m.Y == KindResponse {
				if len(m.R.Token) == 0 {
					t.Fatalf("libtorrent's get_peers reply has no token: %+v", m)
				}
				send(Msg{T: []byte("a1"), Y: KindQuery, Q: MethodAnnouncePeer,
					A: Args{ID: self, InfoHash: ID(ih), Port: 4321, Token: m.R.Token}})
				send(Msg{T: []byte("a2"), Y: KindQuery, Q: MethodAnnouncePeer,
					A: Args{ID: self, InfoHash: ID(ih), Port: 4321, Token: []byte("wrong token")}})
			}
		}
	}
	if !seenQueries[MethodGetPeers] || !seenQueries[MethodAnnouncePeer] {
		t.Errorf("libtorrent sent no get_peers or no announce_peer; queries seen: %v", seenQueries)
	}
	for _, tid := range []string{"p1", "f1", "g1", "a1"} {
		m, ok := replies[tid]
		if !ok || m.Y != KindResponse || m.R.ID == (ID{}) {
			t.Errorf("reply %s: %+v (present %v)", tid, m, ok)
		}
	}
	if m := replies["a2"]; m.Y != KindError || m.E.Code != CodeProtocol {
		t.Errorf("announce with a wrong token: got %+v, want error 203", m)
	}
	if ip := replies["p1"].IP; ip.Addr() != netip.MustParseAddr("127.0.0.1") || int(ip.Port()) != ourPort {
		t.Errorf("libtorrent's ping reply has ip %v, want 127.0.0.1:%d", ip, ourPort)
	}
	t.Logf("queries from libtorrent: %v; replies: %d", seenQueries, len(replies))
}
