package engine

import (
	"context"
	"net/netip"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/swarm"
	"github.com/swarmdrop/swarmdrop/engine/tracker"
)

// lookupLoop finds peers through the DHT and announces us, until ctx ends.
func (t *torrent) lookupLoop(ctx context.Context, sw *swarm.Swarm) {
	node := t.e.net.dht
	port := t.e.net.port
	for {
		found := 0
		t.mu.Lock()
		t.dht.Enabled = true
		t.dht.LastLookup = time.Now()
		t.mu.Unlock()
		lctx, cancel := context.WithTimeout(ctx, t.e.timing.LookupTimeout)
		err := node.GetPeers(lctx, t.ih, port, func(peers []netip.AddrPort) {
			sw.AddPeers(peers, swarm.SourceDHT)
			t.mu.Lock()
			t.dht.PeersFound += len(peers)
			t.mu.Unlock()
			found += len(peers)
		})
		cancel()
		if ctx.Err() != nil {
			return
		}
		wait := t.e.timing.LookupEvery
		if found == 0 && !sw.Complete() {
			wait = t.e.timing.LookupRetry
		}
		t.mu.Lock()
		if err != nil {
			t.dht.LastErr = err.Error()
		} else {
			t.dht.LastErr = ""
			t.dht.Announced = true
		}
		t.dht.NextLookup = time.Now().Add(wait)
		t.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// trackerTiers returns the torrent's trackers by tier.
func (t *torrent) trackerTiers() [][]string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.mi != nil {
		return t.mi.Trackers()
	}
	if t.magnet != nil {
		var tiers [][]string
		for _, tr := range t.magnet.Trackers {
			tiers = append(tiers, []string{tr})
		}
		return tiers
	}
	return nil
}

// newAnnouncer builds the tracker announcer feeding sw.
func (t *torrent) newAnnouncer(tiers [][]string, sw *swarm.Swarm) *tracker.Announcer {
	e := t.e
	return tracker.NewAnnouncer(tracker.AnnouncerConfig{
		Client: e.trackerClient(),
		Tiers:  tiers,
		Request: func() tracker.Request {
			st := sw.Stats()
			left := st.Left
			if !st.HasMetadata {
				left = 1 << 40 // unknown: we want everything
			}
			return tracker.Request{
				InfoHash: t.ih, PeerID: e.peerID, Port: e.net.port,
				Uploaded: st.Uploaded, Downloaded: st.Downloaded, Left: left,
				NumWant: 80,
			}
		},
		OnPeers:     func(peers []netip.AddrPort) { sw.AddPeers(peers, swarm.SourceTracker) },
		Logf:        e.cfg.Logf,
		StopTimeout: e.timing.TrackerStop,
	})
}
