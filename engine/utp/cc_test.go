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
