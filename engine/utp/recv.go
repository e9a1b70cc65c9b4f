package utp

import (
	"time"
)

// handle processes one packet of this connection and reports whether it
// owes an acknowledgement that may wait until the socket is drained.
func (c *Conn) handle(h Header, payload []byte, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == stateClosed || h.Type == TypeSyn {
		return false
	}
	c.st.PacketsReceived++
	if h.Type == TypeReset {
		// A RESET acknowledges one of our recent packets (the one it
		// answers); others are forged or stale.
		switch {
		case c.state == stateSynSent && h.Ack == c.synSeq:
			c.dieLocked(ErrRefused)
		case c.state == stateConnected && !seqLess(c.seqNr, h.Ack) && seqDiff(h.Ack, c.ackedSeq) >= -resetSlack:
			c.dieLocked(ErrReset)
		default:
			c.st.Ignored++
		}
		return false
	}
	if c.state == stateSynSent {
		if h.Ack != c.synSeq {
			return false
		}
		c.connectLocked(h, now)
	}
	// An acknowledgement of something never sent, or far behind, is
	// forged or stale: ignore the whole packet.
	if seqLess(c.seqNr-1, h.Ack) || seqLess(h.Ack, c.ackedSeq-dupAckLimit) {
		c.st.Ignored++
		return false
	}
	carries := h.Type == TypeData || h.Type == TypeFin
	if carries && seqDiff(h.Seq, c.ackNr) > c.maxReorder {
		c.st.Ignored++
		return false
	}
	if h.Timestamp != 0 {
		c.replyMicro = c.s.micros(now) - h.Timestamp
		c.cc.theirSample(c.replyMicro, now)
	}
	if h.TimestampDiff != 0 && h.TimestampDiff != 1<<31-1 {
		c.cc.sample(h.TimestampDiff, now)
	}
	c.lastRecv = now
	c.timeouts = 0
	c.peerWnd = h.Wnd
	if h.Type == TypeState && h.Ack == c.ackedSeq && c.out.count > 0 {
		c.dupAcks++
	}
	before, front := c.inflight, c.ackedSeq
	acked, minRTT := c.ackUpTo(h.Ack, now)
	if h.SACK != nil {
		a, r := c.selectiveAck(h.Ack, h.SACK, now)
		acked += a
		if r > 0 && (minRTT == 0 || r < minRTT) {
			minRTT = r
		}
	}
	if c.ackedSeq != front {
		c.probes = 0
		c.armProbeLocked()
	}
	c.fastRetransmitLocked(now)
	if acked > 0 {
		saturated := c.inflight+acked+c.mtu.size > int(c.cc.cwnd)
		c.cc.onAck(acked, before, c.cc.delay(minRTT), saturated, c.mtu.size)
	}
	if c.out.count > 0 {
		c.rtoAt = now.Add(backoff(c.rtt.rto(), c.timeouts))
	}
	if uint32(c.payloadSize()) <= c.peerWnd {
		c.zeroWndAt = time.Time{}
	}
	switch h.Type {
	case TypeData:
		c.receive(h.Seq, payload)
	case TypeFin:
		c.receiveFin(h.Seq)
	}
	if carries {
		c.needAck = true
		c.unackedPkts++
	}
	if c.finSent && !seqLess(c.ackedSeq, c.finSeq) {
		// Our FIN is acknowledged: nothing is left to do but to
		// acknowledge what this packet brought (the peer's FIN).
		if c.needAck {
			c.sendStateLocked(now)
		}
		c.dieLocked(ErrClosed)
		return false
	}
	c.flushLocked(now)
	if c.needAck && c.unackedPkts >= ackEvery {
		c.sendStateLocked(now)
	}
	return c.needAck
}

// connectLocked completes a dial on the acknowledgement of our SYN.
func (c *Conn) connectLocked(h Header, now time.Time) {
	c.state = stateConnected
	c.ackNr = h.Seq - 1
	c.ackedSeq = c.synSeq
	c.seqNr = c.synSeq + 1
	c.lossSeq = c.synSeq
	c.rtoAt = time.Time{}
	if c.synSends == 1 {
		c.rtt.add(now.Sub(c.synAt))
	}
	// Acknowledge at once, so that the peer, which keeps no state before
	// our next packet, accepts the connection even if we have nothing to
	// say yet.
	c.needAck = true
	c.s.wake(now.Add(min(c.s.cfg.KeepAlive, c.s.cfg.IdleTimeout)))
	close(c.connected)
}

