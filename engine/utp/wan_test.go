package utp

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/linkem"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// wanLink is issue 16's emulated internet path: 50 ms and 1 % loss each
// way (a 100 ms round trip).
var wanLink = linkem.Link{Delay: 50 * time.Millisecond, Loss: 0.01}

// startUDPIn serves a uTP socket on a UDP socket opened in host i of topo.
func startUDPIn(t *testing.T, topo *linkem.Topology, i int) (*Socket, netip.AddrPort) {
	t.Helper()
	var conn *net.UDPConn
	err := topo.Do(i, func() error {
		pc, err := net.ListenPacket("udp4", net.JoinHostPort(topo.Addr4(i).String(), "0"))
		if err == nil {
			conn = pc.(*net.UDPConn)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return serveMuxed(t, conn)
}

// startLTIn runs ltpeer.py in host i of topo until the test ends.
func startLTIn(t *testing.T, topo *linkem.Topology, i int, args ...string) *testpeers.Proc {
	t.Helper()
	testpeers.RequireLibtorrent(t)
	return testpeers.Start(t, "ip", append([]string{"netns", "exec", topo.Namespace(i), testpeers.Python, testpeers.LTPeer()}, args...)...)
}

// TestLibtorrentOverWAN runs both directions with a uTP-only libtorrent
// through an emulated link of 50 ms and 1 % loss each way: everything
// arrives byte-identical, the losses are recovered. (1 MiB each way, about
// 5 s at the 200 KB/s LEDBAT reaches on such a link; make bench-utp
// compares the speed with libtorrent's own.)
func TestLibtorrentOverWAN(t *testing.T) {
	topo := linkem.Start(t, linkem.Pair("utp", wanLink, wanLink))
	torrent, dir, data, mi := makeTorrent(t, 1<<20, 3)

	// libtorrent seeds in host 0; we download in host 1.
	lt := startLTIn(t, topo, 0, "seed", torrent, dir, "--port", "0", "--ip", topo.Addr4(0).String(), "--utp", "--check", "--seconds", "180")
	port := lt.Port(t)
	lt.Wait(t, "SEEDING", 30*time.Second)
	s, local := startUDPIn(t, topo, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	c, err := s.Dial(ctx, netip.AddrPortFrom(topo.Addr4(0), uint16(port)))
	cancel()
	if err != nil {
		t.Fatalf("dialing libtorrent across the link: %v", err)
	}
	start := time.Now()
	got, err := fetchAll(c, mi, 150*time.Second)
	if err != nil {
		t.Fatalf("downloading: %v (%+v)", err, c.Stats())
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("content differs at byte %d", firstDiff(got, data))
	}
	st := c.Stats()
	c.Close()
	took := time.Since(start)
	t.Logf("from libtorrent: %d MiB in %v; %+v", len(data)>>20, took.Round(time.Millisecond), st)
	lt.Wait(t, fmt.Sprintf("PEERCONN %v utp", local), 10*time.Second)
	// The link bit if it lost packets and the transfer took many round
	// trips. (Our RTT estimate is no witness: a receiver samples it from
	// its few sent packets only, and none when the SYN was resent.)
	if ls, err := topo.Stats(); err != nil || ls.Up[0].Lost == 0 || took < time.Second || (st.RTT != 0 && st.RTT < 90*time.Millisecond) {
		t.Fatalf("the link did not bite: %+v; link %+v, %v", st, ls.Up, err)
	}

	// We seed in host 1; libtorrent downloads in host 0.
	before, err := topo.Stats()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []*Conn
	go func() {
		for {
			c, err := s.AcceptUTP()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() {
				defer c.Close()
				n, err := seedAll(c, mi, data, 150*time.Second)
				t.Logf("to libtorrent: %d bytes, %v", n, err)
			}()
		}
	}()
	out := t.TempDir()
	start = time.Now()
	dl := startLTIn(t, topo, 0, "download", torrent, out, "--port", "0", "--ip", topo.Addr4(0).String(), "--peer", local.String(), "--utp", "--seconds", "150")
	dl.Wait(t, "DONE ", 160*time.Second)
	t.Logf("to libtorrent: %d MiB in %v", len(data)>>20, time.Since(start).Round(time.Millisecond))
	copied, err := os.ReadFile(filepath.Join(out, "content.bin"))
	if err != nil || !bytes.Equal(copied, data) {
		t.Fatalf("libtorrent's copy: %v, differs at byte %d", err, firstDiff(copied, data))
	}
	retransmits := uint64(0)
	mu.Lock()
	for _, c := range conns {
		retransmits += c.Stats().Retransmits
	}
	mu.Unlock()
	// Almost all we send now is data: losing a few means resending some.
	if ls, err := topo.Stats(); err != nil || ls.Up[1].Lost-before.Up[1].Lost >= 3 && retransmits == 0 {
		t.Fatalf("the link lost %d of our packets, we sent %d again (%v)", ls.Up[1].Lost-before.Up[1].Lost, retransmits, err)
	}
}
