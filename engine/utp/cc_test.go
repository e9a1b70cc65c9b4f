package utp

import (
	"testing"
	"time"
)

// TestRTTEstimator checks the smoothed round trip, its floor and backoff,
// and the lowest sample (which the swarm sizes its request queue by).
func TestRTTEstimator(t *testing.T) {
	var r rttEstimator
	if r.rto() != initialRTO || r.min != 0 {
		t.Fatalf("no sample: rto %v, min %v", r.rto(), r.min)
	}
	ms := time.Millisecond
	for _, d := range []time.Duration{80 * ms, 120 * ms, 60 * ms, 200 * ms, -ms} {
		r.add(d)
	}
	if r.min != 60*ms {
		t.Errorf("min %v, want 60ms", r.min)
	}
	if r.samples != 4 || r.srtt <= 60*ms || r.srtt >= 200*ms {
		t.Errorf("%d samples, srtt %v", r.samples, r.srtt)
	}
	if got := r.rto(); got < minRTO {
		t.Errorf("rto %v below the floor %v", got, minRTO)
	}
	if got := backoff(r.rto(), 20); got != maxRTO {
		t.Errorf("backoff after 20 timeouts: %v, want %v", got, maxRTO)
	}
}

// TestMinRTT checks that a connection reports its path's round trip
// without queuing: at least the link's, well under the smoothed one of a
// transfer that fills the queue.
func TestMinRTT(t *testing.T) {
	p := connectPair(t, 7, link{Delay: 20 * time.Millisecond}, Config{})
	both(t, p, pattern(1<<20, 1), pattern(64<<10, 2), 30*time.Second)
	for i, c := range []*Conn{p.client, p.server} {
		st := c.Stats()
		if got := c.MinRTT(); got < 40*time.Millisecond || got != st.MinRTT || got > st.RTT+time.Millisecond {
			t.Errorf("side %d: MinRTT %v, Stats %+v", i, got, st)
		}
	}
}

// TestLossResponse checks that a loss with the queue nearly empty (random
// loss) takes a fifth off the window, one with queuing delay near the
// target or none measured yet halves it, a second loss within
// lossReduceEvery changes nothing, and a timeout leaves one packet.
func TestLossResponse(t *testing.T) {
	const mss, wnd = 1000, 100000
	now := time.Unix(1000, 0)
	ms := uint32(time.Millisecond / time.Microsecond)
	cases := []struct {
		name  string
		delay []uint32 // queuing delays sampled before the loss, ms (the first is the base)
		want  float64
	}{
		{"no samples", nil, wnd / 2},
		{"empty queue", []uint32{0, 5, 10, 20}, wnd * randomLossFactor},
		{"just under the threshold", []uint32{0, 24, 40, 30}, wnd * randomLossFactor},
		{"filling queue", []uint32{0, 30, 40, 35}, wnd / 2},
		{"near the target", []uint32{0, 90, 95, 90}, wnd / 2},
		{"over the target", []uint32{0, 150, 140, 160}, wnd / 2},
	}
	for _, tc := range cases {
		c := newCongestion(mss, 1<<20)
		c.cwnd = wnd
		for i, d := range tc.delay {
			c.sample(7_000_000+d*ms, now.Add(time.Duration(i)*time.Millisecond))
		}
		if !c.onLoss(now, mss) || c.cwnd != tc.want || c.slowStart {
			t.Errorf("%s: window %v (slow start %v), want %v", tc.name, c.cwnd, c.slowStart, tc.want)
		}
		if c.onLoss(now.Add(lossReduceEvery/2), mss) || c.cwnd != tc.want {
			t.Errorf("%s: second loss within %v cut the window to %v", tc.name, lossReduceEvery, c.cwnd)
		}
		if !c.onLoss(now.Add(lossReduceEvery), mss) || c.cwnd >= tc.want {
			t.Errorf("%s: loss after %v left the window at %v", tc.name, lossReduceEvery, c.cwnd)
		}
		c.onTimeout(mss)
		if c.cwnd != mss || !c.slowStart {
			t.Errorf("%s: after a timeout window %v, slow start %v", tc.name, c.cwnd, c.slowStart)
		}
	}
}
