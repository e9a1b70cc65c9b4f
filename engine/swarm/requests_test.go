package swarm

import (
	"testing"
	"time"
)

func TestRequestLimit(t *testing.T) {
	for _, tc := range []struct{ maxReq, reqq, want int }{
		{64, 0, 64},     // reqq unknown: our queue
		{64, 250, 64},   // below reqq
		{512, 512, 511}, // at Transmission's reqq: one below (it rejects the reqq-th)
		{1500, 250, 249},
		{10, 1, 1}, // never zero
	} {
		if got := requestLimit(tc.maxReq, tc.reqq); got != tc.want {
			t.Errorf("requestLimit(%d, %d) = %d, want %d", tc.maxReq, tc.reqq, got, tc.want)
		}
	}
}

func TestRequestRoom(t *testing.T) {
	for _, tc := range []struct{ limit, outstanding, want int }{
		{64, 0, 64},
		{64, 60, 0}, // a gap of 4 is not worth a write
		{64, 56, 8},
		{4, 3, 1}, // small queues top up one at a time
		{4, 4, 0},
		{10, 12, 0}, // over (the limit shrank)
	} {
		if got := requestRoom(tc.limit, tc.outstanding); got != tc.want {
			t.Errorf("requestRoom(%d, %d) = %d, want %d", tc.limit, tc.outstanding, got, tc.want)
		}
	}
}

func TestSnubbed(t *testing.T) {
	now := time.Unix(1000, 0)
	s := time.Second
	for _, tc := range []struct {
		oldest, lastBlock time.Time
		want              bool
	}{
		{time.Time{}, time.Time{}, false},          // nothing outstanding
		{now.Add(-30 * s), time.Time{}, true},      // never sent a block
		{now.Add(-30 * s), now.Add(-5 * s), false}, // sent one recently
		{now.Add(-5 * s), time.Time{}, false},      // request still young
		{now.Add(-20 * s), now.Add(-20 * s), true}, // exactly the timeout
	} {
		if got := snubbed(tc.oldest, tc.lastBlock, now, 20*s); got != tc.want {
			t.Errorf("snubbed(%v, %v) = %v, want %v", now.Sub(tc.oldest), now.Sub(tc.lastBlock), got, tc.want)
		}
	}
}

func TestNextQueue(t *testing.T) {
	s := time.Second
	fast := float64(10 << 20) // 10 MiB/s
	q := 1500 * time.Millisecond
	for _, tc := range []struct {
		name           string
		maxReq         int
		slow           bool
		prevRate, rate float64
		since          time.Duration
		want           int
		wantSlow       bool
	}{
		{"slow start without a rate keeps growing", 90, true, 0, 0, 0, 90, true},
		{"slow start goes on at the first rate", 90, true, 0, fast, 0, resizeQueue(fast, q), true},
		{"slow start goes on while the rate climbs", 300, true, fast / 2, fast, 0, resizeQueue(fast, q), true},
		{"slow start keeps its larger queue while the rate climbs", 1200, true, fast / 2, fast, 0, 1200, true},
		{"slow start ends when the rate levels off", 1200, true, fast, fast * 1.05, 0, 1200, false},
		{"slow start ends with the rate's queue when it is larger", 90, true, fast, fast, 0, resizeQueue(fast, q), false},
		{"a queue past twice the rate's ends slow start, capped", 2000, true, 1 << 10, 1 << 20, 0, 2 * resizeQueue(1<<20, q), false},
		{"the first tick, a few blocks measured, does not end it", startQueue + 4, true, 0, 2 * BlockSize, 0, startQueue + 4, true},
		{"queue follows the rate", 64, false, 0, fast, 0, resizeQueue(fast, q), false},
		{"a snubbed peer stays snubbed", snubbedQueue, false, 0, 0, 30 * s, snubbedQueue, false},
		{"a snubbed peer that sends again recovers", snubbedQueue, false, 0, fast, time.Second, resizeQueue(fast, q), false},
	} {
		got, slow := nextQueue(tc.maxReq, tc.slow, tc.prevRate, tc.rate, tc.since, 20*s, q)
		if got != tc.want || slow != tc.wantSlow {
			t.Errorf("%s: nextQueue = %d, %v; want %d, %v", tc.name, got, slow, tc.want, tc.wantSlow)
		}
	}
	if resizeQueue(0, q) != minQueue || resizeQueue(1e12, q) != maxQueue {
		t.Errorf("resizeQueue bounds: %d %d", resizeQueue(0, q), resizeQueue(1e12, q))
	}
	if got := resizeQueue(1<<20, 3*time.Second); got != 3*64+minQueue {
		t.Errorf("3 s of 1 MiB/s: queue %d, want %d", got, 3*64+minQueue)
	}
}

