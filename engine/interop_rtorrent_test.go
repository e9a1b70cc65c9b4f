package engine

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// peerGaps follows e's snapshots until done is closed and records, for
// the peer at ip, how long each absence between two connections lasted.
func peerGaps(e *Engine, ih, ip string, done <-chan struct{}) <-chan []time.Duration {
	out := make(chan []time.Duration, 1)
	go func() {
		var gaps []time.Duration
		var lostAt time.Time
		seen := false
		for {
			select {
			case <-done:
				out <- gaps
				return
			case s := <-e.Snapshots():
				for _, ts := range s.Torrents {
					if ts.InfoHash != ih {
						continue
					}
					here := false
					for _, p := range ts.PeerList {
						host, _, _ := net.SplitHostPort(p.Addr)
						here = here || host == ip
					}
					switch {
					case here && !lostAt.IsZero():
						gaps = append(gaps, time.Since(lostAt))
						lostAt = time.Time{}
					case !here && seen && lostAt.IsZero():
						lostAt = time.Now()
					}
					seen = seen || here
				}
			}
		}
	}()
	return out
}

// connLog follows the swarms' "peer A connected" and "peer A disconnected"
// log lines (Config.Logf) for the peer at one IP and records how long each
// absence between two connections lasted. Unlike sampling snapshots, it
// sees every connection, however short: rtorrent's first one, which ends
// right after the metadata exchange, may last less than a snapshot period.
type connLog struct {
	ip string

	mu     sync.Mutex // guards what follows
	live   int        // connections to ip open now
	closes int        // times the last connection to ip ended
	lostAt time.Time  // when it last did, while none is open
	gaps   []time.Duration
}

// logf is a Config.Logf that records connections to l.ip.
func (l *connLog) logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	rest, ok := strings.CutPrefix(line, "peer ")
	if !ok {
		return
	}
	addr, what, ok := strings.Cut(rest, " ")
	if !ok {
		return
	}
	if host, _, err := net.SplitHostPort(addr); err != nil || host != l.ip {
		return
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case strings.HasPrefix(what, "connected"):
		if l.live == 0 && !l.lostAt.IsZero() {
			l.gaps = append(l.gaps, now.Sub(l.lostAt))
			l.lostAt = time.Time{}
		}
		l.live++
	case strings.HasPrefix(what, "disconnected") && l.live > 0:
		l.live--
		if l.live == 0 {
			l.closes++
			l.lostAt = now
		}
	}
}

// result returns how many times the last connection to l.ip ended, and
// the absences that a reconnection ended.
func (l *connLog) result() (closes int, gaps []time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closes, append([]time.Duration(nil), l.gaps...)
}

// deadTracker is an announce URL on a closed loopback port, for clients
// that refuse a torrent without trackers (rtorrent with its DHT off).
const deadTracker = "http://127.0.0.1:9/announce"

// TestMagnetFromRtorrent: a magnet whose metadata spans several 16 KiB
// pieces, fetched from an rtorrent seeder (on 127.0.0.3). rtorrent answers
// the first of two metadata requests sent together, drops the second and
// stops reading the connection: we ask one piece at a time. It completes,
// byte-identical, and any reconnection after rtorrent closes comes within
// a few seconds (not the fixed 30 s of before).
func TestMagnetFromRtorrent(t *testing.T) {
	src := t.TempDir()
	content := manyFiles(t, src, 400)
	data, mi := mktorrent(t, content, 15, "-a", deadTracker)
	if len(mi.InfoBytes) <= 2*16384 {
		t.Fatalf("info dictionary of %d bytes: want at least three metadata pieces", len(mi.InfoBytes))
	}
	torrentFile := filepath.Join(t.TempDir(), "many.torrent")
	writeFile(t, torrentFile, data)
	rt := testpeers.StartRtorrent(t, "127.0.0.3", src)
	rt.Load(t, torrentFile, mi.InfoHash.String())
	rt.WaitComplete(t, mi.InfoHash.String(), 30*time.Second)

	e := testEngine(t, Config{})
	ih, err := e.AddMagnet("magnet:?xt=urn:btih:"+mi.InfoHash.String(), AddOptions{Peers: []string{rt.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	gaps := peerGaps(e, ih, rt.IP, done)
	start := time.Now()
	waitState(t, e, ih, StateSeeding, 60*time.Second)
	close(done)
	reconnects := <-gaps
	t.Logf("magnet from rtorrent complete in %v; reconnections after %v", time.Since(start).Round(10*time.Millisecond), reconnects)
	for _, g := range reconnects {
		if g > 5*time.Second {
			t.Errorf("reconnected to rtorrent %v after it closed, want within 5 s", g)
		}
	}
	sameTree(t, content, filepath.Join(e.cfg.DownloadDir, "many"))
}

// TestRtorrentMagnetFromUs: rtorrent fetches a magnet from our seeder,
// which it knows only because we connect to it; when it has the metadata
// it closes the connection and starts the torrent anew, and waits for us
// to come back: we reconnect within seconds (it was a fixed 30 s), and it
// completes byte-identical.
func TestRtorrentMagnetFromUs(t *testing.T) {
	src := t.TempDir()
	content := manyFiles(t, src, 400)
	data, _ := mktorrent(t, content, 15)
	dst := t.TempDir()
	rt := testpeers.StartRtorrent(t, "127.0.0.3", dst)

	conns := &connLog{ip: rt.IP}
	e := testEngine(t, Config{DownloadDir: src, Logf: conns.logf})
	ih, err := e.AddTorrent(data, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, e, ih, StateSeeding, 30*time.Second)
	rt.Load(t, "magnet:?xt=urn:btih:"+ih+"&tr="+url.QueryEscape(deadTracker), ih)
	start := time.Now()
	if _, err := e.AddTorrent(data, AddOptions{Peers: []string{rt.Addr()}}); err != nil {
		t.Fatal(err)
	}
	rt.WaitComplete(t, ih, 60*time.Second)
	closes, reconnects := conns.result()
	t.Logf("rtorrent got the magnet from us in %v; it closed %d times; we reconnected after %v", time.Since(start).Round(10*time.Millisecond), closes, reconnects)
	if closes == 0 {
		t.Fatal("rtorrent never closed the connection: the test saw no reconnection to time")
	}
	if len(reconnects) == 0 {
		t.Fatal("rtorrent completed without our reconnecting after it closed")
	}
	for _, g := range reconnects {
		if g > 5*time.Second {
			t.Errorf("reconnected to rtorrent %v after it closed, want within 5 s", g)
		}
	}
	sameTree(t, content, filepath.Join(dst, "many"))
}
