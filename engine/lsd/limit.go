package lsd

import (
	"net/netip"
	"time"
)

// Bounds on what the network can make a Service do. Each socket's reader
// owns one senderLimit and one recentPeers, so each holds per family.
const (
	senderRate  = 5   // packets a second from one address ...
	senderBurst = 20  // ... after a burst of this many
	totalRate   = 50  // packets a second from all addresses ...
	totalBurst  = 100 // ... after a burst of this many
	maxSenders  = 256 // addresses with a rate tracked at once
	maxRecent   = 1024
	// repeatWindow is how long a peer reported for a torrent is not
	// reported again: libtorrent sends each announce three times within
	// six seconds.
	repeatWindow = time.Minute
)

// bucket is a token bucket: take succeeds at most rate times a second
// after a burst of burst.
type bucket struct {
	tokens float64
	at     time.Time
}

func (b *bucket) take(now time.Time, rate, burst float64) bool {
	if b.at.IsZero() {
		b.tokens = burst
	} else if d := now.Sub(b.at); d > 0 {
		b.tokens = min(burst, b.tokens+d.Seconds()*rate)
	}
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// idle reports whether the bucket is full again at now, so that
// forgetting it changes nothing.
func (b *bucket) idle(now time.Time, rate, burst float64) bool {
	return b.tokens+now.Sub(b.at).Seconds()*rate >= burst
}

// senderLimit bounds the packets read per sender address and in all. It
// tracks at most maxSenders addresses: when that many are all busy, a new
// address is refused until one falls idle. It looks for idle ones at most
// once a second, so that a flood from many addresses costs little. Not
// safe for concurrent use.
type senderLimit struct {
	senders map[netip.Addr]*bucket
	all     bucket
	pruned  time.Time
}

func newSenderLimit() senderLimit {
	return senderLimit{senders: make(map[netip.Addr]*bucket)}
}

// allow reports whether a packet from ip at now may be read.
func (l *senderLimit) allow(ip netip.Addr, now time.Time) bool {
	b := l.senders[ip]
	if b == nil {
		if len(l.senders) >= maxSenders && now.Sub(l.pruned) >= time.Second {
			l.pruned = now
			for a, x := range l.senders {
				if x.idle(now, senderRate, senderBurst) {
					delete(l.senders, a)
				}
			}
		}
		if len(l.senders) >= maxSenders {
			return false
		}
		b = &bucket{}
		l.senders[ip] = b
	}
	return b.take(now, senderRate, senderBurst) && l.all.take(now, totalRate, totalBurst)
}

// recentPeers remembers the peers reported in the last repeatWindow, at
// most maxRecent of them. Not safe for concurrent use.
type recentPeers map[Peer]time.Time

// fresh reports whether p was not reported within repeatWindow of now,
// and if so remembers it as reported at now. When maxRecent peers are
// all recent, p is fresh but not remembered.
func (r recentPeers) fresh(p Peer, now time.Time) bool {
	if t, ok := r[p]; ok && now.Sub(t) < repeatWindow {
		return false
	}
	if len(r) >= maxRecent {
		for q, t := range r {
			if now.Sub(t) >= repeatWindow {
				delete(r, q)
			}
		}
	}
	if len(r) < maxRecent {
		r[p] = now
	}
	return true
}
