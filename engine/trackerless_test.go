package engine

import (
	"bytes"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// startLTNode runs a libtorrent DHT node on ip and returns its
// "ip:port" contact.
func startLTNode(t *testing.T, ip string) string {
	t.Helper()
	p := testpeers.StartLT(t, "dht", "--port", "0", "--ip", ip, "--seconds", "150")
	return fmt.Sprintf("%s:%d", ip, p.Port(t))
}

// waitCreated waits for the Created event of request id.
func waitCreated(t *testing.T, e *Engine, id int, timeout time.Duration) Created {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev := <-e.Events():
			switch ev := ev.(type) {
			case CreateFailed:
				if ev.Request == id {
					t.Fatalf("request %d failed: %v", id, ev.Err)
				}
			case Created:
				if ev.Request == id {
					return ev
				}
			}
		case <-deadline:
			t.Fatalf("no Created event for request %d within %v", id, timeout)
		}
	}
}

// TestTrackerlessPublish is the trackerless system end to end: one engine
// makes a torrent of a folder whose only contact is a libtorrent DHT node
// and seeds it in place; a second engine with an empty state and no
// bootstrap contacts at all downloads it using only the torrent's nodes.
func TestTrackerlessPublish(t *testing.T) {
	router := startLTNode(t, "127.0.0.20")
	src := t.TempDir()
	content := testContent(t, src, "published", 200_000)

	pub := testEngine(t, Config{StateDir: t.TempDir()})
	id := pub.Create(CreateRequest{Paths: []string{content}, Nodes: router})
	ev := waitCreated(t, pub, id, 60*time.Second)
	mi, err := metainfo.Parse(ev.Torrent)
	if err != nil {
		t.Fatal(err)
	}
	if mi.Announce != "" || len(mi.AnnounceList) != 0 || len(mi.Nodes) != 1 || mi.Nodes[0].String() != router {
		t.Fatalf("not a trackerless torrent with our contact: announce %q nodes %v", mi.Announce, mi.Nodes)
	}
	if ts := waitState(t, pub, ev.InfoHash, StateSeeding, 30*time.Second); ts.Dir != src {
		t.Fatalf("a torrent seeded in place says its data is in %q, not %q", ts.Dir, src)
	}

	fetch := testEngine(t, Config{StateDir: t.TempDir()})
	ih, err := fetch.AddTorrent(ev.Torrent, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ts := waitState(t, fetch, ih, StateSeeding, 120*time.Second)
	if ts.DHT.PeersFound == 0 {
		t.Fatalf("completed without DHT peers? %+v", ts.DHT)
	}
	sameTree(t, content, filepath.Join(fetch.cfg.DownloadDir, "published"))
}

// TestMagnetThroughDHT: a magnet link with only xt downloads from a
// libtorrent seeder found through the DHT (metadata by BEP 9).
func TestMagnetThroughDHT(t *testing.T) {
	router := startLTNode(t, "127.0.0.21")
	src := t.TempDir()
	content := testContent(t, src, "magnetic", 150_000)
	data, mi := mktorrent(t, content, 15)
	tf := filepath.Join(t.TempDir(), "m.torrent")
	writeFile(t, tf, data)
	testpeers.SeedLT(t, tf, src, "--ip", "127.0.0.22", "--dht", router)

	e := testEngine(t, Config{StateDir: t.TempDir(), Bootstrap: []string{router}})
	ih, err := e.AddMagnet("magnet:?xt=urn:btih:"+mi.InfoHash.String(), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, e, ih, StateSeeding, 120*time.Second)
	sameTree(t, content, filepath.Join(e.cfg.DownloadDir, "magnetic"))
}

// TestMagnetWithPeerOnly: a magnet link with xt and x.pe, no DHT.
func TestMagnetWithPeerOnly(t *testing.T) {
	src := t.TempDir()
	content := testContent(t, src, "xpe", 120_000)
	data, mi := mktorrent(t, content, 15)
	tf := filepath.Join(t.TempDir(), "x.torrent")
	writeFile(t, tf, data)
	_, port := testpeers.SeedLT(t, tf, src)
	e := testEngine(t, Config{NoDHT: true, StateDir: t.TempDir()})
	uri := fmt.Sprintf("magnet:?xt=urn:btih:%s&dn=xpe&x.pe=127.0.0.1:%d", mi.InfoHash, port)
	ih, err := e.AddMagnet(uri, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, e, ih, StateSeeding, 60*time.Second)
	sameTree(t, content, filepath.Join(e.cfg.DownloadDir, "xpe"))
}

// udpRecorder is a bootstrap contact that records what reaches it.
type udpRecorder struct {
	conn    net.PacketConn
	mu      sync.Mutex
	packets [][]byte
}

func startRecorder(t *testing.T) *udpRecorder {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &udpRecorder{conn: c}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, _, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			r.mu.Lock()
			r.packets = append(r.packets, append([]byte(nil), buf[:n]...))
			r.mu.Unlock()
		}
	}()
	return r
}

