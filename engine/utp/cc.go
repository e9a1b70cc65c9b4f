package utp

import (
	"time"
)

// Congestion control: LEDBAT as BEP 29 and libtorrent run it. The window
// grows while the one-way queuing delay our packets see stays under the
// target, shrinks when it is over, and drops to one packet on a timeout.
// A loss halves it when the queuing delay is near the target or unknown,
// but takes only a fifth off while the delay is under randomLossDelay: a
// queue that drops packets fills first, and LEDBAT has seen that as delay
// before the loss, so a loss with the queue nearly empty is most likely
// the path's random loss (radio, a busy router), which halving would
// answer with half the rate and no relief (issue 17: links of 0-1 % loss
// against the kernel's BBR). Either cut comes at most once per
// lossReduceEvery and once per window of packets (send.go's lossLocked),
// so the decrease stays multiplicative and a shallow queue that drops
// before delay shows still brings the window down within a few round
// trips.
const (
	targetDelay      = 100 * time.Millisecond
	gainBytes        = 3000 // most the window grows in one round trip at zero delay
	lossReduceEvery  = 100 * time.Millisecond
	randomLossDelay  = targetDelay / 4
	randomLossFactor = 0.8
	delayBuckets     = 10 // minutes of history for the base delay
	minDelaySamples  = 120
)

// Retransmission timer per RFC 6298, with uTP's 500 ms floor.
const (
	initialRTO = time.Second
	minRTO     = 500 * time.Millisecond
	maxRTO     = 60 * time.Second
	rtoGrain   = 10 * time.Millisecond
)

// rttEstimator is RFC 6298's smoothed round-trip time and its variation,
// and the lowest sample (the path's round trip without queuing).
type rttEstimator struct {
	srtt, rttvar time.Duration
	min          time.Duration
	samples      int
}

func (r *rttEstimator) add(d time.Duration) {
	if d < 0 {
		return
	}
	if r.samples == 0 || d < r.min {
		r.min = d
	}
	if r.samples == 0 {
		r.srtt, r.rttvar = d, d/2
	} else {
		diff := r.srtt - d
		if diff < 0 {
			diff = -diff
		}
		r.rttvar = (3*r.rttvar + diff) / 4
		r.srtt = (7*r.srtt + d) / 8
	}
	r.samples++
}

// rto is the retransmission timeout before any backoff.
func (r *rttEstimator) rto() time.Duration {
	if r.samples == 0 {
		return initialRTO
	}
	return min(max(r.srtt+max(rtoGrain, 4*r.rttvar), minRTO), maxRTO)
}

// backoff is rto doubled for each timeout in a row, at most maxRTO.
func backoff(rto time.Duration, timeouts int) time.Duration {
	for range min(timeouts, 8) {
		rto *= 2
	}
	return min(rto, maxRTO)
}

// delayHistory keeps the lowest timestamp difference of each of the last
// delayBuckets minutes; their minimum is the base delay that the samples
// are measured against (clocks are not synchronised, so only changes
// tell queuing delay). Values wrap at 2^32.
type delayHistory struct {
	hist    [delayBuckets]uint32
	idx     int
	base    uint32
	samples int
	stepAt  time.Time
	ready   bool
}

// add records sample and returns it minus the base delay.
func (d *delayHistory) add(sample uint32, now time.Time) uint32 {
	if !d.ready {
		for i := range d.hist {
			d.hist[i] = sample
		}
		d.base, d.ready, d.stepAt = sample, true, now.Add(time.Minute)
	}
	d.samples++
	if int32(sample-d.base) < 0 {
		d.base = sample
		d.hist[d.idx] = sample
	} else if int32(sample-d.hist[d.idx]) < 0 {
		d.hist[d.idx] = sample
	}
	ret := sample - d.base
	if now.After(d.stepAt) {
		d.stepAt = now.Add(time.Minute)
		if d.samples > minDelaySamples {
			d.samples = 0
			d.idx = (d.idx + 1) % delayBuckets
			d.hist[d.idx] = sample
			d.base = sample
			for _, h := range d.hist {
				if int32(h-d.base) < 0 {
					d.base = h
				}
			}
		}
	}
	return ret
}

