package nat

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/huin/goupnp/soap"
)

// fakeGateway is an in-memory router. Fields set before use configure it;
// the rest is guarded by mu.
type fakeGateway struct {
	id            string
	takenBy       map[string]bool // "TCP/40000": taken by another client, 718
	permanentOnly bool            // leases other than 0 get 725
	failUDP       error           // every UDP add fails with it

	mu       sync.Mutex
	mappings map[string]fakeEntry
	adds     []fakeAdd
	broken   bool // every call fails, as if the router went away
}

type fakeEntry struct {
	internal int
	lease    time.Duration
}

type fakeAdd struct {
	key   string
	lease time.Duration
	at    time.Time
}

func newFakeGateway(id string) *fakeGateway {
	return &fakeGateway{id: id, takenBy: map[string]bool{}, mappings: map[string]fakeEntry{}}
}

func upnpFault(code int) error {
	f := &soap.SOAPFaultError{FaultCode: "s:Client", FaultString: "UPnPError"}
	f.Detail.UPnPError.Errorcode = code
	return f
}

func (g *fakeGateway) ID() string          { return g.id }
func (g *fakeGateway) LocalIP() netip.Addr { return netip.MustParseAddr("192.168.7.20") }

func (g *fakeGateway) ExternalIP(ctx context.Context) (netip.Addr, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.broken {
		return netip.Addr{}, errors.New("connection refused")
	}
	return netip.MustParseAddr("203.0.113.9"), nil
}

func (g *fakeGateway) AddPortMapping(ctx context.Context, protocol string, ext, internal int, desc string, lease time.Duration) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	key := fmt.Sprintf("%s/%d", protocol, ext)
	g.adds = append(g.adds, fakeAdd{key: key, lease: lease, at: time.Now()})
	switch {
	case g.broken:
		return errors.New("connection refused")
	case g.takenBy[key]:
		return upnpFault(718)
	case g.permanentOnly && lease != 0:
		return upnpFault(725)
	case protocol == "UDP" && g.failUDP != nil:
		return g.failUDP
	}
	g.mappings[key] = fakeEntry{internal: internal, lease: lease}
	return nil
}

func (g *fakeGateway) DeletePortMapping(ctx context.Context, protocol string, ext int) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.broken {
		return errors.New("connection refused")
	}
	key := fmt.Sprintf("%s/%d", protocol, ext)
	if _, ok := g.mappings[key]; !ok {
		return upnpFault(714) // NoSuchEntryInArray
	}
	delete(g.mappings, key)
	return nil
}

func (g *fakeGateway) held() map[string]fakeEntry {
	g.mu.Lock()
	defer g.mu.Unlock()
	m := map[string]fakeEntry{}
	for k, v := range g.mappings {
		m[k] = v
	}
	return m
}

func (g *fakeGateway) addsOf(key string) []fakeAdd {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []fakeAdd
	for _, a := range g.adds {
		if a.key == key {
			out = append(out, a)
		}
	}
	return out
}

// harness runs a Service in the background and records its statuses.
type harness struct {
	t      *testing.T
	s      *Service
	cancel context.CancelFunc
	done   chan error

	mu       sync.Mutex
	seen     []Status
	discover int
}

// start runs a Service for cfg; gateways answers each discovery.
func start(t *testing.T, cfg Config, gateways func(n int) []Gateway) *harness {
	t.Helper()
	h := &harness{t: t, done: make(chan error, 1)}
	cfg.Discover = func(ctx context.Context) ([]Gateway, error) {
		h.mu.Lock()
		h.discover++
		n := h.discover
		h.mu.Unlock()
		return gateways(n), nil
	}
	cfg.OnChange = func(st Status) {
		h.mu.Lock()
		h.seen = append(h.seen, st)
		h.mu.Unlock()
	}
	cfg.Logf = t.Logf
	if cfg.Port == 0 {
		cfg.Port = 40000
	}
	h.s = NewService(cfg)
	next := 50000
	h.s.randomPort = func() int { next++; return next }
	h.s.retryNoGateway = 50 * time.Millisecond
	h.s.retryError = 50 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- h.s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-h.done:
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return")
		}
	})
	return h
}

