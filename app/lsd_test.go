//go:build linux

package app

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// Local peer discovery (BEP 14) between real processes on a private LAN:
// network namespaces on a bridge (testpeers.NewLAN), so that multicast
// never leaves it. Nobody has a DHT, a tracker or a --peer: the torrents
// have no trackers and no nodes, and every Swarmdrop runs with --no-dht.

// lanSwarmdrop starts `swarmdrop args...` on host h of a LAN, with local
// peer discovery on in its settings (the default for users; tests
// elsewhere turn it off), and returns the process.
func lanSwarmdrop(t *testing.T, h *testpeers.LANHost, args ...string) *testpeers.Proc {
	t.Helper()
	cmd := swarmdropCmd(t, args...) // its own XDG folders
	home := filepath.Dir(envValue(cmd.Env, "XDG_CONFIG_HOME"))
	testpeers.WriteSettings(t, filepath.Join(home, "config"), map[string]any{
		"download_dir": filepath.Join(home, "Downloads"), "lsd": true})
	var env []string
	for _, kv := range cmd.Env {
		if strings.HasPrefix(kv, "XDG_") || strings.HasPrefix(kv, "SWARMDROP_TEST_") {
			env = append(env, kv)
		}
	}
	return h.Start(t, "env", append(env, append([]string{cmd.Path}, args...)...)...)
}

// lanTorrent writes content under a new folder and makes a .torrent of it
// with no tracker and no DHT nodes; it returns the folder and the file.
func lanTorrent(t *testing.T, name string) (string, string) {
	t.Helper()
	src := t.TempDir()
	testpeers.RandomFile(t, filepath.Join(src, name, "a.bin"), 600_000, 1)
	testpeers.RandomFile(t, filepath.Join(src, name, "sub", "b.bin"), 70_000, 2)
	tf, _ := testpeers.Mktorrent(t, filepath.Join(src, name), 15)
	return src, tf
}

// waitJSON reads p's --json lines until ok holds for one and returns it,
// failing t after timeout or when p ends first.
func waitJSON(t *testing.T, p *testpeers.Proc, what string, timeout time.Duration, ok func(progressLine) bool) progressLine {
	t.Helper()
	deadline := time.After(timeout)
	var last progressLine
	for {
		select {
		case l, open := <-p.Lines:
			if !open {
				t.Fatalf("swarmdrop ended before %s; last line %+v; stderr:\n%s", what, last, p.Stderr())
			}
			if json.Unmarshal([]byte(l), &last) == nil && ok(last) {
				return last
			}
		case <-deadline:
			t.Fatalf("no %s within %v; last line %+v; stderr:\n%s", what, timeout, last, p.Stderr())
		}
	}
}

// announcing reports whether a line shows the torrent announced on the
// LAN's interface, with state.
func announcing(state string) func(progressLine) bool {
	return func(l progressLine) bool {
		return l.State == state && l.LSD == testpeers.LANIface && l.LSDTorrents == 1
	}
}

// TestLSDTwoSwarmdrops: two Swarmdrops on two hosts of a LAN find each
// other by local peer discovery alone and complete a download, whichever
// starts first: the one started second announces the torrent as it adds
// it, and the first, hearing it, connects.
func TestLSDTwoSwarmdrops(t *testing.T) {
	t.Run("seeder hears the downloader", func(t *testing.T) {
		lan := testpeers.NewLAN(t, "lsdapp", 2)
		src, tf := lanTorrent(t, "lan1")
		seed := lanSwarmdrop(t, lan.Hosts[0], "seed", "--json", "--no-dht", "--no-upnp", "--port", "0", "--dir", src, tf)
		waitJSON(t, seed, "seeding, announced on the LAN", 30*time.Second, announcing("seeding"))
		start := time.Now()
		dst := t.TempDir()
		dl := lanSwarmdrop(t, lan.Hosts[1], "download", "--json", "--no-dht", "--no-upnp", "--port", "0", "--dir", dst, tf)
		waitJSON(t, dl, "completion", 30*time.Second, func(l progressLine) bool { return l.Event == "complete" })
		t.Logf("downloaded in %v", time.Since(start).Round(time.Millisecond))
		sameFiles(t, filepath.Join(src, "lan1"), filepath.Join(dst, "lan1"))
		waitJSON(t, seed, "the seeder hearing the downloader", 5*time.Second, func(l progressLine) bool { return l.LSDPeers >= 1 })
	})
	t.Run("downloader hears the seeder", func(t *testing.T) {
		lan := testpeers.NewLAN(t, "lsdapp", 2)
		src, tf := lanTorrent(t, "lan2")
		dst := t.TempDir()
		dl := lanSwarmdrop(t, lan.Hosts[1], "download", "--json", "--no-dht", "--no-upnp", "--port", "0", "--dir", dst, tf)
		waitJSON(t, dl, "downloading, announced on the LAN", 30*time.Second, announcing("downloading"))
		start := time.Now()
		lanSwarmdrop(t, lan.Hosts[0], "seed", "--json", "--no-dht", "--no-upnp", "--port", "0", "--dir", src, tf)
		l := waitJSON(t, dl, "completion", 30*time.Second, func(l progressLine) bool { return l.Event == "complete" })
		t.Logf("downloaded in %v", time.Since(start).Round(time.Millisecond))
		if l.LSDPeers < 1 {
			t.Errorf("the downloader heard %d peers, want the seeder", l.LSDPeers)
		}
		sameFiles(t, filepath.Join(src, "lan2"), filepath.Join(dst, "lan2"))
	})
	t.Run("--no-lsd", func(t *testing.T) {
		// A seeder with --no-lsd neither announces nor listens: a
		// downloader on the LAN finds nobody.
		lan := testpeers.NewLAN(t, "lsdapp", 2)
		src, tf := lanTorrent(t, "lan3")
		seed := lanSwarmdrop(t, lan.Hosts[0], "seed", "--json", "--no-lsd", "--no-dht", "--no-upnp", "--port", "0", "--dir", src, tf)
		waitJSON(t, seed, "seeding with discovery off", 30*time.Second, func(l progressLine) bool {
			return l.State == "seeding" && l.LSD == "off"
		})
		dl := lanSwarmdrop(t, lan.Hosts[1], "download", "--json", "--no-dht", "--no-upnp", "--port", "0", "--dir", t.TempDir(), tf)
		l0 := waitJSON(t, dl, "downloading, announced on the LAN", 30*time.Second, announcing("downloading"))
		// Three seconds more: every line says nobody was found.
		until := l0.Elapsed + 3
		waitJSON(t, dl, "three seconds more", 10*time.Second, func(l progressLine) bool {
			if l.Peers != 0 || l.LSDPeers != 0 || l.PiecesHave != 0 {
				t.Fatalf("found a seeder that has discovery off: %+v", l)
			}
			return l.Elapsed >= until
		})
		for len(seed.Lines) > 0 {
			var l progressLine
			if json.Unmarshal([]byte(<-seed.Lines), &l) == nil && (l.Peers != 0 || l.LSDPeers != 0) {
				t.Fatalf("the seeder with discovery off found a peer: %+v", l)
			}
		}
	})
}

