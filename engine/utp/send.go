package utp

import (
	"errors"
	"net"
	"syscall"
	"time"
)

// headerLocked is the header of our next packet of type t and sequence
// number seq, with the current acknowledgement, window and timestamps.
func (c *Conn) headerLocked(t Type, seq uint16, now time.Time) Header {
	w := c.wnd()
	c.lastWnd = w
	return Header{
		Type:          t,
		ConnID:        c.sendID,
		Timestamp:     c.s.micros(now),
		TimestampDiff: c.replyMicro,
		Wnd:           w,
		Seq:           seq,
		Ack:           c.ackNr,
	}
}

// writeLocked sends header h and payload as one packet and returns its
// size; df asks for the don't-fragment bit. Every packet carries our
// acknowledgement, so none is owed after it.
func (c *Conn) writeLocked(h Header, payload []byte, df bool, now time.Time) (int, error) {
	if h.Type != TypeSyn && h.Type != TypeReset {
		h.SACK = c.sackLocked()
		c.needAck, c.unackedPkts = false, 0
	}
	c.lastSend = now
	c.st.PacketsSent++
	if !df && c.batch.add(c.s.seg, h, payload) {
		return len(c.batch.buf) - c.batch.start, nil
	}
	c.sendBatchLocked() // what the flush gathered goes first
	if c.scratch == nil {
		c.scratch = make([]byte, 0, 2048)
	}
	b := h.Append(c.scratch[:0])
	b = append(b, payload...)
	c.scratch = b[:0]
	var err error
	if df {
		err = c.s.sendDF(b, c.remote)
	} else {
		err = c.s.send(b, c.remote)
	}
	c.sendErrLocked(err)
	return len(b), err
}

// sendErrLocked handles the outcome of a send.
func (c *Conn) sendErrLocked(err error) {
	switch {
	case err == nil || errors.Is(err, syscall.EMSGSIZE):
	case errors.Is(err, net.ErrClosed):
		c.dieLocked(ErrClosed)
	case !c.sendFailed:
		c.sendFailed = true // once per connection: the packet counts as lost
		c.s.logf("utp: %v: sending: %v", c, err)
	}
}

// sendSynLocked sends (or sends again) the SYN of a dial.
func (c *Conn) sendSynLocked(now time.Time) {
	c.synSends++
	c.synAt = now
	h := c.headerLocked(TypeSyn, c.synSeq, now)
	h.ConnID, h.Ack = c.recvID, 0
	c.rtoAt = now.Add(backoff(initialRTO, c.synSends-1))
	c.s.wake(c.rtoAt)
	c.writeLocked(h, nil, false, now)
}

// sendStateLocked sends an acknowledgement. Its sequence number is the
// next one we will send (the FIN's once it is sent), as libtorrent
// expects.
func (c *Conn) sendStateLocked(now time.Time) {
	seq := c.seqNr
	if c.finSent {
		seq = c.finSeq
	}
	c.writeLocked(c.headerLocked(TypeState, seq, now), nil, false, now)
}

// sendReset tells the peer the connection is gone.
func (c *Conn) sendReset() {
	now := time.Now()
	h := c.headerLocked(TypeReset, c.seqNr, now)
	c.writeLocked(h, nil, false, now)
}

// payloadSize is the payload of an ordinary full packet.
func (c *Conn) payloadSize() int { return c.mtu.size - HeaderLen }

// window is how many payload bytes may be in flight.
func (c *Conn) window() int { return min(int(c.cc.cwnd), int(c.peerWnd)) }

// flushLocked sends what the windows allow: timed-out packets first, then
// new data, then the FIN once everything written is out. The packets of
// one flush leave together (see sendBatch).
func (c *Conn) flushLocked(now time.Time) {
	c.batch.on = c.s.seg != nil && !c.batch.broken
	c.flushPacketsLocked(now)
	c.batch.on = false
	c.sendBatchLocked()
}

