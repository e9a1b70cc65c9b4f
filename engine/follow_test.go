package engine

import (
	"net/netip"
	"sync"
	"testing"
	"time"
)

// follower reads all of an engine's snapshots (it must be their only
// reader) and keeps, for one torrent, its latest status and every peer
// connection seen, so that a connection shorter than the wait for a
// state is not missed.
type follower struct {
	mu    sync.Mutex
	snap  Snapshot
	last  TorrentStatus
	peers map[string]PeerStatus // by address; the last status seen
	down  map[string]float64    // by address; the highest RateDown seen
	stop  chan struct{}
}

// follow starts following torrent ih of e until the test ends.
func follow(t *testing.T, e *Engine, ih string) *follower {
	f := &follower{peers: make(map[string]PeerStatus), down: make(map[string]float64), stop: make(chan struct{})}
	done := make(chan struct{})
	t.Cleanup(func() { close(f.stop); <-done })
	go func() {
		defer close(done)
		for {
			select {
			case <-f.stop:
				return
			case s := <-e.Snapshots():
				f.mu.Lock()
				f.snap = s
				f.mu.Unlock()
				for _, ts := range s.Torrents {
					if ts.InfoHash != ih {
						continue
					}
					f.mu.Lock()
					f.last = ts
					for _, p := range ts.PeerList {
						f.peers[p.Addr] = p
						f.down[p.Addr] = max(f.down[p.Addr], p.RateDown)
					}
					f.mu.Unlock()
				}
			}
		}
	}()
	return f
}

// waitState waits until the torrent is in state want, failing after
// timeout or on an error state.
func (f *follower) waitState(t *testing.T, want TorrentState, timeout time.Duration) TorrentStatus {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		f.mu.Lock()
		ts := f.last
		f.mu.Unlock()
		switch {
		case ts.State == want:
			return ts
		case ts.State == StateError:
			t.Fatalf("torrent failed: %v", ts.Err)
		case time.Now().After(deadline):
			t.Fatalf("torrent not %q within %v; last: state %q, %d/%d pieces, %d peers, err %v",
				want, timeout, ts.State, ts.PiecesHave, ts.PiecesTotal, ts.Peers, ts.Err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// snapshot returns the latest snapshot.
func (f *follower) snapshot() Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snap
}

// status returns the torrent's latest status.
func (f *follower) status() TorrentStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

// seen returns the connections seen from host (an IP address).
func (f *follower) seen(host string) []PeerStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []PeerStatus
	for a, p := range f.peers {
		if ap, err := netip.ParseAddrPort(a); err == nil && ap.Addr().String() == host {
			out = append(out, p)
		}
	}
	return out
}

// all returns every connection seen.
func (f *follower) all() []PeerStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []PeerStatus
	for _, p := range f.peers {
		out = append(out, p)
	}
	return out
}

// maxRateDown returns the highest download rate seen from addr.
func (f *follower) maxRateDown(addr string) float64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.down[addr]
}
