package tracker

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// httpTracker is an HTTP tracker that records the events announced to it.
type httpTracker struct {
	url    string
	events chan string // "" for a regular announce
	fail   atomic.Bool
	body   string
	times  chan time.Time
}

// startHTTPTracker answers with interval 1800 s and the one peer 127.0.0.n:6881.
func startHTTPTracker(t *testing.T, n byte, extra string) *httpTracker {
	tr := &httpTracker{
		events: make(chan string, 100),
		times:  make(chan time.Time, 100),
		body:   fmt.Sprintf("d8:completei5e10:incompletei2e8:intervali1800e%s5:peers6:\x7f\x00\x00%c\x1a\xe1e", extra, n),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr.events <- r.URL.Query().Get("event")
		tr.times <- time.Now()
		if tr.fail.Load() {
			w.Write([]byte("d14:failure reason4:downe"))
			return
		}
		w.Write([]byte(tr.body))
	}))
	t.Cleanup(srv.Close)
	tr.url = srv.URL + "/announce"
	return tr
}

// next returns the next event announced, failing the test after 5 s.
func (tr *httpTracker) next(t *testing.T) string {
	t.Helper()
	select {
	case ev := <-tr.events:
		return ev
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: no announce", tr.url)
		return ""
	}
}

// quiet fails the test if anything is announced within d.
func (tr *httpTracker) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case ev := <-tr.events:
		t.Fatalf("%s: unexpected announce %q", tr.url, ev)
	case <-time.After(d):
	}
}

func testRequest() Request {
	return Request{InfoHash: hashOf("ih"), PeerID: hashOf("me"), Port: 6881, Left: 100}
}

// peerSet collects what OnPeers receives.
type peerSet struct {
	mu    sync.Mutex
	peers map[netip.AddrPort]bool
}

func (s *peerSet) add(ps []netip.AddrPort) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.peers == nil {
		s.peers = make(map[netip.AddrPort]bool)
	}
	for _, p := range ps {
		s.peers[p] = true
	}
}

func (s *peerSet) has(p string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peers[netip.MustParseAddrPort(p)]
}

func TestAnnouncerTiers(t *testing.T) {
	bad, good1, good2 := startHTTPTracker(t, 1, ""), startHTTPTracker(t, 2, ""), startHTTPTracker(t, 3, "")
	bad.fail.Store(true)
	var peers peerSet
	a := NewAnnouncer(AnnouncerConfig{
		Client:  NewClient(ClientConfig{Logf: t.Logf}),
		Tiers:   [][]string{{bad.url, good1.url}, {good2.url}},
		Request: testRequest,
		OnPeers: peers.add,
		Logf:    t.Logf,
	})
	// Make the failing tracker come first in its tier.
	if a.tiers[0][0].status.URL != bad.url {
		a.tiers[0][0], a.tiers[0][1] = a.tiers[0][1], a.tiers[0][0]
	}
	stop := serve(a)
	defer stop()

	if ev := bad.next(t); ev != "started" {
		t.Errorf("bad got %q", ev)
	}
	if ev := good1.next(t); ev != "started" {
		t.Errorf("good1 got %q after failover", ev)
	}
	if ev := good2.next(t); ev != "started" {
		t.Errorf("good2 got %q", ev)
	}
	waitFor(t, func() bool { return peers.has("127.0.0.2:6881") && peers.has("127.0.0.3:6881") })
	if peers.has("127.0.0.1:6881") {
		t.Error("peers from a failing tracker")
	}

	st := a.Status()
	if len(st) != 3 {
		t.Fatalf("status %+v", st)
	}
	if st[0].URL != good1.url || st[1].URL != bad.url || st[2].URL != good2.url {
		t.Errorf("status order %s %s %s: the working tracker should lead its tier", st[0].URL, st[1].URL, st[2].URL)
	}
	now := time.Now()
	for _, s := range []TrackerStatus{st[0], st[2]} {
		if !s.Working || s.Peers != 1 || s.Seeders != 5 || s.Leechers != 2 || s.LastError != "" ||
			now.Sub(s.LastAnnounce) > 5*time.Second || s.NextAnnounce.Sub(now) < 29*time.Minute || s.NextAnnounce.Sub(now) > 31*time.Minute {
			t.Errorf("status of a working tracker: %+v", s)
		}
	}
	if st[0].Tier != 0 || st[1].Tier != 0 || st[2].Tier != 1 {
		t.Errorf("tiers %d %d %d", st[0].Tier, st[1].Tier, st[2].Tier)
	}
	if s := st[1]; s.Working || s.LastError != "down" || s.LastAnnounce.IsZero() {
		t.Errorf("status of the failing tracker: %+v", s)
	}

	// Completed goes to the working tracker of each tier, at once.
	a.Completed()
	if ev := good1.next(t); ev != "completed" {
		t.Errorf("good1 got %q", ev)
	}
	if ev := good2.next(t); ev != "completed" {
		t.Errorf("good2 got %q", ev)
	}
	// Reannounce waits for the minimum interval (1 min here).
	a.Reannounce()
	good1.quiet(t, 200*time.Millisecond)

	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
	if ev := good1.next(t); ev != "stopped" {
		t.Errorf("good1 got %q at shutdown", ev)
	}
	if ev := good2.next(t); ev != "stopped" {
		t.Errorf("good2 got %q at shutdown", ev)
	}
	bad.quiet(t, 50*time.Millisecond)
}

