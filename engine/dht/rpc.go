package dht

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// result is the outcome of one of our queries.
type result struct {
	from netip.AddrPort // whom we asked
	msg  krpc.Msg       // the response or error message, if any
	err  error          // ErrTimeout, a send error, or nil
	rtt  time.Duration
}

// pending is a query of ours awaiting its answer.
type pending struct {
	addr    netip.AddrPort
	id      ID           // the ID we expect, zero if unknown
	deliver func(result) // nil: nobody waits for the outcome
	sent    time.Time
	timer   *time.Timer
}

// transactions matches answers to our queries by transaction ID (random,
// so that an off-path sender cannot guess it) and address. Safe for
// concurrent use.
type transactions struct {
	// mu guards m.
	mu sync.Mutex
	m  map[uint32]*pending
}

func newTransactions() *transactions {
	return &transactions{m: map[uint32]*pending{}}
}

// take removes and returns the pending query tid, if any.
func (t *transactions) take(tid uint32) *pending {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.m[tid]
	if p != nil {
		delete(t.m, tid)
		p.timer.Stop()
	}
	return p
}

// cancel forgets the query tid without an outcome.
func (t *transactions) cancel(tid uint32) { t.take(tid) }

func (t *transactions) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

// send sends the query q to addr (filling in its transaction ID, our ID,
// flags and, unless q.V is empty but not nil, our version) and arranges for deliver, unless nil, to be called with its
// outcome within QueryTimeout, from the read loop or a timer: it must not
// block. id is the node ID we expect at addr, if known.
func (n *Node) send(addr netip.AddrPort, id ID, q krpc.Msg, deliver func(result)) (uint32, error) {
	q.Y = krpc.KindQuery
	q.A.ID = n.ID()
	q.ReadOnly = n.cfg.ReadOnly
	if q.V == nil {
		q.V = version
	}
	p := &pending{addr: addr, id: id, deliver: deliver, sent: time.Now()}
	t := n.rpc
	t.mu.Lock()
	if len(t.m) >= maxPending {
		t.mu.Unlock()
		return 0, ErrBusy
	}
	tid := rand.Uint32()
	for t.m[tid] != nil {
		tid = rand.Uint32()
	}
	t.m[tid] = p
	p.timer = time.AfterFunc(n.cfg.QueryTimeout, func() { n.expire(tid) })
	t.mu.Unlock()
	q.T = binary.BigEndian.AppendUint32(nil, tid)
	if err := n.write(q.Encode(), addr); err != nil {
		t.take(tid)
		return 0, err
	}
	return tid, nil
}

// expire fails the query tid if it is still waiting.
func (n *Node) expire(tid uint32) {
	p := n.rpc.take(tid)
	if p == nil {
		return
	}
	now := time.Now()
	if t := n.tableOf(p.addr); t != nil {
		t.Failed(p.addr, now)
	}
	if n.good(now) == 0 {
		n.mu.Lock()
		n.lostAt = now
		n.mu.Unlock()
	}
	if p.deliver != nil {
		p.deliver(result{from: p.addr, err: ErrTimeout})
	}
}

// answer handles a response or error message from addr.
func (n *Node) answer(m krpc.Msg, from netip.AddrPort) {
	if len(m.T) != 4 {
		return
	}
	tid := binary.BigEndian.Uint32(m.T)
	t := n.rpc
	t.mu.Lock()
	p := t.m[tid]
	if p == nil || p.addr != from {
		t.mu.Unlock()
		return
	}
	delete(t.m, tid)
	p.timer.Stop()
	t.mu.Unlock()
	now := time.Now()
	n.answerers.Add(from, now)
	switch {
	case m.Y == krpc.KindResponse:
		n.tableOf(from).Seen(m.R.ID, from, now)
		n.nodesChanged()
		if m.IP.IsValid() {
			n.vote(from.Addr(), m.IP.Addr())
		}
	case p.id != ID{}:
		n.tableOf(from).Seen(p.id, from, now) // an error, but an answer
	}
	if p.deliver != nil {
		p.deliver(result{from: from, msg: m, rtt: now.Sub(p.sent)})
	}
}
