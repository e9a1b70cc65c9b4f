package tracker

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"
)

// AnnouncerConfig configures an Announcer.
type AnnouncerConfig struct {
	// Client announces; nil means a client of its own.
	Client *Client
	// Tiers lists tracker URLs by tier, as in a torrent's announce-list.
	Tiers [][]string
	// Request returns what to announce now; the event is filled in, and
	// the key when it is 0.
	Request func() Request
	// OnPeers receives the peers of every answer that has some.
	OnPeers func([]netip.AddrPort)
	// Logf receives diagnostics; nil discards them.
	Logf func(string, ...any)
	// StopTimeout bounds AnnounceStopped (default 5 s).
	StopTimeout time.Duration
}

// TrackerStatus is a snapshot of what one tracker last did.
type TrackerStatus struct {
	URL                        string
	Tier                       int
	Working                    bool // the last announce to it succeeded
	LastAnnounce, NextAnnounce time.Time
	Peers, Seeders, Leechers   int
	LastError, LastWarning     string
}

// Announcer keeps a torrent announced to its trackers, as BEP 12 has it:
// each tier is shuffled once, its trackers are tried in order, and one that
// answers moves to the front of its tier. Every tier is announced to, in
// parallel. Its methods are safe for concurrent use.
type Announcer struct {
	client  *Client
	request func() Request
	onPeers func([]netip.AddrPort)
	logf    func(string, ...any)
	key     uint32

	// Timing, shortened by tests.
	minInterval     time.Duration // least time between two announces (and clamp)
	maxInterval     time.Duration // clamp of the tracker's interval
	defaultInterval time.Duration // when the tracker gives none
	retryBase       time.Duration // first wait after a tier failed
	retryMax        time.Duration
	stopTimeout     time.Duration // bounds AnnounceStopped

	// kicks wakes each tier's loop; one slot each.
	kicks []chan struct{}

	mu sync.Mutex
	// tiers holds each tier's trackers in the order they are tried;
	// completed says whether a tier owes its tracker the completed event.
	// Both and the trackers' fields are guarded by mu.
	tiers     [][]*trackerState
	completed []bool
}

// trackerState is one tracker of an Announcer.
type trackerState struct {
	status  TrackerStatus
	started bool // it accepted our started event and no stopped since
}

// NewAnnouncer returns an announcer for cfg.Tiers; Serve runs it.
func NewAnnouncer(cfg AnnouncerConfig) *Announcer {
	a := &Announcer{
		client:          cfg.Client,
		request:         cfg.Request,
		onPeers:         cfg.OnPeers,
		logf:            cfg.Logf,
		key:             rand.Uint32(),
		minInterval:     time.Minute,
		maxInterval:     2 * time.Hour,
		defaultInterval: 30 * time.Minute,
		retryBase:       30 * time.Second,
		retryMax:        30 * time.Minute,
		stopTimeout:     5 * time.Second,
	}
	if cfg.StopTimeout > 0 {
		a.stopTimeout = cfg.StopTimeout
	}
	if a.logf == nil {
		a.logf = func(string, ...any) {}
	}
	if a.client == nil {
		a.client = NewClient(ClientConfig{Logf: cfg.Logf})
	}
	if a.request == nil {
		a.request = func() Request { return Request{} }
	}
	seen := make(map[string]bool)
	for _, urls := range cfg.Tiers {
		var tier []*trackerState
		for _, u := range urls {
			if u == "" || seen[u] {
				continue
			}
			seen[u] = true
			tier = append(tier, &trackerState{status: TrackerStatus{URL: u, Tier: len(a.tiers)}})
		}
		if len(tier) == 0 {
			continue
		}
		rand.Shuffle(len(tier), func(i, j int) { tier[i], tier[j] = tier[j], tier[i] })
		a.tiers = append(a.tiers, tier)
		a.completed = append(a.completed, false)
		a.kicks = append(a.kicks, make(chan struct{}, 1))
	}
	return a
}

// Serve announces until ctx ends and returns at once then; an announce in
// flight is abandoned. AnnounceStopped tells the trackers afterwards.
// Serve is called at most once.
func (a *Announcer) Serve(ctx context.Context) {
	var wg sync.WaitGroup
	for tier := range a.tiers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.serveTier(ctx, tier)
		}()
	}
	wg.Wait()
}

// Completed has the completed event sent soon to every tier.
func (a *Announcer) Completed() {
	a.mu.Lock()
	for i := range a.completed {
		a.completed[i] = true
	}
	a.mu.Unlock()
	a.kick()
}

// Reannounce asks for an announce to every tier as soon as the trackers'
// minimum interval allows.
func (a *Announcer) Reannounce() { a.kick() }

// kick wakes every tier's loop without blocking.
func (a *Announcer) kick() {
	for _, k := range a.kicks {
		select {
		case k <- struct{}{}:
		default:
		}
	}
}