func (c *Conn) flushPacketsLocked(now time.Time) {
	if c.state != stateConnected {
		return
	}
	for len(c.resendQ) > 0 {
		seq := c.resendQ[0]
		p := c.out.at(seq)
		if p == nil || p.seq != seq || !p.needResend {
			c.resendQ = c.resendQ[1:]
			continue
		}
		if c.inflight > 0 && c.inflight+len(p.payload) > c.window() {
			return
		}
		c.resendQ = c.resendQ[1:]
		c.resendLocked(p, now)
		if c.state != stateConnected {
			return
		}
	}
	sent := false
	for c.unsent.Len() > 0 && c.out.fits(c.ackedSeq+1, c.seqNr) {
		hdr := HeaderLen
		if c.reorder.count > 0 {
			hdr += 2 + len(c.sackLocked())
		}
		size, probe := c.mtu.size, false
		if ps := c.mtu.probeSize(); ps > 0 && c.cc.cwnd > float64(3*c.mtu.size) && c.unsent.Len() >= ps-hdr {
			size, probe = ps, true
		}
		full := size - hdr
		if !c.sentData {
			full = min(full, firstPacket)
		}
		n := min(c.unsent.Len(), full)
		if c.inflight+n > c.window() {
			if !(c.out.count == 0 && c.zeroWndProbe) {
				if c.out.count == 0 && c.zeroWndAt.IsZero() {
					c.zeroWndAt = now.Add(backoff(c.rtt.rto(), c.timeouts))
					c.s.wake(c.zeroWndAt)
				}
				break
			}
			c.zeroWndProbe = false
			c.st.WindowProbes++
		}
		// Nagle: one undersized packet in flight at a time, so that small
		// writes gather while it travels.
		if n < full && !c.closing && c.nagleActive && !seqLess(c.nagleSeq, c.ackedSeq+1) {
			break
		}
		payload := payloadBuf(n)
		c.unsent.Read(payload)
		c.sentData = true
		p := newOutPacket()
		p.typ, p.seq, p.payload, p.probe = TypeData, c.seqNr, payload, probe
		c.sendNewLocked(p, now)
		if n < full {
			c.nagleActive, c.nagleSeq = true, c.seqNr-1
		}
		sent = true
		if c.state != stateConnected {
			return
		}
	}
	if sent && c.unsent.Len() < c.s.cfg.SendBuffer {
		signal(c.writeReady)
	}
	if c.closing && !c.finSent && c.unsent.Len() == 0 && c.out.fits(c.ackedSeq+1, c.seqNr) {
		c.finSent, c.finSeq = true, c.seqNr
		c.sendNewLocked(&outPacket{typ: TypeFin, seq: c.seqNr}, now)
	}
}

// sendNewLocked sends a new DATA or FIN packet and keeps it until it is
// acknowledged.
func (c *Conn) sendNewLocked(p *outPacket, now time.Time) {
	if c.out.count == 0 {
		c.rtoAt = now.Add(backoff(c.rtt.rto(), c.timeouts))
		c.s.wake(c.rtoAt)
	}
	c.out.put(c.ackedSeq+1, p.seq, p)
	c.seqNr++
	c.inflight += len(p.payload)
	c.st.BytesSent += uint64(len(p.payload))
	if p.probe {
		c.mtu.sent(p.seq)
	}
	c.transmitLocked(p, now)
	if c.out.count == 1 {
		c.armProbeLocked()
	}
}

// transmitLocked puts packet p on the wire.
func (c *Conn) transmitLocked(p *outPacket, now time.Time) {
	p.sends++
	p.sentAt = now
	var err error
	p.size, err = c.writeLocked(c.headerLocked(p.typ, p.seq, now), p.payload, p.probe, now)
	if err != nil && p.probe && errors.Is(err, syscall.EMSGSIZE) {
		// The probe is larger than the path MTU we know of: resend it as
		// an ordinary packet, which may be fragmented.
		c.mtu.lost(p.size)
		p.probe = false
		c.writeLocked(c.headerLocked(p.typ, p.seq, now), p.payload, false, now)
	}
}

// resendLocked sends packet p again, after a timeout or a loss report.
func (c *Conn) resendLocked(p *outPacket, now time.Time) {
	if p.probe {
		// A probe that needs sending again did not make it: too big.
		c.mtu.lost(p.size)
		p.probe = false
	}
	c.repeatLocked(p, now)
}

// repeatLocked sends packet p again as it is (a probe still with the
// don't-fragment bit): a tail loss probe, which may fire only because an
// acknowledgement is late.
func (c *Conn) repeatLocked(p *outPacket, now time.Time) {
	if p.needResend {
		p.needResend = false
		c.inflight += len(p.payload)
	}
	c.st.Retransmits++
	c.transmitLocked(p, now)
}

// ackUpTo handles the cumulative acknowledgement of every packet up to
// ack. It returns the payload bytes newly acknowledged and the lowest
// round trip measured.
func (c *Conn) ackUpTo(ack uint16, now time.Time) (acked int, minRTT time.Duration) {
	if !seqLess(c.ackedSeq, ack) {
		return 0, 0
	}
	for seq := c.ackedSeq + 1; ; seq++ {
		if p := c.out.remove(seq); p != nil {
			acked += c.ackedLocked(p, now, &minRTT)
		}
		if seq == ack {
			break
		}
	}
	c.advanceAckedLocked()
	return acked, minRTT
}

