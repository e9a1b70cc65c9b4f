package engine

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht"
	"github.com/swarmdrop/swarmdrop/engine/swarm"
	"github.com/swarmdrop/swarmdrop/engine/tracker"
)

// lookupLoop finds peers through the DHT and announces us, until ctx
// ends: one lookup at once, then every Timing.LookupEvery; after a lookup
// that found nobody for an incomplete torrent, Timing.LookupRetry; after
// one that failed (no node answered, or none gave a token to announce
// with), Timing.AnnounceRetry, doubling at each failure in a row.
//
// A torrent complete from the start looks up every
// Timing.SeedLookupEvery instead; restored with the saved list
// (spec.spread), it waits a random part of that interval first.
func (s *service) lookupLoop(ctx context.Context, sw *swarm.Swarm) {
	node, port, tm := s.spec.dht, s.spec.port, s.e.timing
	if d := firstLookupDelay(s.spec.spread, sw.Complete(), tm.SeedLookupEvery); d > 0 {
		s.r.mu.Lock()
		s.r.dht.Enabled = true
		s.r.dht.NextLookup = time.Now().Add(d)
		s.r.mu.Unlock()
		if !sleep(ctx, d) {
			return
		}
	}
	fails := 0
	for {
		found := 0
		s.r.mu.Lock()
		s.r.dht.Enabled = true
		s.r.dht.LastLookup = time.Now()
		s.r.mu.Unlock()
		lctx, cancel := context.WithTimeout(ctx, tm.LookupTimeout)
		// The BEP 33 scrape goes to the closest nodes apart from the
		// lookup (ScrapeClosest): libtorrent's nodes answer a get_peers
		// that asks for one with the filters instead of the peers.
		opts := dht.LookupOptions{Port: port, Seed: sw.Complete(), ScrapeClosest: true}
		res, err := node.Lookup(lctx, s.spec.ih, opts, func(peers []netip.AddrPort) {
			sw.AddPeers(peers, swarm.SourceDHT)
			s.r.mu.Lock()
			s.r.dht.PeersFound += len(peers)
			s.r.mu.Unlock()
			found += len(peers)
		})
		cancel()
		if ctx.Err() != nil {
			return
		}
		wait := tm.LookupEvery
		if sw.Complete() {
			wait = tm.SeedLookupEvery
		}
		switch {
		case err != nil:
			fails++
			wait = min(tm.AnnounceRetry<<min(fails-1, 16), tm.LookupEvery)
		case found == 0 && !sw.Complete():
			fails = 0
			wait = tm.LookupRetry
		default:
			fails = 0
		}
		s.r.mu.Lock()
		if err != nil {
			s.r.dht.LastErr = err.Error()
		} else {
			s.r.dht.LastErr = ""
			s.r.dht.Announced = true
		}
		if sc := res.Scrape; sc.Replies+sc.Legacy > 0 {
			s.r.scrape, s.r.scrapedAt = sc, time.Now()
		}
		s.r.dht.IPv4 = familyLookup(res.IPv4)
		s.r.dht.IPv6 = familyLookup(res.IPv6)
		s.r.dht.NextLookup = time.Now().Add(wait)
		s.r.mu.Unlock()
		if !sleep(ctx, wait) {
			return
		}
	}
}

// familyLookup describes a lookup's outcome in one family for a snapshot.
func familyLookup(r dht.FamilyResult) DHTFamilyLookup {
	return DHTFamilyLookup{Looked: r.Looked, Answered: r.Answered, Announced: r.Announced}
}

// firstLookupDelay is how long a torrent waits before its first DHT
// lookup: a random part of every for a complete torrent restored with
// others (spread), nothing otherwise (a new torrent, or one still
// downloading, wants peers, or to be found, at once).
func firstLookupDelay(spread, complete bool, every time.Duration) time.Duration {
	if !spread || !complete || every <= 0 {
		return 0
	}
	return rand.N(every)
}

// sleep waits d, or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// trackerTiers returns the torrent's trackers by tier.
func (s *service) trackerTiers() [][]string {
	if s.spec.mi != nil {
		return s.spec.mi.Trackers()
	}
	var tiers [][]string
	for _, tr := range s.spec.trackers {
		tiers = append(tiers, []string{tr})
	}
	return tiers
}

// newAnnouncer builds the tracker announcer feeding sw.
func (s *service) newAnnouncer(tiers [][]string, sw *swarm.Swarm) *tracker.Announcer {
	e, ih, port := s.e, s.spec.ih, s.spec.port
	return tracker.NewAnnouncer(tracker.AnnouncerConfig{
		Client: e.trk,
		Tiers:  tiers,
		Request: func() tracker.Request {
			st := sw.Stats()
			left := st.LeftTotal // skipped files count: we do not have them
			if !st.HasMetadata {
				left = 1 << 40 // unknown: we want everything
			}
			return tracker.Request{
				InfoHash: ih, PeerID: e.peerID, Port: port,
				Uploaded: st.Uploaded, Downloaded: st.Downloaded, Left: left,
				NumWant: 80,
			}
		},
		OnPeers:     func(peers []netip.AddrPort) { sw.AddPeers(peers, swarm.SourceTracker) },
		Logf:        e.cfg.Logf,
		StopTimeout: e.timing.TrackerStop,
	})
}