// waitFor polls the status until ok holds.
func (h *harness) waitFor(what string, ok func(Status) bool) Status {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := h.s.Status()
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("waiting for %s: status is %+v", what, st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (h *harness) stop() {
	h.t.Helper()
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Fatalf("Serve returned %v", err)
		}
		h.done <- nil
	case <-time.After(5 * time.Second):
		h.t.Fatal("Serve did not return after cancel")
	}
}

func state(want string) func(Status) bool {
	return func(st Status) bool { return st.State == want }
}

func one(g Gateway) func(int) []Gateway {
	return func(int) []Gateway { return []Gateway{g} }
}

func TestMapsOwnPortForTCPAndUDP(t *testing.T) {
	gw := newFakeGateway("fake")
	h := start(t, Config{Port: 40000, Description: "swarmdrop"}, one(gw))
	if st := h.s.Status(); st.State != StateOff && st.State != StateDiscovering {
		t.Fatalf("before SetEnabled: %+v", st)
	}
	h.s.SetEnabled(true)
	st := h.waitFor("mapped", state(StateMapped))
	for _, m := range []Mapping{st.TCP, st.UDP} {
		if m.ExternalPort != 40000 || m.InternalPort != 40000 || m.Lease != DefaultLease || m.Err != "" {
			t.Errorf("mapping %+v", m)
		}
		if d := time.Until(m.Expires); d < 59*time.Minute || d > time.Hour {
			t.Errorf("%s expires in %v", m.Protocol, d)
		}
	}
	if st.TCP.Protocol != "TCP" || st.UDP.Protocol != "UDP" {
		t.Errorf("protocols %q %q", st.TCP.Protocol, st.UDP.Protocol)
	}
	if st.Gateway != "fake" || st.LocalIP.String() != "192.168.7.20" || st.ExternalIP.String() != "203.0.113.9" {
		t.Errorf("status %+v", st)
	}
	held := gw.held()
	want := map[string]fakeEntry{"TCP/40000": {40000, time.Hour}, "UDP/40000": {40000, time.Hour}}
	if fmt.Sprint(held) != fmt.Sprint(want) {
		t.Errorf("router holds %v, want %v", held, want)
	}
}

func TestConflictMovesBothToAnotherPort(t *testing.T) {
	for _, taken := range []string{"TCP/40000", "UDP/40000"} {
		t.Run(taken, func(t *testing.T) {
			gw := newFakeGateway("fake")
			gw.takenBy[taken] = true
			gw.takenBy["TCP/50001"] = true // the first random port is taken too
			h := start(t, Config{}, one(gw))
			h.s.SetEnabled(true)
			st := h.waitFor("mapped", state(StateMapped))
			if st.TCP.ExternalPort != 50002 || st.UDP.ExternalPort != 50002 {
				t.Fatalf("external ports %d %d, want 50002", st.TCP.ExternalPort, st.UDP.ExternalPort)
			}
			if st.TCP.InternalPort != 40000 || st.UDP.InternalPort != 40000 {
				t.Errorf("internal ports %d %d", st.TCP.InternalPort, st.UDP.InternalPort)
			}
			held := gw.held()
			if len(held) != 2 || held["TCP/50002"].internal != 40000 || held["UDP/50002"].internal != 40000 {
				t.Errorf("router holds %v", held)
			}
		})
	}
}

func TestConflictEverywhereIsAnError(t *testing.T) {
	gw := newFakeGateway("fake")
	for p := 40000; p <= 50010; p++ {
		gw.takenBy[fmt.Sprintf("TCP/%d", p)] = true
	}
	h := start(t, Config{}, one(gw))
	h.s.SetEnabled(true)
	st := h.waitFor("error", state(StateError))
	if st.TCP.Err == "" || st.Gateway != "fake" {
		t.Errorf("status %+v", st)
	}
	if n := len(gw.addsOf("TCP/40000")); n < 1 {
		t.Errorf("own port tried %d times", n)
	}
	if len(gw.held()) != 0 {
		t.Errorf("router holds %v", gw.held())
	}
}