// ackedLocked retires packet p and returns its payload size.
func (c *Conn) ackedLocked(p *outPacket, now time.Time, minRTT *time.Duration) int {
	n := len(p.payload)
	if !p.needResend {
		c.inflight -= n
	}
	if p.probe && c.mtu.probing && p.seq == c.mtu.probeSeq {
		c.mtu.acked(p.size)
	}
	if p.sends == 1 { // Karn: no samples from retransmitted packets
		rtt := now.Sub(p.sentAt)
		c.rtt.add(rtt)
		if *minRTT == 0 || rtt < *minRTT {
			*minRTT = rtt
		}
	}
	if c.nagleActive && p.seq == c.nagleSeq {
		c.nagleActive = false
	}
	freeOutPacket(p)
	return n
}

// advanceAckedLocked moves ackedSeq past every acknowledged packet.
func (c *Conn) advanceAckedLocked() {
	moved := false
	for c.ackedSeq+1 != c.seqNr && c.out.at(c.ackedSeq+1) == nil {
		c.ackedSeq++
		moved = true
	}
	if moved {
		if seqLess(c.lossSeq, c.ackedSeq) {
			c.lossSeq = c.ackedSeq
		}
		c.dupAcks = 0
	}
}

// selectiveAck handles a selective-ACK bitmask relative to ack: the
// packets it reports are retired, and a packet not reported while at
// least dupAckLimit later ones are is lost and sent again at once (at
// most maxFastResends per acknowledgement; one already sent again is
// only sent once more if that was more than a round trip ago).
func (c *Conn) selectiveAck(ack uint16, mask []byte, now time.Time) (acked int, minRTT time.Duration) {
	first := ack + 2
	bits := 0 // bits that stand for packets we sent
	reported := 0
	for i := range len(mask) * 8 {
		if first+uint16(i) == c.seqNr {
			break
		}
		bits++
		if mask[i/8]&(1<<(i%8)) != 0 {
			reported++
			if p := c.out.remove(first + uint16(i)); p != nil {
				acked += c.ackedLocked(p, now, &minRTT)
			}
		}
	}
	c.advanceAckedLocked()
	if reported < dupAckLimit {
		return acked, minRTT
	}
	// Walk from ack+1: "after" counts the reported packets beyond seq.
	after := reported
	var lost [maxFastResends]*outPacket
	nlost := 0
	for i := -1; i < bits && nlost < len(lost) && after >= dupAckLimit; i++ {
		seq := first + uint16(i)
		if i >= 0 && mask[i/8]&(1<<(i%8)) != 0 {
			after--
			continue
		}
		if p := c.out.at(seq); p != nil && p.seq == seq && c.resendDue(p, now) {
			lost[nlost] = p
			nlost++
		}
	}
	for i, p := range lost[:nlost] {
		if i == 0 && !p.probe {
			c.lossLocked(p.seq, now)
		}
		c.st.FastRetransmits++
		c.resendLocked(p, now)
		if c.state != stateConnected {
			break
		}
	}
	return acked, minRTT
}

// maxFastResends bounds the packets one acknowledgement sends again.
const maxFastResends = 8

// resendDue reports whether packet p, reported missing, should be sent
// again: if it was sent once, or its last copy left more than a round
// trip ago and so was lost too. Packets waiting for window after a
// timeout are left to flushLocked.
func (c *Conn) resendDue(p *outPacket, now time.Time) bool {
	return !p.needResend && (p.sends == 1 || now.Sub(p.sentAt) >= c.lossWait())
}

// lossWait is how long a retransmission may take to be acknowledged:
// twice the smoothed round trip, at least 10 ms.
func (c *Conn) lossWait() time.Duration {
	return max(2*c.rtt.srtt, 10*time.Millisecond)
}

// fastRetransmitLocked sends the first unacknowledged packet again after
// dupAckLimit duplicate acknowledgements.
func (c *Conn) fastRetransmitLocked(now time.Time) {
	if c.dupAcks < dupAckLimit {
		return
	}
	p := c.out.at(c.ackedSeq + 1)
	if p == nil || p.seq != c.ackedSeq+1 || !c.resendDue(p, now) {
		return
	}
	c.dupAcks = 0
	if !p.probe {
		c.lossLocked(p.seq, now)
	}
	c.st.FastRetransmits++
	c.resendLocked(p, now)
}

// lossLocked answers the loss of packet seq: the window is cut once per
// window of packets.
func (c *Conn) lossLocked(seq uint16, now time.Time) {
	c.st.Losses++
	if !seqLess(c.lossSeq, seq) {
		return
	}
	if c.cc.onLoss(now, c.mtu.size) {
		c.lossSeq = c.seqNr - 1
	}
}
