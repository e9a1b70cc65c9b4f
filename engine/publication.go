package engine

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht"
	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/publish"
)

// ErrNoDHT is returned by the item methods when the engine has no DHT
// node: the DHT is off, or the engine does not run (yet).
var ErrNoDHT = errors.New("the DHT is off or not running")

// dhtNode returns the DHT node, nil when there is none. Safe from any
// goroutine.
func (e *Engine) dhtNode() *dht.Node {
	e.netMu.Lock()
	defer e.netMu.Unlock()
	if e.net == nil {
		return nil
	}
	return e.net.dht
}

// GetItem looks up a BEP 44 item in the DHT (see dht.Node.Get). It blocks
// until the lookup ends or ctx does, and is safe from any goroutine while
// the engine runs.
func (e *Engine) GetItem(ctx context.Context, target krpc.ID, opts dht.GetOptions) (dht.GetResult, error) {
	n := e.dhtNode()
	if n == nil {
		return dht.GetResult{}, ErrNoDHT
	}
	return n.Get(ctx, target, opts)
}

// PutItem stores a BEP 44 item in the DHT (see dht.Node.Put). It blocks
// until the puts are answered or ctx ends, and is safe from any goroutine
// while the engine runs.
func (e *Engine) PutItem(ctx context.Context, it dht.Item, opts dht.PutOptions) (dht.PutResult, error) {
	n := e.dhtNode()
	if n == nil {
		return dht.PutResult{Refused: map[int]int{}}, ErrNoDHT
	}
	return n.Put(ctx, it, opts)
}

// LatestVersion looks up the publication of link in the DHT and returns
// its newest version of a seq above after (publish.NoVersion: any), which
// passed publish.Check. When the DHT holds nothing newer the error wraps
// dht.ErrItemNotFound. Items that fail the check (a forged signature,
// another key) are ignored by the lookup itself and counted in its
// GetResult.Invalid, which is returned too.
func (e *Engine) LatestVersion(ctx context.Context, link *metainfo.MutableMagnet, after int64) (publish.Version, dht.GetResult, error) {
	target := krpc.MutableTarget(link.PublicKey, link.Salt)
	res, err := e.GetItem(ctx, target, dht.GetOptions{Salt: link.Salt, MinSeq: after + 1})
	if err != nil {
		return publish.Version{}, res, fmt.Errorf("looking up the publication: %w", err)
	}
	v, err := publish.Check(res.Item, link, after)
	if err != nil {
		return publish.Version{}, res, fmt.Errorf("looking up the publication: %w", err)
	}
	return v, res, nil
}

// PutVersion signs version seq of the publication of key and salt, which
// points to the torrent ih, and puts it in the DHT. The result's Newer
// says when the DHT holds a higher seq (then the put was refused).
func (e *Engine) PutVersion(ctx context.Context, key ed25519.PrivateKey, salt []byte, seq int64, ih metainfo.Hash) (dht.Item, dht.PutResult, error) {
	it, err := krpc.SignItem(key, salt, seq, krpc.InfoHashValue(ih))
	if err != nil {
		return it, dht.PutResult{Refused: map[int]int{}}, err
	}
	res, err := e.PutItem(ctx, it, dht.PutOptions{})
	return it, res, err
}

// KeepItemAlive puts it after first, then again every interval until ctx
// ends (BEP 44 nodes forget an item two hours after its last put;
// dht.ItemRepublish is the interval to use). A publisher keeps its
// current version alive this way, and so does a follower with the item
// it read, while the publisher is away. A put that reached no node is
// retried sooner: after retry, then twice as long each time, up to
// interval. Each put is bounded by timeout. report, when set, is told
// the result of each put.
func (e *Engine) KeepItemAlive(ctx context.Context, it dht.Item, first, interval, retry, timeout time.Duration, report func(dht.PutResult, error)) {
	wait := first
	for {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, timeout)
		res, err := e.PutItem(pctx, it, dht.PutOptions{})
		cancel()
		if ctx.Err() != nil {
			return
		}
		if report != nil {
			report(res, err)
		}
		switch {
		case err == nil:
			wait = interval
		case wait >= interval || wait < retry:
			wait = retry
		default:
			wait = min(2*wait, interval)
		}
	}
}
