package hostile

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// IdleFlood keeps PerAddr connections per source address open to a
// target: each completes the handshake, then sends keep-alives and
// nothing else; a connection the target closes is opened again after
// Retry, as a determined attacker would. Its counters are safe for
// concurrent use while Run runs.
type IdleFlood struct {
	// Addr is the target's host:port; InfoHash the torrent asked for.
	Addr     string
	InfoHash metainfo.Hash
	// Locals are the source addresses; PerAddr the connections kept from
	// each.
	Locals  []string
	PerAddr int
	// KeepAlive is the time between keep-alives (default 2 s); Retry the
	// wait before reconnecting (default 1 s); MaxDials bounds the
	// connection attempts of each slot (default 1,000).
	KeepAlive, Retry time.Duration
	MaxDials         int

	open, peak atomic.Int32
	dials      atomic.Int64
	handshakes atomic.Int64
}

// Open returns how many flood connections are open now.
func (f *IdleFlood) Open() int { return int(f.open.Load()) }

// Peak returns the most flood connections that were open at once.
func (f *IdleFlood) Peak() int { return int(f.peak.Load()) }

// Dials returns the connection attempts so far, and how many of them
// completed the handshake.
func (f *IdleFlood) Dials() (attempts, handshaken int64) {
	return f.dials.Load(), f.handshakes.Load()
}

// Run keeps the flood up until ctx ends (or every slot used MaxDials),
// then closes every connection and returns.
func (f *IdleFlood) Run(ctx context.Context) {
	keep, retry, maxDials := f.KeepAlive, f.Retry, f.MaxDials
	if keep <= 0 {
		keep = 2 * time.Second
	}
	if retry <= 0 {
		retry = time.Second
	}
	if maxDials <= 0 {
		maxDials = 1000
	}
	var wg sync.WaitGroup
	for li, local := range f.Locals {
		for i := range f.PerAddr {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := Peer{Addr: f.Addr, Local: local, InfoHash: f.InfoHash, ID: PeerID(fmt.Sprintf("idle%03d%05d", li, i))}
				for range maxDials {
					if ctx.Err() != nil {
						return
					}
					f.dials.Add(1)
					f.hold(ctx, p, keep)
					select {
					case <-ctx.Done():
					case <-time.After(retry):
					}
				}
			}()
		}
	}
	wg.Wait()
}

// hold opens one connection and keeps it idle until the target closes it
// or ctx ends.
func (f *IdleFlood) hold(ctx context.Context, p Peer, keep time.Duration) {
	c, err := p.Connect(ctx)
	if err != nil {
		return
	}
	f.handshakes.Add(1)
	n := f.open.Add(1)
	for old := f.peak.Load(); n > old && !f.peak.CompareAndSwap(old, n); old = f.peak.Load() {
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	done := make(chan struct{})
	go func() {
		io.Copy(io.Discard, c)
		close(done)
	}()
keepAlive:
	for {
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write([]byte{0, 0, 0, 0}); err != nil {
			break
		}
		select {
		case <-ctx.Done():
			break keepAlive
		case <-done:
			break keepAlive
		case <-time.After(keep):
		}
	}
	stop()
	c.Close()
	<-done
	f.open.Add(-1)
}

// Addrs returns count loopback addresses 127.a.b.c from first on, e.g.
// Addrs("127.0.0.10", 50) is 127.0.0.10 to 127.0.0.59.
func Addrs(first string, count int) []string {
	var a, b, c, d int
	fmt.Sscanf(first, "%d.%d.%d.%d", &a, &b, &c, &d)
	n := b<<16 | c<<8 | d
	out := make([]string, count)
	for i := range out {
		m := n + i
		out[i] = fmt.Sprintf("%d.%d.%d.%d", a, m>>16&255, m>>8&255, m&255)
	}
	return out
}