// raise moves the base delay up by change (clock drift compensation).
func (d *delayHistory) raise(change uint32) {
	d.base += change
	for i, h := range d.hist {
		if int32(h-d.base) < 0 {
			d.hist[i] = d.base
		}
	}
}

// congestion is one connection's LEDBAT state.
type congestion struct {
	cwnd      float64 // bytes allowed in flight
	maxWindow float64
	slowStart bool
	ssthresh  float64 // 0: not set yet
	nextLoss  time.Time

	ours   delayHistory // the peer's measurements of our packets' delay
	theirs delayHistory // our measurements of the peer's packets
	recent [3]uint32    // last queuing-delay samples, in microseconds
	ri     int
	nrec   int
}

func newCongestion(mss, maxWindow int) congestion {
	return congestion{cwnd: float64(2 * mss), maxWindow: float64(maxWindow), slowStart: true}
}

// sample records the peer's timestamp difference of one of our packets.
func (c *congestion) sample(diff uint32, now time.Time) {
	c.recent[c.ri] = c.ours.add(diff, now)
	c.ri = (c.ri + 1) % len(c.recent)
	c.nrec = min(c.nrec+1, len(c.recent))
}

// theirSample records our timestamp difference of the peer's packet; when
// their base delay drops, our clock is slower than theirs and our base is
// raised by as much (as libtorrent does, within 10 ms).
func (c *congestion) theirSample(diff uint32, now time.Time) {
	prev, had := c.theirs.base, c.theirs.ready
	c.theirs.add(diff, now)
	if change := int32(c.theirs.base - prev); had && c.ours.ready && change < 0 && change > -10000 {
		c.ours.raise(uint32(-change))
	}
}

// delay is the current queuing delay estimate: the lowest of the last
// samples, never more than the lowest round trip of this ack.
func (c *congestion) delay(minRTT time.Duration) time.Duration {
	if c.nrec == 0 {
		return 0
	}
	d := c.recent[0]
	for _, s := range c.recent[1:c.nrec] {
		d = min(d, s)
	}
	delay := time.Duration(d) * time.Microsecond
	if minRTT > 0 && delay > minRTT {
		delay = minRTT
	}
	return delay
}

// onAck grows or shrinks the window for acked bytes acknowledged while
// inflight bytes were outstanding before the ack; saturated reports that
// the sender is limited by the window rather than by the application.
func (c *congestion) onAck(acked, inflight int, delay time.Duration, saturated bool, mss int) {
	if acked <= 0 || inflight <= 0 {
		return
	}
	windowFactor := float64(acked) / float64(inflight)
	delayFactor := float64(targetDelay-delay) / float64(targetDelay)
	linear := windowFactor * delayFactor * gainBytes
	if delay >= targetDelay && c.slowStart {
		c.ssthresh = c.cwnd / 2
		c.slowStart = false
	}
	gain := 0.0
	if saturated {
		gain = linear
		if c.slowStart {
			if exp := float64(acked); c.ssthresh != 0 && c.cwnd+exp > c.ssthresh {
				c.slowStart = false
			} else {
				gain = max(exp, linear)
			}
		}
	}
	c.cwnd = min(max(c.cwnd+gain, float64(mss)), c.maxWindow)
}

// onLoss cuts the window, at most once per lossReduceEvery, and ends slow
// start: by randomLossFactor while the last queuing delay samples are
// under randomLossDelay, by half otherwise (see the constants).
func (c *congestion) onLoss(now time.Time, mss int) bool {
	if now.Before(c.nextLoss) {
		return false
	}
	c.nextLoss = now.Add(lossReduceEvery)
	factor := 0.5
	if c.nrec > 0 && c.delay(0) < randomLossDelay {
		factor = randomLossFactor
	}
	c.cwnd = max(c.cwnd*factor, float64(mss))
	if c.slowStart {
		c.ssthresh = c.cwnd
		c.slowStart = false
	}
	return true
}

// onTimeout drops the window to one packet and restarts slow start.
func (c *congestion) onTimeout(mss int) {
	c.cwnd = float64(mss)
	c.slowStart = true
}