func TestAnnouncerBackoffThenRecovery(t *testing.T) {
	tr := startHTTPTracker(t, 1, "")
	tr.fail.Store(true)
	a := NewAnnouncer(AnnouncerConfig{Tiers: [][]string{{tr.url}}, Request: testRequest})
	a.retryBase, a.retryMax = 20*time.Millisecond, 80*time.Millisecond
	stop := serve(a)
	defer stop()
	var times []time.Time
	for range 5 {
		if ev := tr.next(t); ev != "started" {
			t.Errorf("got %q while failing", ev)
		}
		times = append(times, <-tr.times)
	}
	// Waits 20, 40, 80, 80 ms: doubling, capped.
	for i, want := range []time.Duration{20, 40, 80, 80} {
		got := times[i+1].Sub(times[i])
		if got < want*time.Millisecond-5*time.Millisecond || got > want*time.Millisecond+time.Second {
			t.Errorf("wait %d: %v, want about %v ms", i, got, want)
		}
	}
	if st := a.Status()[0]; st.Working || st.LastError != "down" || st.NextAnnounce.IsZero() {
		t.Errorf("failing status %+v", st)
	}
	tr.fail.Store(false)
	if ev := tr.next(t); ev != "started" {
		t.Errorf("got %q on recovery", ev)
	}
	waitFor(t, func() bool { return a.Status()[0].Working })
	if st := a.Status()[0]; st.LastError != "" {
		t.Errorf("recovered status %+v", st)
	}
	stop()
	if ev := tr.next(t); ev != "stopped" {
		t.Errorf("got %q at shutdown", ev)
	}
}

func TestAnnouncerReannounceHonoursMinInterval(t *testing.T) {
	tr := startHTTPTracker(t, 1, "12:min intervali1e")
	a := NewAnnouncer(AnnouncerConfig{Tiers: [][]string{{tr.url}}, Request: testRequest})
	a.minInterval = 300 * time.Millisecond
	defer serve(a)()
	if ev := tr.next(t); ev != "started" {
		t.Fatalf("got %q", ev)
	}
	first := <-tr.times
	a.Reannounce()
	if ev := tr.next(t); ev != "" {
		t.Fatalf("got %q on reannounce", ev)
	}
	if gap := (<-tr.times).Sub(first); gap < 990*time.Millisecond {
		t.Errorf("reannounced after %v, before the tracker's min interval of 1 s", gap)
	}
}

func TestAnnouncerCompletedBeforeStart(t *testing.T) {
	tr := startHTTPTracker(t, 1, "")
	a := NewAnnouncer(AnnouncerConfig{Tiers: [][]string{{tr.url}}, Request: testRequest})
	a.Completed() // already complete when started: no completed event
	stop := serve(a)
	if ev := tr.next(t); ev != "started" {
		t.Errorf("got %q", ev)
	}
	tr.quiet(t, 200*time.Millisecond)
	stop()
	if ev := tr.next(t); ev != "stopped" {
		t.Errorf("got %q at shutdown", ev)
	}
}

