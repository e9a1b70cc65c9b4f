package linkem

import (
	"math"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

// These tests run the packet model alone, on a clock of their own: no
// root, no devices.

const ms = int64(time.Millisecond)

func testStage(l Link, rtt time.Duration, hold int) *stage {
	return newStage(l, rtt, 1500, hold, rand.New(rand.NewPCG(1, 2)))
}

func TestStageDelayAndRate(t *testing.T) {
	// 8 Mbit/s: a 1000-byte packet takes 1 ms on the wire.
	s := testStage(Link{Delay: 50 * time.Millisecond, Rate: 8 * Mbit, Queue: 10_000}, 0, 1<<20)
	for k := range 5 {
		out, v := s.admit(0, 1000)
		if v != pass {
			t.Fatalf("packet %d: verdict %d", k, v)
		}
		if want := int64(k+1)*ms + 50*ms; out != want {
			t.Errorf("packet %d leaves at %v, want %v", k, time.Duration(out), time.Duration(want))
		}
	}
	// Once the backlog has drained, a packet waits only for itself.
	if out, _ := s.admit(100*ms, 1000); out != 151*ms {
		t.Errorf("packet on an idle link leaves at %v, want 151ms", time.Duration(out))
	}
}

func TestStageQueueDropsTail(t *testing.T) {
	s := testStage(Link{Rate: 8 * Mbit, Queue: 5000}, 0, 1<<20)
	var passed, drops int
	for range 20 {
		if _, v := s.admit(0, 1000); v == pass {
			passed++
		} else if v == dropped {
			drops++
		}
	}
	if passed != 5 || drops != 15 || s.stats.PeakQueue != 5000 {
		t.Errorf("passed %d dropped %d peak %d, want 5, 15, 5000", passed, drops, s.stats.PeakQueue)
	}
	// After 2 ms two packets have left the server: two fit again.
	passed = 0
	for range 5 {
		if _, v := s.admit(2*ms, 1000); v == pass {
			passed++
		}
	}
	if passed != 2 {
		t.Errorf("after 2 ms %d packets fit, want 2", passed)
	}
}

func TestStageDefaultQueueIsBandwidthDelay(t *testing.T) {
	// 100 Mbit/s x 200 ms = 2.5 MB.
	s := testStage(Link{Rate: 100 * Mbit, Delay: 50 * time.Millisecond}, 200*time.Millisecond, 1<<20)
	if s.queue != 2_500_000 {
		t.Errorf("queue %d, want 2500000", s.queue)
	}
	// A short path still gets 32 packets.
	s = testStage(Link{Rate: 100 * Mbit}, time.Millisecond, 1<<20)
	if s.queue != 32*1500 {
		t.Errorf("queue %d, want %d", s.queue, 32*1500)
	}
}

func TestPathRTTs(t *testing.T) {
	l := func(d int) Link { return Link{Delay: time.Duration(d) * time.Millisecond} }
	hosts := []Host{{Up: l(10), Down: l(5)}, {Up: l(15), Down: l(20)}, {Up: l(0), Down: l(30)}}
	// Round trips: 0-1 50 ms, 0-2 45 ms, 1-2 65 ms.
	want := []time.Duration{50, 65, 65}
	for i, got := range pathRTTs(hosts) {
		if got != want[i]*time.Millisecond {
			t.Errorf("host %d: longest round trip %v, want %v ms", i, got, want[i])
		}
	}
}

func TestStageLoss(t *testing.T) {
	s := testStage(Link{Loss: 0.1}, 0, math.MaxInt)
	const n = 100_000
	lostN := 0
	for k := range n {
		if _, v := s.admit(int64(k), 100); v == lost {
			lostN++
		}
	}
	// Binomial(100000, 0.1): standard deviation 95; allow 5 of them.
	if lostN < 10_000-475 || lostN > 10_000+475 || s.stats.Lost != uint64(lostN) {
		t.Errorf("lost %d of %d (stats %d), want 10000 ± 475", lostN, n, s.stats.Lost)
	}
}

func TestStageJitterKeepsOrder(t *testing.T) {
	for _, reorder := range []bool{false, true} {
		s := testStage(Link{Delay: 20 * time.Millisecond, Jitter: 5 * time.Millisecond, Reorder: reorder}, 0, math.MaxInt)
		var last int64
		inversions := 0
		for k := range 1000 {
			now := int64(k) * 100_000 // one packet per 0.1 ms
			out, v := s.admit(now, 100)
			if v != pass {
				t.Fatal("jitter dropped a packet")
			}
			if d := out - now; d < 15*ms || (!reorder && d > 25*ms+ms) || (reorder && d > 25*ms) {
				t.Fatalf("reorder %v: packet %d delayed %v, want 20ms ± 5ms", reorder, k, time.Duration(d))
			}
			if out < last {
				inversions++
			}
			last = max(last, out)
		}
		if reorder != (inversions > 0) {
			t.Errorf("reorder %v: %d packets overtaken", reorder, inversions)
		}
	}
}

func TestStageHoldBound(t *testing.T) {
	// No rate: only Hold bounds what the wire holds.
	s := testStage(Link{Delay: time.Second}, 0, 10_000)
	for range 50 {
		s.admit(0, 1000)
	}
	if s.held != 10_000 || s.stats.Overflow != 40 || s.stats.PeakHeld != 10_000 {
		t.Errorf("held %d overflow %d peak %d, want 10000, 40, 10000", s.held, s.stats.Overflow, s.stats.PeakHeld)
	}
	s.release(1000)
	if _, v := s.admit(0, 1000); v != pass {
		t.Errorf("after a release a packet does not fit")
	}
}

func TestEventHeapOrder(t *testing.T) {
	var h eventHeap
	r := rand.New(rand.NewPCG(3, 4))
	for k := range 1000 {
		h.push(event{at: r.Int64N(50), seq: uint64(k)})
	}
	prev := event{at: -1}
	for len(h) > 0 {
		e := h.pop()
		if e.at < prev.at || (e.at == prev.at && e.seq < prev.seq) {
			t.Fatalf("popped (%d,%d) after (%d,%d)", e.at, e.seq, prev.at, prev.seq)
		}
		prev = e
	}
}

func TestRouteIP(t *testing.T) {
	v4 := func(dst string) []byte {
		b := make([]byte, 20)
		b[0] = 0x45
		a := netip.MustParseAddr(dst).As4()
		copy(b[16:], a[:])
		return b
	}
	v6 := func(dst string) []byte {
		b := make([]byte, 40)
		b[0] = 0x60
		a := netip.MustParseAddr(dst).As16()
		copy(b[24:], a[:])
		return b
	}
	for _, c := range []struct {
		pkt  []byte
		want int
	}{
		{v4("10.99.0.2"), 1},
		{v4("10.99.1.0"), 255},
		{v4("10.99.0.1"), -1}, // the sender itself
		{v4("10.99.1.1"), -1}, // no such host
		{v4("10.98.0.2"), -1},
		{v4("224.0.0.251"), -1},
		{v6("fd00:99::3"), 2},
		{v6("fd00:99::1:0"), -1},
		{v6("fd00:98::3"), -1},
		{v6("ff02::16"), -1},
		{v4("10.99.0.2")[:19], -1},
		{[]byte{0x45}, -1},
		{nil, -1},
	} {
		if got := routeIP(c.pkt, 0, 256); got != c.want {
			t.Errorf("route to % x: %d, want %d", c.pkt, got, c.want)
		}
	}
	if a, b := hostAddr(prefix4, 255), hostAddr(prefix6, 0); a.String() != "10.99.1.0" || b.String() != "fd00:99::1" {
		t.Errorf("host addresses %v %v", a, b)
	}
}

func TestConfigRejectsNonsense(t *testing.T) {
	two := func(l Link) []Host { return []Host{{Up: l}, {}} }
	for name, c := range map[string]Config{
		"one host":           {Hosts: make([]Host, 1)},
		"long tag":           {Tag: "waytoolongtag", Hosts: make([]Host, 2)},
		"tag with dash":      {Tag: "a-b", Hosts: make([]Host, 2)},
		"negative rate":      {Hosts: two(Link{Rate: -1})},
		"negative delay":     {Hosts: two(Link{Delay: -time.Millisecond})},
		"loss above 1":       {Hosts: two(Link{Loss: 1.5})},
		"loss NaN":           {Hosts: two(Link{Loss: math.NaN()})},
		"tiny MTU":           {Hosts: make([]Host, 2), MTU: 500},
		"sysctl outside net": {Hosts: make([]Host, 2), Sysctls: map[string]string{"kernel/panic": "1"}},
		"sysctl climbing":    {Hosts: make([]Host, 2), Sysctls: map[string]string{"net/../kernel/panic": "1"}},
	} {
		if _, err := c.withDefaults(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	c, err := Pair("ok", Link{}, Link{}).withDefaults()
	if err != nil || c.MTU != 1500 || c.Seed == 0 || c.Hold != 4<<20 || c.Buffers != 16384 {
		t.Errorf("defaults: %+v, %v", c, err)
	}
}

// FuzzRouteIP feeds the router any packet a host could write: it never
// panics and names a real other host or none.
func FuzzRouteIP(f *testing.F) {
	f.Add([]byte{0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 99, 0, 1, 10, 99, 0, 2}, 0, 3)
	f.Add(make([]byte, 40), 1, 2)
	f.Fuzz(func(t *testing.T, b []byte, src, hosts int) {
		hosts = 2 + abs(hosts)%MaxHosts
		src = abs(src) % hosts
		if got := routeIP(b, src, hosts); got < -1 || got >= hosts || got == src {
			t.Fatalf("routeIP(% x, %d, %d) = %d", b, src, hosts, got)
		}
	})
}

func abs(v int) int {
	if v < 0 {
		return -(v + 1)
	}
	return v
}
