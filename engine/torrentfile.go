package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// ErrNoMetadata is TorrentFile's error for a torrent added by a magnet
// link whose metadata (its info dictionary) has not arrived yet.
var ErrNoMetadata = errors.New("its metadata is not known yet")

// ErrNoTorrent is TorrentFile's error for an info hash not in the list.
var ErrNoTorrent = errors.New("no such torrent")

// TorrentFile returns a .torrent of the torrent infoHash, to be saved by
// the user: the info dictionary exactly as received (so the info hash is
// the torrent's), its trackers (those it came with, of its magnet link and
// added since) and its `nodes`. A trackerless torrent without nodes of its
// own gets up to 8 good nodes of our DHT routing tables, so that the file
// alone is enough to find the swarm. It waits for the Run goroutine, or
// until ctx ends; the result is the caller's.
func (e *Engine) TorrentFile(ctx context.Context, infoHash string) ([]byte, error) {
	ih, err := parseHash(infoHash)
	if err != nil {
		return nil, err
	}
	type result struct {
		mi  *metainfo.MetaInfo
		err error
	}
	reply := make(chan result, 1)
	e.queue.put(func() {
		t := e.torrents[ih]
		switch {
		case t == nil:
			reply <- result{err: ErrNoTorrent}
		case t.mi == nil:
			reply <- result{err: ErrNoMetadata}
		default:
			mi := *t.mi // shallow: the copy only gains nodes below
			reply <- result{mi: &mi}
		}
	})
	var r result
	select {
	case r = <-reply:
	case <-ctx.Done():
		return nil, fmt.Errorf("torrent %s: %w", infoHash, ctx.Err())
	}
	if r.err != nil {
		return nil, fmt.Errorf("torrent %s: %w", infoHash, r.err)
	}
	mi := r.mi
	if len(mi.Trackers()) == 0 && len(mi.Nodes) == 0 {
		var nodes []metainfo.Node
		for _, a := range alternateFamilies(e.closestGood(16), 8) {
			nodes = metainfo.AppendNodes(nodes, metainfo.NodeOf(a))
		}
		mi.Nodes = nodes
	}
	data, err := mi.Encode()
	if err != nil {
		return nil, fmt.Errorf("torrent %s: %w", infoHash, err)
	}
	return data, nil
}
