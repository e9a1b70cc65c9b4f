package utp

import "time"

// tick runs the connection's timers: the SYN and packet retransmissions,
// the zero-window probe, the keep-alive and the idle, linger and connect
// time-outs. It returns when it needs to run next (zero: never).
func (c *Conn) tick(now time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch c.state {
	case stateClosed:
		c.s.remove(c)
		return time.Time{}
	case stateSynSent:
		if !now.Before(c.rtoAt) {
			if c.synSends >= synTries {
				c.dieLocked(ErrTimeout)
				return time.Time{}
			}
			c.sendSynLocked(now)
		}
		return c.rtoAt
	}
	cfg := &c.s.cfg
	if c.closing && !now.Before(c.lingerUntil) {
		c.sendReset()
		c.dieLocked(ErrTimeout)
		return time.Time{}
	}
	if !now.Before(c.lastRecv.Add(cfg.IdleTimeout)) {
		c.dieLocked(ErrTimeout)
		return time.Time{}
	}
	if c.out.count > 0 && !now.Before(c.rtoAt) {
		c.timeoutLocked(now)
		if c.state != stateConnected {
			return time.Time{}
		}
	} else if c.out.count > 0 && !c.probeAt.IsZero() && !now.Before(c.probeAt) {
		c.tailProbeLocked(now)
	}
	if !c.zeroWndAt.IsZero() && !now.Before(c.zeroWndAt) {
		c.zeroWndAt = time.Time{}
		if c.out.count == 0 && c.unsent.Len() > 0 {
			c.zeroWndProbe = true
			c.flushLocked(now)
		}
	}
	if !c.finSent && now.Sub(c.lastSend) >= cfg.KeepAlive {
		c.sendStateLocked(now)
	}
	next := c.lastRecv.Add(cfg.IdleTimeout)
	soonest := func(t time.Time) {
		if !t.IsZero() && t.Before(next) {
			next = t
		}
	}
	if !c.finSent {
		soonest(c.lastSend.Add(cfg.KeepAlive))
	}
	if c.out.count > 0 {
		soonest(c.rtoAt)
		soonest(c.probeAt)
	}
	soonest(c.zeroWndAt)
	if c.closing {
		soonest(c.lingerUntil)
	}
	return next
}

// armProbeLocked sets the tail loss probe: when the first
// unacknowledged packet has waited lossWait (doubling with each probe)
// since it was last sent, it is sent again. It recovers packets whose
// loss no later packet reveals (the last ones of a burst, or a lone
// small one), long before the retransmission timeout. It is called when
// that first packet changes.
func (c *Conn) armProbeLocked() {
	c.probeAt = time.Time{}
	p := c.out.at(c.ackedSeq + 1)
	// A peer whose window is closed drops data on purpose: no probes.
	if p == nil || p.seq != c.ackedSeq+1 || c.probes >= 4 || c.peerWnd < uint32(len(p.payload)) {
		return
	}
	if at := p.sentAt.Add(c.lossWait() << c.probes); at.Before(c.rtoAt) {
		c.probeAt = at
		c.s.wake(at)
	}
}

// tailProbeLocked sends the tail loss probe, unless the packet was sent
// again meanwhile (then the probe waits from that time).
func (c *Conn) tailProbeLocked(now time.Time) {
	p := c.out.at(c.ackedSeq + 1)
	if p != nil && p.seq == c.ackedSeq+1 && !p.needResend && now.Sub(p.sentAt) >= c.lossWait()<<c.probes {
		c.probes++
		c.st.TailProbes++
		c.repeatLocked(p, now)
	}
	c.armProbeLocked()
}

// timeoutLocked handles the retransmission timer: every packet in flight
// counts as lost, the window drops to one packet and the first is sent
// again. A lone MTU probe timing out only lowers the MTU ceiling; ordinary
// packets timing out twice in a row make the path MTU search start over
// from the minimum, in case large packets vanish on the way.
func (c *Conn) timeoutLocked(now time.Time) {
	first := c.out.at(c.ackedSeq + 1)
	if first != nil && first.seq != c.ackedSeq+1 {
		first = nil
	}
	if c.mtu.probing && c.out.count == 1 && first != nil && first.probe {
		c.mtu.lost(first.size)
		first.probe = false
	} else {
		c.timeouts++
		c.st.Timeouts++
		if c.timeouts > maxTimeouts {
			c.dieLocked(ErrTimeout)
			return
		}
		if c.timeouts >= 2 && first != nil && first.size > c.mtu.min {
			c.mtu.blackHole(first.size)
		}
		c.cc.onTimeout(c.mtu.size)
		c.lossSeq = c.seqNr - 1
	}
	c.resendQ = c.resendQ[:0]
	for seq := c.ackedSeq + 1; seq != c.seqNr; seq++ {
		p := c.out.at(seq)
		if p == nil || p.seq != seq {
			continue
		}
		if !p.needResend {
			p.needResend = true
			c.inflight -= len(p.payload)
		}
		c.resendQ = append(c.resendQ, seq)
	}
	c.rtoAt = now.Add(backoff(c.rtt.rto(), c.timeouts))
	if first != nil {
		c.resendLocked(first, now)
	}
	c.probes = 0
	c.armProbeLocked()
	c.flushLocked(now)
}