// Status returns a snapshot of every tracker, by tier, each tier in the
// order its trackers are tried.
func (a *Announcer) Status() []TrackerStatus {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []TrackerStatus
	for _, tier := range a.tiers {
		for _, t := range tier {
			out = append(out, t.status)
		}
	}
	return out
}

// serveTier keeps one tier announced until ctx ends.
func (a *Announcer) serveTier(ctx context.Context, tier int) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	var notBefore time.Time
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.kicks[tier]:
			if wait := time.Until(notBefore); wait > 0 && !a.completedPending(tier) {
				timer.Reset(wait)
				continue
			}
		case <-timer.C:
		}
		resp, ok := a.announceTier(ctx, tier)
		if ctx.Err() != nil {
			return
		}
		now := time.Now()
		var wait time.Duration
		if ok {
			failures = 0
			wait, notBefore = a.schedule(resp, now)
		} else {
			failures++
			wait = min(a.retryBase<<min(failures-1, 20), a.retryMax)
			notBefore = time.Time{}
		}
		a.mu.Lock()
		a.tiers[tier][0].status.NextAnnounce = now.Add(wait)
		a.mu.Unlock()
		timer.Reset(wait)
	}
}

// schedule returns when to announce after resp, and the earliest time a
// Reannounce may do so.
func (a *Announcer) schedule(resp *Response, now time.Time) (wait time.Duration, notBefore time.Time) {
	wait = resp.Interval
	if wait == 0 {
		wait = a.defaultInterval
	}
	minWait := min(max(resp.MinInterval, a.minInterval), a.maxInterval)
	wait = min(max(wait, minWait), a.maxInterval)
	return wait, now.Add(minWait)
}

// completedPending reports whether tier owes the completed event.
func (a *Announcer) completedPending(tier int) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.completed[tier]
}

// announceTier announces to the trackers of tier in order until one
// answers, and moves that one to the front.
func (a *Announcer) announceTier(ctx context.Context, tier int) (*Response, bool) {
	a.mu.Lock()
	trackers := append([]*trackerState(nil), a.tiers[tier]...)
	a.mu.Unlock()
	for _, t := range trackers {
		a.mu.Lock()
		ev, owedCompleted := None, a.completed[tier]
		switch {
		case !t.started:
			ev = Started
		case owedCompleted:
			ev = Completed
		}
		a.mu.Unlock()

		req := a.request()
		req.Event = ev
		if req.Key == 0 {
			req.Key = a.key
		}
		start := time.Now()
		resp, err := a.client.Announce(ctx, t.status.URL, req)
		if ctx.Err() != nil {
			return nil, false
		}
		a.mu.Lock()
		t.status.LastAnnounce = start
		t.status.NextAnnounce = time.Time{}
		t.status.Working = err == nil
		if err != nil {
			t.status.LastError = err.Error()
			a.mu.Unlock()
			a.logf("tracker %s: %v", t.status.URL, err)
			continue
		}
		t.status.LastError = ""
		t.status.LastWarning = resp.Warning
		t.status.Peers, t.status.Seeders, t.status.Leechers = len(resp.Peers), resp.Seeders, resp.Leechers
		t.started = true
		if owedCompleted {
			a.completed[tier] = false
		}
		a.moveToFrontLocked(tier, t)
		a.mu.Unlock()
		if resp.Warning != "" {
			a.logf("tracker %s warns: %s", t.status.URL, resp.Warning)
		}
		if len(resp.Peers) > 0 && a.onPeers != nil {
			a.onPeers(resp.Peers)
		}
		return resp, true
	}
	return nil, false
}

// moveToFrontLocked makes t the first tracker tried in tier.
func (a *Announcer) moveToFrontLocked(tier int, t *trackerState) {
	ts := a.tiers[tier]
	for i, x := range ts {
		if x == t {
			copy(ts[1:i+1], ts[:i])
			ts[0] = t
			return
		}
	}
}

// AnnounceStopped sends the stopped event to every tracker that accepted
// our started event, all at once, and returns when each has answered or
// failed, within StopTimeout (or sooner, when ctx ends). Call it after
// Serve has returned; it is safe to call more than once (later calls have
// nothing to send).
func (a *Announcer) AnnounceStopped(ctx context.Context) {
	a.mu.Lock()
	var urls []string
	for _, tier := range a.tiers {
		for _, t := range tier {
			if t.started {
				urls = append(urls, t.status.URL)
				t.started = false
			}
			t.status.NextAnnounce = time.Time{}
		}
	}
	a.mu.Unlock()
	if len(urls) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, a.stopTimeout)
	defer cancel()
	req := a.request()
	req.Event = Stopped
	if req.Key == 0 {
		req.Key = a.key
	}
	var wg sync.WaitGroup
	for _, u := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := a.client.Announce(ctx, u, req); err != nil {
				a.logf("tracker %s: stopping: %v", u, err)
			}
		}()
	}
	wg.Wait()
}
