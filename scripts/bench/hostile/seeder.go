package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/swarmdrop/swarmdrop/scripts/bench/internal/benchkit"
)

// downloadTimeout bounds one download (a baseline takes a few seconds).
const downloadTimeout = 60 * time.Second

// seeder is a running `swarmdrop seed`.
type seeder struct {
	proc     *benchkit.Proc
	addr     string         // TCP host:port
	dht      netip.AddrPort // its DHT's UDP address (the same port), when on
	stateDir string         // $XDG_STATE_HOME/swarmdrop
}

// startSeeder starts a seeder of the torrent with fresh XDG folders under
// dir, its DHT on or off, and waits until it seeds.
func (b *bench) startSeeder(ctx context.Context, dir string, dht bool, extra []string) (*seeder, error) {
	env, err := benchkit.SwarmdropEnv(dir)
	if err != nil {
		return nil, err
	}
	port, err := benchkit.FreePort("127.0.0.1")
	if err != nil {
		return nil, err
	}
	args := []string{"seed", "--json", "--no-upnp", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", b.cache}
	if !dht {
		args = append(args, "--no-dht")
	}
	args = append(append(args, extra...), b.torrent)
	p, err := benchkit.Start("swarmdrop seeder", env, b.bin, args...)
	if err != nil {
		return nil, err
	}
	if _, err := p.WaitFor(ctx, 120*time.Second, isComplete); err != nil {
		p.Kill()
		return nil, err
	}
	s := &seeder{proc: p, addr: fmt.Sprintf("127.0.0.1:%d", port), stateDir: filepath.Join(dir, "state", "swarmdrop")}
	if dht {
		s.dht = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
	}
	return s, nil
}

// stop interrupts the seeder (it saves its DHT table on the way out) and
// returns its lifetime peak RSS in KiB.
func (s *seeder) stop(ctx context.Context) (int64, error) {
	if err := s.proc.Interrupt(); err != nil {
		s.proc.Kill()
		return 0, err
	}
	ended, err := s.proc.Exit(ctx, 20*time.Second)
	return ended.MaxRSS, err
}

// progress is the part of the seeder's --json lines the report uses.
type progress struct {
	Event    string `json:"event"`
	Peers    int    `json:"peers"`
	DHTNodes int    `json:"dht_nodes"`
}

// maxProgress returns the most peers and DHT nodes the seeder reported
// between from and to.
func (s *seeder) maxProgress(from, to time.Time) (peers, nodes int) {
	for _, l := range s.proc.Lines() {
		if l.At.Before(from) || l.At.After(to) {
			continue
		}
		var p progress
		if json.Unmarshal([]byte(l.Text), &p) == nil {
			peers, nodes = max(peers, p.Peers), max(nodes, p.DHTNodes)
		}
	}
	return peers, nodes
}

// isComplete matches swarmdrop's --json "complete" event.
func isComplete(line string) bool {
	var p progress
	return json.Unmarshal([]byte(line), &p) == nil && p.Event == "complete"
}

// download fetches the torrent with libtorrent from the seeder at addr,
// from the loopback address ip, into a folder removed afterwards. It
// returns ltpeer's own time from adding the torrent to completion
// (Python's start-up left out), or NaN and why it failed.
func (b *bench) download(ctx context.Context, addr, ip string) (float64, string) {
	dir, err := os.MkdirTemp(b.work, "download-")
	if err != nil {
		return math.NaN(), err.Error()
	}
	defer os.RemoveAll(dir)
	p, err := benchkit.Start("libtorrent download", nil, benchkit.Python, b.ltpeer, "download", b.torrent, dir,
		"--port", "0", "--ip", ip, "--bind-outgoing", "--peer", addr, "--seconds", fmt.Sprint(downloadTimeout.Seconds()))
	if err != nil {
		return math.NaN(), err.Error()
	}
	defer p.Kill()
	l, err := p.WaitFor(ctx, downloadTimeout+30*time.Second, func(s string) bool {
		return strings.HasPrefix(s, "DONE ") || strings.HasPrefix(s, "TIMEOUT ")
	})
	if err != nil {
		return math.NaN(), err.Error()
	}
	if strings.HasPrefix(l.Text, "TIMEOUT ") {
		return math.NaN(), fmt.Sprintf("no download in %v (%s)", downloadTimeout, l.Text)
	}
	var secs float64
	if _, err := fmt.Sscanf(l.Text, "DONE %f s", &secs); err != nil {
		return math.NaN(), fmt.Sprintf("ltpeer said %q", l.Text)
	}
	return secs, ""
}
