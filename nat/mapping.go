package nat

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"
)

// UPnP error codes the Service acts on (UPnP IGD WANIPConnection spec).
const (
	errConflictInMappingEntry       = 718 // the external port is taken
	errOnlyPermanentLeasesSupported = 725 // the gateway wants lease 0
)

// conflictTries is how many random external ports are tried after the
// wanted one is taken.
const conflictTries = 4

// session is what Serve holds on one gateway. It is owned by the Serve
// goroutine.
type session struct {
	gateway   Gateway
	external  netip.Addr
	tcp, udp  Mapping
	permanent bool      // the gateway accepts only permanent mappings
	renewAt   time.Time // when to add the mappings again
	lastPort  int       // external port of the last mapping held, kept across gateways
}

func (sess *session) status() Status {
	st := Status{TCP: sess.tcp, UDP: sess.udp, ExternalIP: sess.external}
	if sess.gateway != nil {
		st.Gateway = sess.gateway.ID()
		st.LocalIP = sess.gateway.LocalIP()
	}
	switch {
	case sess.tcp.Mapped() && sess.udp.Mapped():
		st.State = StateMapped
	case sess.tcp.Mapped() || sess.udp.Mapped():
		st.State = StatePartlyMapped
	default:
		st.State = StateError
	}
	return st
}

// forget drops the gateway without deleting anything on it.
func (sess *session) forget() {
	*sess = session{lastPort: sess.lastPort}
}

// mapOn maps TCP and UDP on gw, both on the same external port: the one
// used before, else Config.Port, else random ones when the gateway reports
// a conflict. It reports whether at least one mapping is held; sess then
// uses gw.
func (s *Service) mapOn(ctx context.Context, sess *session, gw Gateway) bool {
	*sess = session{gateway: gw, lastPort: sess.lastPort}
	if !gw.LocalIP().IsValid() {
		sess.tcp.Err = "no local address toward the gateway"
		sess.udp.Err = sess.tcp.Err
		return false
	}
	for _, port := range s.candidatePorts(sess.lastPort) {
		if ctx.Err() != nil {
			return false
		}
		tcp, err := s.add(ctx, sess, "TCP", port)
		sess.tcp = tcp
		if upnpErrorCode(err) == errConflictInMappingEntry {
			continue
		}
		udp, err := s.add(ctx, sess, "UDP", port)
		sess.udp = udp
		if upnpErrorCode(err) == errConflictInMappingEntry {
			if tcp.Mapped() {
				s.delete(ctx, gw, tcp)
				sess.tcp.Err = "UDP port taken"
			}
			continue
		}
		break
	}
	if !sess.tcp.Mapped() && !sess.udp.Mapped() {
		return false
	}
	if sess.tcp.Mapped() {
		sess.lastPort = sess.tcp.ExternalPort
	} else {
		sess.lastPort = sess.udp.ExternalPort
	}
	s.readExternalIP(ctx, sess)
	sess.renewAt = s.renewTime(sess)
	return true
}

// renew adds the mappings again on the same gateway and port. It reports
// false when a mapping held before could not be renewed.
func (s *Service) renew(ctx context.Context, sess *session) bool {
	ok := true
	for _, m := range []*Mapping{&sess.tcp, &sess.udp} {
		held := m.Mapped()
		fresh, err := s.add(ctx, sess, m.Protocol, m.ExternalPort)
		if err != nil && held {
			ok = false
		}
		*m = fresh
	}
	if !ok {
		return false
	}
	s.readExternalIP(ctx, sess)
	sess.renewAt = s.renewTime(sess)
	return true
}

// add asks for one mapping, falling back to a permanent one when the
// gateway supports no other. The Mapping returned carries the error text.
func (s *Service) add(ctx context.Context, sess *session, protocol string, external int) (Mapping, error) {
	m := Mapping{Protocol: protocol, InternalPort: s.cfg.Port, ExternalPort: external}
	lease := s.cfg.Lease
	if sess.permanent {
		lease = 0
	}
	err := s.addOnce(ctx, sess.gateway, m, lease)
	if lease != 0 && upnpErrorCode(err) == errOnlyPermanentLeasesSupported {
		s.logf("nat: %s accepts only permanent mappings", sess.gateway.ID())
		sess.permanent = true
		lease = 0
		err = s.addOnce(ctx, sess.gateway, m, lease)
	}
	if err != nil {
		m.Err = err.Error()
		s.logf("nat: %v", err)
		return m, err
	}
	m.Lease = lease
	if lease > 0 {
		m.Expires = time.Now().Add(lease).Round(0)
	}
	return m, nil
}

func (s *Service) addOnce(ctx context.Context, gw Gateway, m Mapping, lease time.Duration) error {
	err := call(ctx, func(ctx context.Context) error {
		return gw.AddPortMapping(ctx, m.Protocol, m.ExternalPort, m.InternalPort, s.cfg.Description, lease)
	})
	if err != nil {
		return fmt.Errorf("mapping %s port %d to %d on %s: %w", m.Protocol, m.ExternalPort, m.InternalPort, gw.ID(), err)
	}
	return nil
}

func (s *Service) readExternalIP(ctx context.Context, sess *session) {
	var ip netip.Addr
	err := call(ctx, func(ctx context.Context) (err error) {
		ip, err = sess.gateway.ExternalIP(ctx)
		return err
	})
	if err != nil {
		s.logf("nat: external address from %s: %v", sess.gateway.ID(), err)
		return
	}
	sess.external = ip
}

// renewTime is when half the shortest lease has passed; permanent mappings
// are checked as often as leased ones would be renewed.
func (s *Service) renewTime(sess *session) time.Time {
	half := s.cfg.Lease / 2
	for _, m := range []Mapping{sess.tcp, sess.udp} {
		if m.Mapped() && m.Lease > 0 && m.Lease/2 < half {
			half = m.Lease / 2
		}
	}
	return time.Now().Add(half)
}

// release deletes the mappings held, within releaseTimeout even when ctx
// has ended, and forgets the gateway.
func (s *Service) release(ctx context.Context, sess *session) {
	if sess.gateway == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	for _, m := range []Mapping{sess.tcp, sess.udp} {
		if m.Mapped() {
			s.delete(ctx, sess.gateway, m)
		}
	}
	sess.forget()
}

func (s *Service) delete(ctx context.Context, gw Gateway, m Mapping) {
	err := call(ctx, func(ctx context.Context) error {
		return gw.DeletePortMapping(ctx, m.Protocol, m.ExternalPort)
	})
	if err != nil {
		s.logf("nat: deleting %s port %d on %s: %v", m.Protocol, m.ExternalPort, gw.ID(), err)
	}
}

// candidatePorts lists the external ports to try, in order, without
// repeats: the last one held, our own port, then random ones.
func (s *Service) candidatePorts(last int) []int {
	var ports []int
	seen := map[int]bool{}
	push := func(p int) {
		if p > 0 && p <= 65535 && !seen[p] {
			seen[p] = true
			ports = append(ports, p)
		}
	}
	push(last)
	push(s.cfg.Port)
	want := len(ports) + conflictTries
	for range 16 * conflictTries {
		if len(ports) == want {
			break
		}
		push(s.randomPort())
	}
	return ports
}

// randomPort is a port in 1024–65535.
func randomPort() int {
	return 1024 + rand.IntN(65536-1024)
}