// TestLSDLibtorrent: Swarmdrop and libtorrent (enable_lsd) on two hosts of
// a LAN find each other by local peer discovery alone, both ways.
func TestLSDLibtorrent(t *testing.T) {
	testpeers.RequireLibtorrent(t)
	t.Run("Swarmdrop hears libtorrent", func(t *testing.T) {
		// Swarmdrop seeds first; libtorrent, started later, announces
		// (every 2 s here) and Swarmdrop, hearing it, connects to it.
		lan := testpeers.NewLAN(t, "lsdapp", 2)
		src, tf := lanTorrent(t, "ltlan1")
		seed := lanSwarmdrop(t, lan.Hosts[0], "seed", "--json", "--no-dht", "--no-upnp", "--port", "0", "--dir", src, tf)
		waitJSON(t, seed, "seeding, announced on the LAN", 30*time.Second, announcing("seeding"))
		start := time.Now()
		dst := t.TempDir()
		them := lan.Hosts[1]
		lt := them.Start(t, testpeers.Python, testpeers.LTPeer(), "download", tf, dst, "--flush",
			"--port", "0", "--ip", them.IPv4.String(), "--lsd", "--lsd-interval", "2", "--seconds", "30")
		lt.Wait(t, "DONE", 40*time.Second)
		t.Logf("libtorrent downloaded in %v", time.Since(start).Round(time.Millisecond))
		sameFiles(t, filepath.Join(src, "ltlan1"), filepath.Join(dst, "ltlan1"))
		waitJSON(t, seed, "Swarmdrop hearing libtorrent", 5*time.Second, func(l progressLine) bool { return l.LSDPeers >= 1 })
	})
	t.Run("libtorrent hears Swarmdrop", func(t *testing.T) {
		// libtorrent seeds first (announcing every 5 minutes, its
		// default); Swarmdrop, started later, announces the torrent as it
		// adds it, and libtorrent reports it as a local peer.
		lan := testpeers.NewLAN(t, "lsdapp", 2)
		src, tf := lanTorrent(t, "ltlan2")
		them := lan.Hosts[1]
		lt := them.Start(t, testpeers.Python, testpeers.LTPeer(), "seed", tf, src,
			"--port", "0", "--ip", them.IPv4.String(), "--lsd", "--seconds", "60")
		lt.Port(t)
		lt.Wait(t, "SEEDING", 30*time.Second)
		start := time.Now()
		dst := t.TempDir()
		us := lan.Hosts[0]
		dl := lanSwarmdrop(t, us, "download", "--json", "--no-dht", "--no-upnp", "--port", "0", "--dir", dst, tf)
		l := waitJSON(t, dl, "completion", 30*time.Second, func(l progressLine) bool { return l.Event == "complete" })
		t.Logf("downloaded from libtorrent in %v", time.Since(start).Round(time.Millisecond))
		sameFiles(t, filepath.Join(src, "ltlan2"), filepath.Join(dst, "ltlan2"))
		line := lt.Wait(t, "LSDPEER", 5*time.Second)
		if ours := fmt.Sprintf("%s:%d", us.IPv4, l.Port); !strings.Contains(line, ours) {
			t.Fatalf("libtorrent: %q, want our address %s", line, ours)
		}
	})
}