func TestAnnouncerSchedule(t *testing.T) {
	a := NewAnnouncer(AnnouncerConfig{})
	now := time.Now()
	for _, tc := range []struct {
		interval, minInterval, wait, notBefore time.Duration
	}{
		{0, 0, 30 * time.Minute, time.Minute},
		{10 * time.Second, 0, time.Minute, time.Minute},
		{5 * time.Hour, 0, 2 * time.Hour, time.Minute},
		{30 * time.Minute, 45 * time.Minute, 45 * time.Minute, 45 * time.Minute},
		{30 * time.Minute, 5 * time.Hour, 2 * time.Hour, 2 * time.Hour},
	} {
		wait, nb := a.schedule(&Response{Interval: tc.interval, MinInterval: tc.minInterval}, now)
		if wait != tc.wait || nb.Sub(now) != tc.notBefore {
			t.Errorf("interval %v min %v: wait %v not before +%v, want %v +%v", tc.interval, tc.minInterval, wait, nb.Sub(now), tc.wait, tc.notBefore)
		}
	}
}

func TestAnnouncerShufflesTiers(t *testing.T) {
	urls := []string{"http://a/", "http://b/", "http://c/", "http://d/", "http://e/", "http://f/"}
	orders := make(map[string]bool)
	for range 20 {
		a := NewAnnouncer(AnnouncerConfig{Tiers: [][]string{urls, {"", "http://a/"}}})
		var order string
		for _, s := range a.Status() {
			order += s.URL
		}
		orders[order] = true
		if got := len(a.Status()); got != len(urls) {
			t.Fatalf("%d trackers, want %d (empty tier and repeats dropped)", got, len(urls))
		}
	}
	if len(orders) < 2 {
		t.Error("tier never shuffled")
	}
}

func TestAnnouncerWithoutTrackers(t *testing.T) {
	a := NewAnnouncer(AnnouncerConfig{})
	a.Completed()
	a.Reannounce()
	done := make(chan struct{})
	go func() {
		a.Serve(context.Background())
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Serve without trackers did not return")
	}
	if st := a.Status(); len(st) != 0 {
		t.Errorf("status %v", st)
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
	}
}

// serve runs a.Serve until the returned stop is called; stop waits for
// Serve to return, then sends the stopped announces.
func serve(a *Announcer) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() {
		defer close(served)
		a.Serve(ctx)
	}()
	return func() {
		cancel()
		<-served
		a.AnnounceStopped(context.Background())
	}
}

// TestAnnounceStoppedBounded: Serve returns at once when its context
// ends; AnnounceStopped then tells every tier's tracker in parallel, and
// trackers that never answer the stopped event hold it up for
// StopTimeout at most, not once per tracker.
func TestAnnounceStoppedBounded(t *testing.T) {
	var started, stopped atomic.Int32
	hang := func() string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("event") == "stopped" {
				stopped.Add(1)
				<-r.Context().Done() // never answers
				return
			}
			started.Add(1)
			w.Write([]byte("d8:intervali1800e5:peers0:e"))
		}))
		t.Cleanup(srv.Close)
		return srv.URL + "/announce"
	}
	a := NewAnnouncer(AnnouncerConfig{
		Tiers:   [][]string{{hang()}, {hang()}, {hang()}},
		Request: testRequest,
		// Long enough for three loopback requests to reach their
		// trackers on a loaded machine (300 ms lost one under CI load);
		// one after the other they would take 3 times as long.
		StopTimeout: 1500 * time.Millisecond,
	})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() {
		defer close(served)
		a.Serve(ctx)
	}()
	// All three answers taken in (a tracker that has served its answer
	// may not yet be marked started: then no stopped is owed to it).
	waitFor(t, func() bool {
		working := 0
		for _, st := range a.Status() {
			if st.Working {
				working++
			}
		}
		return started.Load() == 3 && working == 3
	})
	cancel()
	select {
	case <-served:
	case <-time.After(time.Second):
		t.Fatal("Serve did not return when its context ended")
	}
	if n := stopped.Load(); n != 0 {
		t.Fatalf("%d stopped events sent by Serve itself", n)
	}
	start := time.Now()
	a.AnnounceStopped(context.Background())
	d := time.Since(start)
	if n := stopped.Load(); n != 3 {
		t.Errorf("%d stopped events reached the trackers, want 3", n)
	}
	if d < 1400*time.Millisecond || d > 3500*time.Millisecond {
		t.Errorf("AnnounceStopped took %v; want about the 1.5 s StopTimeout (in parallel, not 4.5 s in turn)", d)
	}
	// Nothing left to send.
	start = time.Now()
	a.AnnounceStopped(context.Background())
	if d := time.Since(start); d > 100*time.Millisecond || stopped.Load() != 3 {
		t.Errorf("a second AnnounceStopped took %v and sent %d in all", d, stopped.Load())
	}
}
