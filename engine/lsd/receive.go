package lsd

import (
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// Peer is a peer heard of on the local network: it takes part in the
// torrent InfoHash and listens at Addr, the sender's address with the
// port it announced. An IPv6 link-local address carries its zone.
type Peer struct {
	InfoHash metainfo.Hash
	Addr     netip.AddrPort
}

// counters are a Service's running totals, shared by its goroutines.
type counters struct {
	sent, sendErrors, received, reported atomic.Uint64
	malformed, limited, own, foreign     atomic.Uint64
	unwanted, repeated, queueFull        atomic.Uint64
}

// receiver turns packets into reported peers. One reader goroutine owns
// it; the functions it calls are safe for concurrent use.
type receiver struct {
	cookie string
	local  func(netip.Addr) bool    // is a sender on a network we joined?
	wanted func(metainfo.Hash) bool // do we announce this torrent?
	out    chan<- Peer              // never blocked on
	c      *counters
	limit  senderLimit
	recent recentPeers
}

func newReceiver(cookie string, local func(netip.Addr) bool, wanted func(metainfo.Hash) bool, out chan<- Peer, c *counters) *receiver {
	return &receiver{cookie: cookie, local: local, wanted: wanted, out: out, c: c,
		limit: newSenderLimit(), recent: make(recentPeers)}
}

// handle reads one packet from from at now. It reports, without waiting,
// each torrent we announce that the packet names, unless the packet is
// over the sender's rate, malformed, our own, or from outside the
// networks joined, or the peer was reported within repeatWindow.
func (r *receiver) handle(now time.Time, from netip.AddrPort, b []byte) {
	r.c.received.Add(1)
	ip := from.Addr().Unmap()
	if !r.limit.allow(ip, now) {
		r.c.limited.Add(1)
		return
	}
	a, err := ParseAnnounce(b)
	if err != nil {
		r.c.malformed.Add(1)
		return
	}
	if a.Cookie != "" && a.Cookie == r.cookie {
		r.c.own.Add(1)
		return
	}
	if !(ip.IsGlobalUnicast() || ip.IsLinkLocalUnicast()) || !r.local(ip) {
		r.c.foreign.Add(1)
		return
	}
	for _, ih := range a.InfoHashes {
		if !r.wanted(ih) {
			r.c.unwanted.Add(1)
			continue
		}
		p := Peer{InfoHash: ih, Addr: netip.AddrPortFrom(ip, a.Port)}
		if !r.recent.fresh(p, now) {
			r.c.repeated.Add(1)
			continue
		}
		select {
		case r.out <- p:
			r.c.reported.Add(1)
		default:
			delete(r.recent, p) // report it when it is announced again
			r.c.queueFull.Add(1)
		}
	}
}

// read reads packets from conn into r until conn is closed.
func (r *receiver) read(conn net.PacketConn) {
	buf := make([]byte, MaxPacketSize+1)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // a passing error; do not spin
			continue
		}
		u, ok := from.(*net.UDPAddr)
		if !ok {
			continue
		}
		r.handle(time.Now(), u.AddrPort(), buf[:n]) // over MaxPacketSize: refused as too large
	}
}
