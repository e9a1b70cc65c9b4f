package engine

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/lsd"
	"github.com/swarmdrop/swarmdrop/engine/swarm"
)

// These tests keep local peer discovery switched off (testingConfig):
// what multicasts runs in network namespaces, in app/lsd_test.go and
// engine/lsd/lan_test.go.

func TestBindInterfaces(t *testing.T) {
	p := netip.MustParsePrefix
	eth := lsd.Interface{Index: 2, Name: "eth0", Prefixes: []netip.Prefix{p("192.168.1.10/24"), p("fd00::10/64"), p("fe80::1/64")}}
	wlan := lsd.Interface{Index: 3, Name: "wlan0", Prefixes: []netip.Prefix{p("10.0.0.5/8")}}
	six := lsd.Interface{Index: 4, Name: "six0", Prefixes: []netip.Prefix{p("2001:db8::5/64")}}
	all := []lsd.Interface{eth, wlan, six}
	for _, c := range []struct {
		bind string
		want []lsd.Interface
	}{
		{"192.168.1.10", []lsd.Interface{{Index: 2, Name: "eth0", Prefixes: []netip.Prefix{p("192.168.1.10/24")}}}},
		{"::ffff:10.0.0.5", []lsd.Interface{wlan}},
		{"fd00::10", []lsd.Interface{{Index: 2, Name: "eth0", Prefixes: []netip.Prefix{p("fd00::10/64"), p("fe80::1/64")}}}},
		{"0.0.0.0", []lsd.Interface{{Index: 2, Name: "eth0", Prefixes: []netip.Prefix{p("192.168.1.10/24")}}, wlan}},
		{"127.0.0.1", nil},
		{"192.168.1.11", nil},
	} {
		got := bindInterfaces(all, netip.MustParseAddr(c.bind))
		if !slices.EqualFunc(got, c.want, func(a, b lsd.Interface) bool {
			return a.Index == b.Index && a.Name == b.Name && slices.Equal(a.Prefixes, b.Prefixes)
		}) {
			t.Errorf("bind %s: got %v, want %v", c.bind, got, c.want)
		}
	}
}

// TestLSDInterfacesBind: with no bind address, "::" or a host name, local
// discovery uses its default interfaces; bound to loopback, it has none
// (so it announces nowhere).
func TestLSDInterfacesBind(t *testing.T) {
	for _, bind := range []string{"", "::", "localhost"} {
		if lsdInterfaces(bind) != nil {
			t.Errorf("bind %q: want the default interfaces", bind)
		}
	}
	for _, bind := range []string{"127.0.0.1", "::1"} {
		list, err := lsdInterfaces(bind)()
		if err != nil || len(list) != 0 {
			t.Errorf("bind %s: interfaces %v, %v; want none", bind, list, err)
		}
	}
}

// TestLSDAnnouncesRunningPublicTorrents: a torrent is announced while it
// runs, never when private (BEP 27), and no more once paused or removed.
func TestLSDAnnouncesRunningPublicTorrents(t *testing.T) {
	src := t.TempDir()
	pub, _ := mktorrent(t, testContent(t, src, "public", 20_000), 15)
	priv, _ := mktorrent(t, testContent(t, src, "private", 20_000), 15, "-p")
	e := testEngine(t, Config{DownloadDir: src, NoDHT: true})
	if _, err := e.AddTorrent(priv, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	ih, err := e.AddTorrent(pub, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitLSD := func(what string, want int) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case s := <-e.Snapshots():
				if s.LSD.Enabled {
					t.Fatal("local discovery on with NoLSD")
				}
				if s.LSD.Torrents == want {
					return
				}
			case <-deadline:
				t.Fatalf("%s: not %d torrents announced within 10 s", what, want)
			}
		}
	}
	waitLSD("both running", 1)
	e.Pause(ih)
	waitLSD("public paused", 0)
	e.Resume(ih)
	waitLSD("public resumed", 1)
	e.Remove(ih, false)
	waitLSD("public removed", 0)
}

// TestLocalPeerLabelled: a peer heard on the local network goes to its
// torrent's swarm, which connects to it, downloads, and lists it with
// the source "lsd".
func TestLocalPeerLabelled(t *testing.T) {
	src := t.TempDir()
	content := testContent(t, src, "lan", 100_000)
	data, mi := mktorrent(t, content, 15)
	seed := testEngine(t, Config{DownloadDir: src, NoDHT: true})
	if _, err := seed.AddTorrent(data, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	seedPort := seed.testPort(t)
	waitState(t, seed, mi.InfoHash.String(), StateSeeding, 30*time.Second)

	// Slowed to about 2 s, so that snapshots show the connection.
	e := testEngine(t, Config{NoDHT: true, MaxDownloadRate: 300_000})
	ih, err := e.AddTorrent(data, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		e.routesMu.Lock()
		sw := e.routes[mi.InfoHash]
		e.routesMu.Unlock()
		if sw != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the torrent's swarm is not routed after 10 s")
		}
	}
	e.addLocalPeer(lsd.Peer{InfoHash: mi.InfoHash, Addr: netip.MustParseAddrPort(fmt.Sprintf("127.0.0.1:%d", seedPort))})

	labelled := false
	deadline := time.After(30 * time.Second)
	for !labelled {
		select {
		case s := <-e.Snapshots():
			for _, ts := range s.Torrents {
				for _, p := range ts.PeerList {
					if p.Source != string(swarm.SourceLSD) {
						t.Fatalf("peer %s from %q, want %q", p.Addr, p.Source, swarm.SourceLSD)
					}
					labelled = true
				}
			}
		case <-deadline:
			t.Fatal("no peer listed within 30 s")
		}
	}
	waitState(t, e, ih, StateSeeding, 30*time.Second)
	sameTree(t, content, filepath.Join(e.cfg.DownloadDir, "lan"))
}
