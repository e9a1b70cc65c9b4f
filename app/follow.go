package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/swarmdrop/swarmdrop/engine"
	"github.com/swarmdrop/swarmdrop/internal/printable"
)

// runFollow is `download` (and `seed`) of an updatable link: the engine
// follows it (engine.Follow: the current version is downloaded into
// --dir, each newer one replaces it there, fetching only what changed);
// this prints the versions and the progress of the current one, and
// returns once the first is complete unless --follow or --seed.
func runFollow(ctx context.Context, e *engine.Engine, uri string, opt engine.AddOptions,
	f transferFlags, rep *reporter) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- e.Run(ctx) }()
	err := follow(ctx, e, uri, opt, f, rep, runErr)
	cancel()
	if rerr := <-runErr; err == nil && rerr != nil {
		err = rerr
	}
	return err
}

func follow(ctx context.Context, e *engine.Engine, uri string, opt engine.AddOptions,
	f transferFlags, rep *reporter, runErr chan error) error {
	id, err := e.Follow(uri, opt)
	if err != nil {
		return err
	}
	var version int64
	ih, completed := "", false
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-runErr:
			runErr <- err
			return err
		case s := <-e.Snapshots():
			if s.ListenErr != nil {
				return fmt.Errorf("%w (choose another port with --port)", s.ListenErr)
			}
			rep.snap = s
			for _, ps := range s.Publications {
				if ps.ID == id && ps.Version > version && ps.InfoHash != "" {
					rep.version(ps.Version, ps.InfoHash, version == 0)
					version, ih, completed = ps.Version, ps.InfoHash, false
				}
			}
			ts, ok := findTorrent(s, ih)
			if !ok {
				continue
			}
			rep.progress(ts)
			rep.resumeWarning(ts)
			switch {
			case ts.State == engine.StateError:
				rep.event("error", ts, ts.Err.Error())
				if errors.Is(ts.Err, engine.ErrNotEnoughSpace) {
					return fmt.Errorf("%w; --ignore-space starts it anyway", ts.Err)
				}
				return ts.Err
			case ts.State == engine.StateSeeding && !completed:
				completed = true
				rep.event("complete", ts, "")
				if rep.updated {
					rep.note(fmt.Sprintf("updated to version %d", version))
				}
				rep.updated = true
				if !f.follow && !f.seed {
					return nil
				}
			}
		}
	}
}

// versionLine is the --json object of a version found.
type versionLine struct {
	Event    string `json:"event"` // "version"
	Version  int64  `json:"version"`
	InfoHash string `json:"info_hash"`
	First    bool   `json:"first"`
}

// version says that version seq (torrent ih) was found (first: the
// first one seen).
func (r *reporter) version(seq int64, ih string, first bool) {
	if r.jsonOut {
		r.writeJSON(versionLine{Event: "version", Version: seq, InfoHash: ih, First: first})
		return
	}
	what := "new version"
	if first {
		what = "version"
	}
	fmt.Fprintf(r.out, "%s %d: info hash %s\n", what, seq, ih)
}

// note prints a line of text (not with --json, where events say it).
func (r *reporter) note(s string) {
	if !r.jsonOut {
		fmt.Fprintln(r.out, printable.String(s))
	}
}