// TestPrivateTorrentNoDHT: a private torrent downloads through its tracker
// while the DHT runs, and no DHT packet ever names its info hash.
func TestPrivateTorrentNoDHT(t *testing.T) {
	src := t.TempDir()
	content := testContent(t, src, "private", 100_000)
	_, mi0 := mktorrent(t, content, 15, "-p")
	if !mi0.Info.Private {
		t.Fatal("mktorrent -p made no private torrent")
	}
	port := testpeers.StartOpentracker(t, mi0.InfoHash.String())
	httpURL, _ := testpeers.TrackerURLs(port)
	data := withTrackers(t, mi0, httpURL)
	tf := filepath.Join(t.TempDir(), "p.torrent")
	writeFile(t, tf, data)
	seed := testpeers.StartLT(t, "seed", tf, src, "--port", "0", "--seconds", "120")
	seed.Port(t)
	seed.Wait(t, "ANNOUNCED", 30*time.Second)

	rec := startRecorder(t)
	e := testEngine(t, Config{StateDir: t.TempDir(), Bootstrap: []string{rec.conn.LocalAddr().String()}})
	ih, err := e.AddTorrent(data, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ts := waitState(t, e, ih, StateSeeding, 60*time.Second)
	sameTree(t, content, filepath.Join(e.cfg.DownloadDir, "private"))
	if ts.DHT.Enabled {
		t.Fatalf("DHT enabled for a private torrent: %+v", ts.DHT)
	}
	time.Sleep(2 * time.Second) // room for any lookup that should not happen
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.packets) == 0 {
		t.Fatal("the DHT sent nothing to its bootstrap contact: the test proves nothing")
	}
	for _, p := range rec.packets {
		if bytes.Contains(p, mi0.InfoHash[:]) {
			t.Fatalf("a DHT packet names the private torrent: %q", p)
		}
	}
}

// TestAnnounceRetriedSoon: a DHT announce that reached no node (its only
// contact was not up yet) is tried again within seconds, not at the next
// 5-minute lookup: once a libtorrent node comes up at that contact, our
// seeder is announced to it, and libtorrent finds us there.
func TestAnnounceRetriedSoon(t *testing.T) {
	port := testpeers.FreePort(t, "127.0.0.1")
	contact := fmt.Sprintf("127.0.0.1:%d", port)
	src := t.TempDir()
	content := testContent(t, src, "later", 50_000)
	data, mi := mktorrent(t, content, 15)
	e := testEngine(t, Config{DownloadDir: src, StateDir: t.TempDir(), Bootstrap: []string{contact}})
	ih, _ := e.AddTorrent(data, AddOptions{})
	ts := waitState(t, e, ih, StateSeeding, 30*time.Second)
	for deadline := time.Now().Add(30 * time.Second); ts.DHT.LastErr == ""; ts = lastStatus(t, e, ih) {
		if ts.DHT.Announced {
			t.Fatal("announced with no node up: the test proves nothing")
		}
		if time.Now().After(deadline) {
			t.Fatal("the first lookup did not fail within 30 s")
		}
	}
	t.Logf("first lookup failed: %s; next in %v", ts.DHT.LastErr, time.Until(ts.DHT.NextLookup).Round(time.Second))
	node := testpeers.StartLT(t, "dht", "--port", fmt.Sprint(port), "--ip", "127.0.0.1", "--get", mi.InfoHash.String(), "--seconds", "60")
	up := time.Now()
	want := fmt.Sprintf("PEER 127.0.0.1:%d", e.testPort(t))
	for {
		if l := node.Wait(t, "PEER ", 45*time.Second); l == want {
			break
		}
	}
	t.Logf("found through libtorrent %v after its node came up", time.Since(up).Round(time.Second))
}
