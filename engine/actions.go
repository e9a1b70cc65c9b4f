package engine

import (
	"fmt"
	"net/netip"
	"net/url"
	"slices"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/swarm"
)

// maxTorrentPeers bounds the addresses a torrent keeps to dial at each
// start (AddOptions.Peers, a magnet's x.pe, AddPeer).
const maxTorrentPeers = 200

// maxTrackers bounds the tracker URLs of one torrent that AddTrackers
// and TorrentDuplicate deal with.
const maxTrackers = 200

// Recheck verifies a torrent's data on disk again, trusting no resume
// data: a running torrent restarts with a full check; a paused or failed
// one is checked and stays as it was (paused, or running again after a
// failure once the check passes). Pieces shared with skipped files cannot
// be hashed from the disk and are fetched again. A torrent waiting for
// its file choice, being moved, or whose metadata is unknown is left
// alone.
func (e *Engine) Recheck(infoHash string) {
	e.withTorrent(infoHash, func(t *torrent) {
		if t.mi == nil || t.waitFiles || t.moving() {
			return
		}
		t.recheck = true
		switch {
		case t.run != nil:
			e.stop(t, nil)
			t.restart = true
		case t.paused:
			e.startRun(t, true)
		default:
			e.start(t)
		}
	})
}

// AddPeer has a torrent connect to addr ("ip:port" or "[ipv6]:port"),
// now if it runs and at each start: the address is kept with the
// torrent like AddOptions.Peers. A malformed address is an error at
// once.
func (e *Engine) AddPeer(infoHash, addr string) error {
	a, err := netip.ParseAddrPort(addr)
	if err != nil || a.Port() == 0 || !a.Addr().IsValid() {
		return fmt.Errorf("peer address %q: want IP:port, such as 192.0.2.7:6881 or [2001:db8::7]:6881", addr)
	}
	a = netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
	if _, err := parseHash(infoHash); err != nil {
		return err
	}
	e.withTorrent(infoHash, func(t *torrent) {
		if !slices.Contains(t.peers, a) {
			if len(t.peers) >= maxTorrentPeers {
				t.peers = slices.Delete(t.peers, 0, 1)
			}
			t.peers = append(t.peers, a)
		}
		if sw := t.run.status().sw; sw != nil {
			sw.AddPeers([]netip.AddrPort{a}, swarm.SourceManual)
		}
	})
	return nil
}

// SetTorrentLimits sets a torrent's own download and upload limits in
// bytes per second (0 or less: none), enforced on top of the engine's
// and kept in the saved list. They apply at once to a running torrent.
func (e *Engine) SetTorrentLimits(infoHash string, down, up int64) {
	e.withTorrent(infoHash, func(t *torrent) {
		t.down.SetRate(max(down, 0))
		t.up.SetRate(max(up, 0))
	})
}

// AddTrackers adds tiers of tracker URLs (http, https or udp) to a
// torrent, each as a tier of its own after the torrent's; URLs it has
// already, and others, are left out. A running torrent restarts its
// announces with them. They are kept in the torrent's saved metadata (or
// magnet link).
func (e *Engine) AddTrackers(infoHash string, tiers [][]string) {
	tiers = cleanTiers(tiers)
	e.withTorrent(infoHash, func(t *torrent) {
		add := newTrackers(t.trackerTiers(), tiers)
		if len(add) == 0 {
			return
		}
		if t.mi != nil {
			mi := *t.mi // the running service keeps the old one
			mi.AnnounceList = append(slices.Clone(t.mi.Trackers()), add...)
			if mi.Announce == "" {
				mi.Announce = mi.AnnounceList[0][0]
			}
			t.mi = &mi
			e.saveTorrentFile(t)
		}
		if t.magnet != nil {
			m := *t.magnet
			m.Trackers = slices.Clone(m.Trackers)
			for _, tier := range add {
				m.Trackers = append(m.Trackers, tier...)
			}
			t.magnet = &m
		}
		if t.run != nil && !t.run.stopping {
			e.stop(t, nil)
			t.restart = true
		}
	})
}

// trackerTiers returns the torrent's trackers by tier.
func (t *torrent) trackerTiers() [][]string {
	if t.mi != nil {
		return t.mi.Trackers()
	}
	if t.magnet == nil {
		return nil
	}
	var tiers [][]string
	for _, u := range t.magnet.Trackers {
		tiers = append(tiers, []string{u})
	}
	return tiers
}

// cleanTiers keeps the http, https and udp URLs of tiers, drops empty
// tiers, and stops at maxTrackers URLs.
func cleanTiers(tiers [][]string) [][]string {
	var out [][]string
	n := 0
	for _, tier := range tiers {
		var keep []string
		for _, u := range tier {
			if n >= maxTrackers {
				break
			}
			p, err := url.Parse(u)
			if err != nil || p.Host == "" || (p.Scheme != "http" && p.Scheme != "https" && p.Scheme != "udp") {
				continue
			}
			if !slices.Contains(keep, u) {
				keep = append(keep, u)
				n++
			}
		}
		if len(keep) > 0 {
			out = append(out, keep)
		}
	}
	return out
}

// newTrackers returns the tiers of add without the URLs have holds, and
// without tiers left empty; nil when nothing is new.
func newTrackers(have, add [][]string) [][]string {
	var known []string
	for _, tier := range have {
		known = append(known, tier...)
	}
	var out [][]string
	for _, tier := range add {
		var fresh []string
		for _, u := range tier {
			if !slices.Contains(known, u) && len(known) < maxTrackers {
				fresh = append(fresh, u)
				known = append(known, u)
			}
		}
		if len(fresh) > 0 {
			out = append(out, fresh)
		}
	}
	return out
}

// duplicate tells that a torrent already in the list was added again
// (Run goroutine): its extra peers are used, and the trackers the new
// copy has that t lacks are offered (TorrentDuplicate).
func (e *Engine) duplicate(t *torrent, mi *metainfo.MetaInfo, m *metainfo.Magnet, peers []netip.AddrPort) {
	if sw := t.run.status().sw; sw != nil && len(peers) > 0 {
		sw.AddPeers(peers, swarm.SourceManual)
	}
	other := &torrent{mi: mi, magnet: m}
	e.emit(TorrentDuplicate{InfoHash: t.ih.String(), Name: t.name(),
		NewTrackers: newTrackers(t.trackerTiers(), cleanTiers(other.trackerTiers()))})
}