// receive takes in the payload of DATA packet seq.
func (c *Conn) receive(seq uint16, payload []byte) {
	c.st.BytesReceived += uint64(len(payload))
	switch {
	case c.eof && seqLess(c.eofSeq, seq):
		c.st.Ignored++
	case c.closing:
		// Nobody reads any more: acknowledge in-order data and forget it.
		if seq == c.ackNr+1 {
			c.ackNr++
		}
	case seq == c.ackNr+1:
		if !c.room(len(payload)) {
			c.st.Dropped++
			return
		}
		c.recvQ.Write(payload)
		c.hold(len(payload))
		c.ackNr++
		for c.reorder.count > 0 {
			b, ok := c.reorder.take(c.ackNr + 1)
			if !ok {
				break
			}
			c.recvQ.Write(b)
			c.ackNr++
		}
		if c.eof && c.ackNr+1 == c.eofSeq {
			c.ackNr = c.eofSeq
		}
		signal(c.readReady)
	case seqLess(c.ackNr, seq):
		if c.reorder.holds(seq) {
			c.st.Duplicates++
			return
		}
		// Out-of-order data may not take the whole window: the packet
		// that fills the gap must still fit when it comes.
		if !c.room(len(payload) + c.capacity()/8) {
			c.st.Dropped++
			return
		}
		c.st.OutOfOrder++
		if c.reorder.slots == nil {
			c.reorder.init(c.maxReorder) // on first need: most connections never reorder
		}
		c.reorder.put(seq, payload)
		c.hold(len(payload))
		if c.reorder.count == 1 || seqLess(c.reorderTop, seq) {
			c.reorderTop = seq
		}
	default:
		c.st.Duplicates++
	}
}

// receiveFin records the peer's FIN, the end of its stream.
func (c *Conn) receiveFin(seq uint16) {
	if !c.eof {
		if !seqLess(c.ackNr, seq) {
			c.st.Ignored++
			return
		}
		c.eof, c.eofSeq = true, seq
	}
	if c.ackNr+1 == c.eofSeq {
		c.ackNr = c.eofSeq
		signal(c.readReady)
	}
}

// hold counts n received bytes against the window and the budget.
func (c *Conn) hold(n int) {
	c.held += n
	c.s.budget.Add(int64(n))
}

// capacity is how many received bytes the connection may hold: its
// window, less what the socket's budget has left beyond the guaranteed
// minimum.
func (c *Conn) capacity() int {
	cfg := &c.s.cfg
	free := cfg.RecvBudget - int(c.s.budget.Load())
	return min(cfg.RecvWindow, max(cfg.MinRecvWindow, c.held+free))
}

// room reports whether n more received bytes fit.
func (c *Conn) room(n int) bool { return c.held+n <= c.capacity() }

// wnd is the receive window to advertise.
func (c *Conn) wnd() uint32 {
	if c.closing {
		return uint32(c.s.cfg.MinRecvWindow)
	}
	return uint32(max(0, c.capacity()-c.held))
}

// windowUpdateLocked tells the peer when Read has opened a window that
// was mostly closed, so that it does not wait for a timeout to probe it.
func (c *Conn) windowUpdateLocked() {
	if c.state != stateConnected {
		return
	}
	quarter := uint32(c.s.cfg.RecvWindow / 4)
	if w := c.wnd(); c.lastWnd < 2*quarter && w >= c.lastWnd+quarter {
		c.sendStateLocked(time.Now())
	}
}

// sackLocked fills c.sackBuf with the selective-ACK bitmask of the
// out-of-order packets held, and returns it (nil when there are none).
// Its length is a multiple of 4 bytes, as BEP 29 asks.
func (c *Conn) sackLocked() []byte {
	if c.reorder.count == 0 {
		return nil
	}
	first := c.ackNr + 2
	bits := seqDiff(c.reorderTop, first) + 1
	n := min((bits+31)/32*4, maxSACKBytes)
	b := c.sackBuf[:n]
	clear(b)
	for i := range min(bits, n*8) {
		if c.reorder.holds(first + uint16(i)) {
			b[i/8] |= 1 << (i % 8)
		}
	}
	return b
}

// flushAck sends the acknowledgement deferred until the socket drained.
func (c *Conn) flushAck() {
	c.mu.Lock()
	if c.needAck && c.state == stateConnected {
		c.sendStateLocked(time.Now())
	}
	c.mu.Unlock()
}