func TestOnlyPermanentLeasesFallsBackToZero(t *testing.T) {
	gw := newFakeGateway("fake")
	gw.permanentOnly = true
	h := start(t, Config{Lease: 2 * time.Second}, one(gw))
	h.s.SetEnabled(true)
	st := h.waitFor("mapped", state(StateMapped))
	for _, m := range []Mapping{st.TCP, st.UDP} {
		if m.Lease != 0 || !m.Expires.IsZero() || m.ExternalPort != 40000 {
			t.Errorf("mapping %+v, want a permanent one on 40000", m)
		}
	}
	held := gw.held()
	if held["TCP/40000"].lease != 0 || held["UDP/40000"].lease != 0 || len(held) != 2 {
		t.Errorf("router holds %v", held)
	}
	// Once told, the service asks for permanent mappings straight away.
	time.Sleep(1500 * time.Millisecond)
	tcp, udp := gw.addsOf("TCP/40000"), gw.addsOf("UDP/40000")
	if len(tcp) < 3 || len(udp) < 2 {
		t.Fatalf("TCP added %d times, UDP %d times in 1.5 s with a 2 s lease", len(tcp), len(udp))
	}
	if tcp[0].lease != 2*time.Second {
		t.Errorf("first add asked lease %v", tcp[0].lease)
	}
	for _, a := range append(tcp[1:], udp...) {
		if a.lease != 0 {
			t.Errorf("later add of %s asked lease %v", a.key, a.lease)
		}
	}
}

func TestRenewsAtHalfLease(t *testing.T) {
	gw := newFakeGateway("fake")
	h := start(t, Config{Lease: 2 * time.Second}, one(gw))
	h.s.SetEnabled(true)
	first := h.waitFor("mapped", state(StateMapped))
	second := h.waitFor("renewal", func(st Status) bool {
		return st.State == StateMapped && st.TCP.Expires.After(first.TCP.Expires)
	})
	if second.TCP.ExternalPort != 40000 || second.UDP.ExternalPort != 40000 {
		t.Errorf("renewed on %d %d", second.TCP.ExternalPort, second.UDP.ExternalPort)
	}
	// A third add comes about a second later; a busy machine may delay it
	// (not past the lease, which would lose the mapping).
	var adds []fakeAdd
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if adds = gw.addsOf("TCP/40000"); len(adds) >= 3 || time.Now().After(deadline) {
			break
		}
	}
	if len(adds) < 3 {
		t.Fatalf("TCP added %d times in 5 s after the first renewal", len(adds))
	}
	for i := 1; i < len(adds); i++ {
		gap := adds[i].at.Sub(adds[i-1].at)
		if gap < 900*time.Millisecond || gap > 1900*time.Millisecond {
			t.Errorf("renewal %d after %v, want about 1 s (half of 2 s)", i, gap)
		}
		if adds[i].lease != 2*time.Second {
			t.Errorf("renewal asked lease %v", adds[i].lease)
		}
	}
	if n := len(gw.addsOf("UDP/40000")); n < 3 {
		t.Errorf("UDP added %d times", n)
	}
}

func TestRenewalFailureRediscovers(t *testing.T) {
	a, b := newFakeGateway("a"), newFakeGateway("b")
	h := start(t, Config{Lease: 2 * time.Second}, func(n int) []Gateway {
		if n == 1 {
			return []Gateway{a}
		}
		return []Gateway{b}
	})
	h.s.SetEnabled(true)
	h.waitFor("mapped on a", func(st Status) bool { return st.State == StateMapped && st.Gateway == "a" })
	a.mu.Lock()
	a.broken = true
	a.mu.Unlock()
	st := h.waitFor("mapped on b", func(st Status) bool { return st.State == StateMapped && st.Gateway == "b" })
	if st.TCP.ExternalPort != 40000 {
		t.Errorf("external port %d", st.TCP.ExternalPort)
	}
	if len(b.held()) != 2 {
		t.Errorf("b holds %v", b.held())
	}
}

func TestPartlyMapped(t *testing.T) {
	gw := newFakeGateway("fake")
	gw.failUDP = upnpFault(501)
	h := start(t, Config{}, one(gw))
	h.s.SetEnabled(true)
	st := h.waitFor("partly mapped", state(StatePartlyMapped))
	if !st.TCP.Mapped() || st.UDP.Mapped() || st.UDP.Err == "" {
		t.Errorf("status %+v", st)
	}
}

