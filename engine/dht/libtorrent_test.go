package dht

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestLibtorrentInterop runs 8 libtorrent DHT nodes, each on its own
// loopback address and bootstrapping from ours: their routing tables grow
// through our answers; a peer announced by libtorrent is found by our
// GetPeers, and the peer we announce is found by libtorrent's lookup.
func TestLibtorrentInterop(t *testing.T) {
	testpeers.RequireLibtorrent(t)
	n, addr := startNode(t, "127.0.0.1", 0, Config{QueryTimeout: time.Second, MaintenanceInterval: time.Second})
	ltHash, ourHash := randomID(), randomID()
	const count = 8
	type ltNode struct {
		proc *testpeers.Proc
		addr netip.AddrPort
	}
	lts := make([]ltNode, count)
	for i := range lts {
		ip := fmt.Sprintf("127.0.0.%d", 11+i)
		port := testpeers.FreePort(t, ip)
		args := []string{"dht", "--ip", ip, "--port", strconv.Itoa(port), "--bootstrap", addr.String(), "--seconds", "90"}
		switch i {
		case 0:
			args = append(args, "--announce", hex.EncodeToString(ltHash[:]))
		case count - 1:
			args = append(args, "--get", hex.EncodeToString(ourHash[:]))
		}
		lts[i] = ltNode{testpeers.StartLT(t, args...), netip.AddrPortFrom(netip.MustParseAddr(ip), uint16(port))}
	}
	for i := range lts {
		lts[i].proc.Port(t)
	}

	// Their tables grow: libtorrent never keeps its bootstrap node, so
	// every node it knows came from our answers (or from nodes we named).
	var mu sync.Mutex
	nodes := make([]int, count)
	peersSeen := map[string]bool{}
	var wg sync.WaitGroup
	for i, lt := range lts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for line := range lt.proc.Lines {
				mu.Lock()
				if v, ok := strings.CutPrefix(line, "NODES "); ok {
					nodes[i], _ = strconv.Atoi(v)
				}
				if v, ok := strings.CutPrefix(line, "PEER "); ok {
					peersSeen[v] = true
				}
				mu.Unlock()
			}
		}()
	}
	waitFor(t, "every libtorrent node to know 3 others", 30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.Min(nodes) >= 3
	})
	mu.Lock()
	t.Logf("libtorrent NODES counts: %v; our node: %+v", nodes, n.Stats())
	mu.Unlock()

	// A peer announced by libtorrent (its listen port) is found by us.
	want := lts[0].addr
	deadline := time.Now().Add(30 * time.Second)
	var found []netip.AddrPort
	for !slices.Contains(found, want) && time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		start := time.Now()
		err := n.GetPeers(ctx, ltHash, 0, func(p []netip.AddrPort) { found = append(found, p...) })
		cancel()
		t.Logf("GetPeers: %v in %v, found %v", err, time.Since(start), found)
		if !slices.Contains(found, want) {
			time.Sleep(time.Second)
		}
	}
	if !slices.Contains(found, want) {
		t.Fatalf("our GetPeers found %v, not libtorrent's %v", found, want)
	}

	// We announce; libtorrent's get_peers finds us.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.GetPeers(ctx, ourHash, 7777, nil); err != nil {
		t.Fatalf("announcing: %v", err)
	}
	waitFor(t, "libtorrent to find our peer", 30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return peersSeen["127.0.0.1:7777"]
	})
	st := n.Stats()
	if st.Good < count || st.IncomingQueries == 0 || st.LastBootstrapSource != SourceIncoming {
		t.Fatalf("our node after the test: %+v", st)
	}
	t.Logf("our node: %d good nodes, %d incoming queries", st.Good, st.IncomingQueries)
	for _, lt := range lts {
		lt.proc.Cmd.Process.Kill()
	}
	wg.Wait()
}