// TestSlowStartRamp drives the queue through ticks as tick.go and the
// reader do (one more request per block while slow-starting, the rate an
// average of halves): a peer whose delivery doubles each second stays in
// slow start while it climbs and leaves it within three ticks of levelling
// off; a slow peer at a flat rate leaves it within four ticks, never with
// more than twice the queue its rate asks.
func TestSlowStartRamp(t *testing.T) {
	span := 1500 * time.Millisecond
	for _, tc := range []struct {
		name     string
		delivery func(tick int) float64 // bytes received in each second
		plateau  int                    // first tick at the top rate
		maxTicks int                    // slow start over by then
	}{
		{"TCP ramp to 12 MB/s", func(i int) float64 { return min(12e6, 50e3*float64(int(1)<<i)) }, 8, 11},
		{"flat 32 KB/s", func(int) float64 { return 32 << 10 }, 0, 4},
	} {
		maxReq, slow, rate := startQueue, true, 0.0
		ended := -1
		for i := range 20 {
			d := tc.delivery(i)
			if slow {
				maxReq = min(maxReq+int(d/BlockSize), maxQueue)
			}
			prev := rate
			rate = 0.5*rate + 0.5*d
			wasSlow := slow
			maxReq, slow = nextQueue(maxReq, slow, prev, rate, 0, 20*time.Second, span)
			if wasSlow && !slow {
				ended = i
			}
			if i < tc.plateau && !slow {
				t.Fatalf("%s: slow start ended at tick %d while the rate still doubled", tc.name, i)
			}
			if !slow && maxReq > 2*resizeQueue(rate, span) {
				t.Fatalf("%s: tick %d: queue %d for a rate asking %d", tc.name, i, maxReq, resizeQueue(rate, span))
			}
		}
		if ended < 0 || ended > tc.maxTicks {
			t.Errorf("%s: slow start ended at tick %d, want by %d", tc.name, ended, tc.maxTicks)
		}
		if want := resizeQueue(rate, span); maxReq != want {
			t.Errorf("%s: settled at queue %d, want the rate's %d", tc.name, maxReq, want)
		}
	}
}

// TestMetadataPlan: one piece per peer at a time, spread over peers; a
// timed-out piece goes to another peer; a peer silent for twice the
// timeout is dropped.
func TestMetadataPlan(t *testing.T) {
	now := time.Unix(1000, 0)
	to := 5 * time.Second
	type ask struct {
		id    peerID
		piece int
		age   time.Duration
	}
	for _, tc := range []struct {
		name     string
		pieces   int
		got      []int
		asks     []ask // peers with outstanding asks; idle peers have piece -1
		wantAsk  map[peerID]int
		wantDrop []peerID
	}{
		{
			name: "spread over idle peers, one piece each", pieces: 3,
			asks:    []ask{{1, -1, 0}, {2, -1, 0}},
			wantAsk: map[peerID]int{1: 0, 2: 1},
		},
		{
			name: "a busy peer gets nothing more", pieces: 3,
			asks:    []ask{{1, 0, time.Second}, {2, -1, 0}},
			wantAsk: map[peerID]int{2: 1},
		},
		{
			name: "one peer, two pieces: one at a time", pieces: 2,
			asks:    []ask{{1, -1, 0}},
			wantAsk: map[peerID]int{1: 0},
		},
		{
			name: "a timed-out piece goes to another peer", pieces: 2, got: []int{1},
			asks:    []ask{{1, 0, 6 * time.Second}, {2, -1, 0}},
			wantAsk: map[peerID]int{2: 0},
		},
		{
			name: "silent for twice the timeout: dropped", pieces: 2,
			asks:     []ask{{1, 0, 11 * time.Second}, {2, -1, 0}},
			wantAsk:  map[peerID]int{2: 0},
			wantDrop: []peerID{1},
		},
		{
			name: "nothing left to ask", pieces: 2, got: []int{0, 1},
			asks:    []ask{{1, -1, 0}},
			wantAsk: map[peerID]int{},
		},
	} {
		m := newMetadataFetch()
		m.size = tc.pieces * 16384
		m.got = make([]bool, tc.pieces)
		for _, i := range tc.got {
			m.got[i] = true
		}
		for _, a := range tc.asks {
			m.offers[a.id] = &metaAsk{piece: a.piece, at: now.Add(-a.age)}
		}
		pl := m.plan(now, to)
		if len(pl.ask) != len(tc.wantAsk) {
			t.Errorf("%s: asks %v, want %v", tc.name, pl.ask, tc.wantAsk)
			continue
		}
		for id, p := range tc.wantAsk {
			if pl.ask[id] != p {
				t.Errorf("%s: asks %v, want %v", tc.name, pl.ask, tc.wantAsk)
			}
		}
		if len(pl.drop) != len(tc.wantDrop) || (len(pl.drop) > 0 && pl.drop[0] != tc.wantDrop[0]) {
			t.Errorf("%s: drops %v, want %v", tc.name, pl.drop, tc.wantDrop)
		}
	}
}

func TestRetryDelay(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		n    int
		want time.Duration
	}{{0, 0}, {1, s}, {2, 2 * s}, {5, 16 * s}, {20, 5 * time.Minute}, {100, 5 * time.Minute}} {
		if got := retryDelay(s, 5*time.Minute, tc.n); got != tc.want {
			t.Errorf("retryDelay(1s, 5m, %d) = %v, want %v", tc.n, got, tc.want)
		}
	}
}

func TestQueueSpan(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct{ rtt, most, want time.Duration }{
		{0, 1500 * ms, 1500 * ms},        // unknown: all of it
		{10 * ms, 1500 * ms, 500 * ms},   // a short path: the floor
		{100 * ms, 1500 * ms, 800 * ms},  // rttSpans round trips
		{200 * ms, 1500 * ms, 1500 * ms}, // a long fat path: the whole span
		{time.Second, 1500 * ms, 1500 * ms},
		{10 * ms, 300 * ms, 300 * ms}, // never over the configured span
	} {
		if got := queueSpan(tc.rtt, tc.most); got != tc.want {
			t.Errorf("queueSpan(%v, %v) = %v, want %v", tc.rtt, tc.most, got, tc.want)
		}
	}
}
