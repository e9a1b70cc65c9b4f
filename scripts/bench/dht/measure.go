package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/swarmdrop/swarmdrop/scripts/bench/internal/benchkit"
)

// lookupTimeout bounds one client's wait for its first piece.
const lookupTimeout = 60 * time.Second

// client is one downloader under test.
type client struct {
	name  string
	start func(dir string, env []string) (*benchkit.Proc, milestones, error)
}

// milestones recognise a client's first-peer and first-piece lines.
// Periodic says the client prints its state periodically rather than at
// the moment, so that the line before a milestone bounds it from below.
type milestones struct {
	firstPeer, firstPiece func(line string) bool
	periodic              bool
}

// lookup is one run's figures in seconds from process start: first peer
// and first verified piece as the client reported them, the lower bounds
// of both (the same values for a client that reports at once), and the
// first data written to the file, seen by polling it every 5 ms.
type lookup struct {
	firstPeer, firstPiece float64
	peerAfter, pieceAfter float64
	firstWrite            float64 // NaN if unseen
}

// swarmdrop starts our downloader with empty state and no contacts but the
// torrent's nodes.
func (b *bench) swarmdrop(dir string, env []string) (*benchkit.Proc, milestones, error) {
	p, err := benchkit.Start("swarmdrop download", env, b.bin, "download", "--json", "--no-upnp",
		"--port", "0", "--bind", "127.0.0.1", "--dir", dir, b.torrent)
	return p, milestones{
		firstPeer:  func(l string) bool { return progress(l).Peers > 0 },
		firstPiece: func(l string) bool { return progress(l).PiecesHave > 0 },
		periodic:   true,
	}, err
}

// libtorrent starts ltpeer's downloader with the torrent's contact as its
// DHT bootstrap.
func (b *bench) libtorrent(dir string, _ []string) (*benchkit.Proc, milestones, error) {
	p, err := benchkit.Start("libtorrent download", nil, benchkit.Python, b.ltpeer, "download", b.torrent, dir,
		"--port", "0", "--ip", "127.0.0.1", "--dht", b.contact, "--seconds", fmt.Sprint(lookupTimeout.Seconds()))
	return p, milestones{
		firstPeer:  func(l string) bool { return strings.HasPrefix(l, "FIRSTPEER ") },
		firstPiece: func(l string) bool { return strings.HasPrefix(l, "FIRSTPIECE ") },
	}, err
}

// progressLine is the part of swarmdrop's --json line the benchmark reads.
type progressLine struct {
	Peers      int `json:"peers"`
	PiecesHave int `json:"pieces_have"`
}

// progress parses a --json line; anything else reads as zeros.
func progress(line string) progressLine {
	var p progressLine
	json.Unmarshal([]byte(line), &p)
	return p
}

// measure runs one client in a fresh folder until its first piece, then
// kills it.
func (b *bench) measure(ctx context.Context, c client, run int) (lookup, error) {
	base, err := os.MkdirTemp(b.work, fmt.Sprintf("run%d-%s-", run+1, c.name))
	if err != nil {
		return lookup{}, err
	}
	defer os.RemoveAll(base)
	dir := filepath.Join(base, "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return lookup{}, err
	}
	env, err := benchkit.SwarmdropEnv(filepath.Join(base, "xdg"))
	if err != nil {
		return lookup{}, err
	}
	p, m, err := c.start(dir, env)
	if err != nil {
		return lookup{}, err
	}
	defer p.Kill()
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	written := make(chan time.Time, 1)
	go func() { written <- benchkit.FirstWrite(wctx, filepath.Join(dir, "1GiB.bin"), 5*time.Millisecond) }()
	peer, err := p.WaitFor(ctx, lookupTimeout, m.firstPeer)
	if err != nil {
		return lookup{}, fmt.Errorf("waiting for the first peer: %w", err)
	}
	piece := peer // one swarmdrop line can show both
	if !m.firstPiece(peer.Text) {
		if piece, err = p.WaitFor(ctx, lookupTimeout, m.firstPiece); err != nil {
			return lookup{}, fmt.Errorf("waiting for the first piece: %w", err)
		}
	}
	res := lookup{firstPeer: since(p.Started, peer), firstPiece: since(p.Started, piece), firstWrite: math.NaN()}
	select {
	case at := <-written:
		if !at.IsZero() {
			res.firstWrite = at.Sub(p.Started).Seconds()
		}
	case <-time.After(2 * time.Second):
	}
	p.Kill()
	res.peerAfter, res.pieceAfter = res.firstPeer, res.firstPiece
	if m.periodic {
		res.peerAfter = since(p.Started, lineBefore(p, peer))
		res.pieceAfter = since(p.Started, lineBefore(p, piece))
	}
	return res, nil
}

// since is the time from start to line l in seconds (0 for no line).
func since(start time.Time, l benchkit.Line) float64 {
	if l.At.IsZero() {
		return 0
	}
	return l.At.Sub(start).Seconds()
}

// lineBefore is the output line just before l, or a zero Line.
func lineBefore(p *benchkit.Proc, l benchkit.Line) benchkit.Line {
	var prev benchkit.Line
	for _, x := range p.Lines() {
		if x == l {
			return prev
		}
		prev = x
	}
	return benchkit.Line{}
}
