package lsd

import (
	"net/netip"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

var lan4 = netip.MustParsePrefix("192.168.7.0/24")

func testReceiver(queue int, want ...metainfo.Hash) (*receiver, chan Peer, *counters) {
	out := make(chan Peer, queue)
	c := &counters{}
	r := newReceiver("c00c1e", lan4.Contains, func(h metainfo.Hash) bool {
		for _, w := range want {
			if w == h {
				return true
			}
		}
		return false
	}, out, c)
	return r, out, c
}

func announceBytes(port uint16, cookie string, hs ...metainfo.Hash) []byte {
	return AppendAnnounce(nil, HostIPv4, Announce{Port: port, InfoHashes: hs, Cookie: cookie})
}

func TestReceiverReports(t *testing.T) {
	a, b, other := hashOf(1), hashOf(2), hashOf(3)
	r, out, c := testReceiver(8, a, b)
	from := netip.MustParseAddrPort("192.168.7.20:6771")
	r.handle(t0, from, announceBytes(51413, "other", a, other, b))
	want := []Peer{
		{a, netip.MustParseAddrPort("192.168.7.20:51413")},
		{b, netip.MustParseAddrPort("192.168.7.20:51413")},
	}
	for _, w := range want {
		select {
		case p := <-out:
			if p != w {
				t.Fatalf("reported %v, want %v", p, w)
			}
		default:
			t.Fatalf("%v not reported", w)
		}
	}
	if c.unwanted.Load() != 1 || c.reported.Load() != 2 {
		t.Fatalf("unwanted %d reported %d", c.unwanted.Load(), c.reported.Load())
	}

	// The same again within a minute: nothing; after it: reported again.
	r.handle(t0.Add(2*time.Second), from, announceBytes(51413, "", a))
	if len(out) != 0 || c.repeated.Load() != 1 {
		t.Fatalf("repeat reported (queue %d, repeated %d)", len(out), c.repeated.Load())
	}
	r.handle(t0.Add(repeatWindow+time.Second), from, announceBytes(51413, "", a))
	if len(out) != 1 {
		t.Fatal("not reported again after a minute")
	}
}

func TestReceiverDrops(t *testing.T) {
	a := hashOf(1)
	for _, c := range []struct {
		name  string
		from  string
		msg   []byte
		count func(*counters) uint64
	}{
		{"own cookie", "192.168.7.20:6771", announceBytes(1, "c00c1e", a), func(c *counters) uint64 { return c.own.Load() }},
		{"other network", "10.1.2.3:6771", announceBytes(1, "", a), func(c *counters) uint64 { return c.foreign.Load() }},
		{"multicast source", "239.192.152.143:6771", announceBytes(1, "", a), func(c *counters) uint64 { return c.foreign.Load() }},
		{"unspecified source", "0.0.0.0:6771", announceBytes(1, "", a), func(c *counters) uint64 { return c.foreign.Load() }},
		{"garbage", "192.168.7.20:6771", []byte("\x00\x01garbage"), func(c *counters) uint64 { return c.malformed.Load() }},
		{"not ours", "192.168.7.20:6771", announceBytes(1, "", hashOf(9)), func(c *counters) uint64 { return c.unwanted.Load() }},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, out, cs := testReceiver(8, a)
			r.handle(t0, netip.MustParseAddrPort(c.from), c.msg)
			if len(out) != 0 || c.count(cs) != 1 || cs.received.Load() != 1 {
				t.Fatalf("queue %d, count %d, received %d", len(out), c.count(cs), cs.received.Load())
			}
		})
	}
}

func TestReceiverFullQueueDropsAndForgets(t *testing.T) {
	a := hashOf(1)
	r, out, c := testReceiver(1, a)
	r.handle(t0, netip.MustParseAddrPort("192.168.7.20:6771"), announceBytes(1, "", a))
	r.handle(t0, netip.MustParseAddrPort("192.168.7.21:6771"), announceBytes(1, "", a))
	if len(out) != 1 || c.queueFull.Load() != 1 {
		t.Fatalf("queue %d, queue full %d", len(out), c.queueFull.Load())
	}
	<-out
	// The dropped peer was not remembered: its next announce gets through.
	r.handle(t0.Add(time.Second), netip.MustParseAddrPort("192.168.7.21:6771"), announceBytes(1, "", a))
	if p := <-out; p.Addr.Addr() != netip.MustParseAddr("192.168.7.21") {
		t.Fatalf("reported %v", p)
	}
}

// TestReceiverBounds floods one receiver from one sender, then from many,
// with valid announces of distinct peers: the reports, the senders tracked
// and the peers remembered stay within their bounds.
func TestReceiverBounds(t *testing.T) {
	a := hashOf(1)
	r, out, c := testReceiver(100000, a)
	one := netip.MustParseAddrPort("192.168.7.20:6771")
	// 10,000 packets over 2 seconds from one sender.
	for i := range 10000 {
		now := t0.Add(time.Duration(i) * 200 * time.Microsecond)
		r.handle(now, one, announceBytes(uint16(1+i), "", a))
	}
	if max := senderBurst + 2*senderRate + 1; len(out) > max {
		t.Fatalf("one sender got %d peers reported in 2 s, over %d", len(out), max)
	}
	if c.limited.Load() == 0 {
		t.Fatal("nothing was limited")
	}
	// 5,000 senders (IPv6 link-local, always local), 4 packets each,
	// within a second.
	before := len(out)
	for i := range 20000 {
		now := t0.Add(10*time.Second + time.Duration(i)*50*time.Microsecond)
		ip := netip.AddrFrom16([16]byte{0xfe, 0x80, 14: byte(i / 4 >> 8), 15: byte(i / 4)})
		r.handle(now, netip.AddrPortFrom(ip, 6771), announceBytes(uint16(1+i), "", a))
	}
	if max := totalBurst + totalRate + 1; len(out)-before > max {
		t.Fatalf("all senders got %d peers reported in 1 s, over %d", len(out)-before, max)
	}
	if len(r.limit.senders) > maxSenders || len(r.recent) > maxRecent {
		t.Fatalf("%d senders, %d recent peers tracked", len(r.limit.senders), len(r.recent))
	}
	// Many distinct senders over time: the tables stay bounded.
	msg := announceBytes(6881, "", a)
	for i := range 100000 {
		now := t0.Add(time.Minute + time.Duration(i)*time.Millisecond)
		ip := netip.AddrFrom4([4]byte{192, 168, 7, byte(i)})
		if i%3 == 0 {
			ip = netip.AddrFrom16([16]byte{0xfe, 0x80, 14: byte(i >> 8), 15: byte(i)})
		}
		r.handle(now, netip.AddrPortFrom(ip, 6771), msg)
	}
	if len(r.limit.senders) > maxSenders || len(r.recent) > maxRecent {
		t.Fatalf("%d senders, %d recent peers tracked", len(r.limit.senders), len(r.recent))
	}
}
