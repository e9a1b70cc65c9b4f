package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/swarmdrop/swarmdrop/engine"
	"github.com/swarmdrop/swarmdrop/engine/dht"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/publish"
	"github.com/swarmdrop/swarmdrop/internal/printable"
)

// Bounds of a follower's DHT work: one lookup of the publication, the
// first waits between lookups that found nothing (doubling up to
// followRetryMax), and each re-put of the item.
const (
	followLookup   = 60 * time.Second
	followRetry    = 2 * time.Second
	followRetryMax = time.Minute
	followPut      = 60 * time.Second
)

// runFollow is `download` (and `seed`) of an updatable link: it looks
// the publication up in the DHT, downloads its current version into
// opt.Dir, and with f.follow keeps seeding it and looks for a newer
// version every f.checkEvery; a newer one replaces the old in the same
// folder (the old torrent is removed, its files kept, so that unchanged
// files are verified in place rather than fetched again). The item read
// is put again every dht.ItemRepublish, so that the publication stays in
// the DHT while its publisher is away. Versions only move forward:
// items of a seq not above the current one, or not signed by the link's
// key, are ignored.
func runFollow(ctx context.Context, e *engine.Engine, link *metainfo.MutableMagnet, opt engine.AddOptions,
	f transferFlags, stdout, stderr io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- e.Run(ctx) }()
	rep := &reporter{out: stdout, warn: stderr, jsonOut: f.jsonOut, start: time.Now()}
	err := follow(ctx, e, link, opt, f, rep, runErr)
	cancel()
	if rerr := <-runErr; err == nil && rerr != nil {
		err = rerr
	}
	return err
}

func follow(ctx context.Context, e *engine.Engine, link *metainfo.MutableMagnet, opt engine.AddOptions,
	f transferFlags, rep *reporter, runErr chan error) error {
	cur := int64(publish.NoVersion)
	ih := ""
	wait := time.Duration(0)
	stopKeep := func() {}
	defer func() { stopKeep() }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-runErr:
			runErr <- err
			return err
		case <-time.After(wait):
		}
		lctx, lcancel := context.WithTimeout(ctx, followLookup)
		v, _, err := e.LatestVersion(lctx, link, cur)
		lcancel()
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if cur == publish.NoVersion {
				// Not found yet (or the DHT is still joining): sooner.
				wait = min(max(2*wait, followRetry/4), followRetryMax)
				if wait == followRetryMax && !errors.Is(err, engine.ErrNoDHT) {
					rep.note(fmt.Sprintf("no version of the publication found yet: %v", err))
				}
			} else {
				wait = f.checkEvery
			}
			continue
		}
		first := cur == publish.NoVersion
		cur = v.Seq
		stopKeep()
		stopKeep = keepAlive(ctx, e, v.Item)
		if v.InfoHash.String() == ih { // the same torrent under a higher seq
			wait = f.checkEvery
			continue
		}
		rep.version(v, first)
		if ih != "" {
			e.Remove(ih, false) // its files stay: the new version checks them in place
		}
		m := metainfo.Magnet{InfoHash: v.InfoHash, Name: link.Name, Peers: link.Peers}
		if ih, err = e.AddMagnet(m.String(), opt); err != nil {
			return err
		}
		if err := watch(ctx, e, ih, false, rep, runErr); err != nil || ctx.Err() != nil {
			return err
		}
		if !first {
			rep.note(fmt.Sprintf("updated to version %d", v.Seq))
		}
		if !f.follow && !f.seed {
			return nil
		}
		wait = f.checkEvery
	}
}

// keepAlive puts it again every dht.ItemRepublish in a goroutine of its
// own, until the function returned is called (it waits for the goroutine)
// or ctx ends.
func keepAlive(ctx context.Context, e *engine.Engine, it dht.Item) func() {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.KeepItemAlive(ctx, it, dht.ItemRepublish, dht.ItemRepublish, followRetry, followPut, nil)
	}()
	return func() {
		cancel()
		<-done
	}
}

// versionLine is the --json object of a version found.
type versionLine struct {
	Event    string `json:"event"` // "version"
	Version  int64  `json:"version"`
	InfoHash string `json:"info_hash"`
	First    bool   `json:"first"`
}

// version says that version v was found (first: the first one seen).
func (r *reporter) version(v publish.Version, first bool) {
	if r.jsonOut {
		r.writeJSON(versionLine{Event: "version", Version: v.Seq, InfoHash: v.InfoHash.String(), First: first})
		return
	}
	what := "new version"
	if first {
		what = "version"
	}
	fmt.Fprintf(r.out, "%s %d: info hash %s\n", what, v.Seq, v.InfoHash)
}

// note prints a line of text (not with --json, where events say it).
func (r *reporter) note(s string) {
	if !r.jsonOut {
		fmt.Fprintln(r.out, printable.String(s))
	}
}