func TestServeEndDeletesMappings(t *testing.T) {
	gw := newFakeGateway("fake")
	h := start(t, Config{}, one(gw))
	h.s.SetEnabled(true)
	h.waitFor("mapped", state(StateMapped))
	h.stop()
	if held := gw.held(); len(held) != 0 {
		t.Errorf("after Serve ended the router holds %v", held)
	}
	if st := h.s.Status(); st.State != StateOff {
		t.Errorf("status after Serve %+v", st)
	}
}

func TestDisableDeletesMappings(t *testing.T) {
	gw := newFakeGateway("fake")
	h := start(t, Config{}, one(gw))
	h.s.SetEnabled(true)
	h.waitFor("mapped", state(StateMapped))
	h.s.SetEnabled(false)
	h.waitFor("off", state(StateOff))
	if held := gw.held(); len(held) != 0 {
		t.Errorf("after SetEnabled(false) the router holds %v", held)
	}
	h.s.SetEnabled(true)
	h.waitFor("mapped again", state(StateMapped))
	if held := gw.held(); len(held) != 2 {
		t.Errorf("after SetEnabled(true) the router holds %v", held)
	}
}

func TestNoGatewayIsRetried(t *testing.T) {
	gw := newFakeGateway("late")
	h := start(t, Config{}, func(n int) []Gateway {
		if n < 3 {
			return nil
		}
		return []Gateway{gw}
	})
	h.s.SetEnabled(true)
	h.waitFor("no gateway", state(StateNoGateway))
	h.waitFor("mapped", state(StateMapped))
	h.mu.Lock()
	n := h.discover
	h.mu.Unlock()
	if n != 3 {
		t.Errorf("discovered %d times, want 3", n)
	}
}

func TestOnChangeReportsEachChange(t *testing.T) {
	gw := newFakeGateway("fake")
	h := start(t, Config{}, one(gw))
	h.s.SetEnabled(true)
	h.waitFor("mapped", state(StateMapped))
	h.s.SetEnabled(false)
	h.waitFor("off", state(StateOff))
	h.stop()
	h.mu.Lock()
	defer h.mu.Unlock()
	var states []string
	for i, st := range h.seen {
		if i > 0 && st == h.seen[i-1] {
			t.Errorf("OnChange %d repeats %+v", i, st)
		}
		states = append(states, st.State)
	}
	want := fmt.Sprint([]string{StateDiscovering, StateMapped, StateOff})
	if fmt.Sprint(states) != want {
		t.Errorf("OnChange saw %v, want %v", states, want)
	}
	if last := h.seen[len(h.seen)-1]; last != h.s.Status() {
		t.Errorf("last OnChange %+v, Status %+v", last, h.s.Status())
	}
}

func TestUPnPErrorCode(t *testing.T) {
	// A fault as miniupnpd sends it, decoded the way goupnp decodes it.
	body := `<s:Fault xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">
<faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring>
<detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>718</errorCode>
<errorDescription>ConflictInMappingEntry</errorDescription></UPnPError></detail></s:Fault>`
	var fault soap.SOAPFaultError
	if err := xml.Unmarshal([]byte(body), &fault); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("timeout"), 0},
		{&fault, 718},
		{fmt.Errorf("mapping TCP port 1: %w", fmt.Errorf("AddPortMapping: %w", &fault)), 718},
		{upnpFault(725), 725},
	}
	for i, c := range cases {
		if got := upnpErrorCode(c.err); got != c.want {
			t.Errorf("case %d: upnpErrorCode(%v) = %d, want %d", i, c.err, got, c.want)
		}
	}
}

func TestCandidatePorts(t *testing.T) {
	s := NewService(Config{Port: 6881})
	next := 7000
	s.randomPort = func() int { next++; return next - next%2 } // repeats each port once
	got := fmt.Sprint(s.candidatePorts(0))
	if want := fmt.Sprint([]int{6881, 7000, 7002, 7004, 7006}); got != want {
		t.Errorf("candidatePorts(0) = %s, want %s", got, want)
	}
	next = 7000
	got = fmt.Sprint(s.candidatePorts(6881))
	if want := fmt.Sprint([]int{6881, 7000, 7002, 7004, 7006}); got != want {
		t.Errorf("candidatePorts(6881) = %s, want %s", got, want)
	}
	s.randomPort = randomPort
	for range 1000 {
		if p := randomPort(); p < 1024 || p > 65535 {
			t.Fatalf("randomPort() = %d", p)
		}
	}
}
