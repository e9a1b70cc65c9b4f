package swarm

import (
	"net/netip"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/peerwire"
)

// addOtherAddrsLocked takes the addresses a peer gives as its own in its
// extended handshake (one per family, with its listening port) as
// candidates, unless they are its connection's address, or local
// (loopback, link-local) while the connection is not: a peer cannot make
// us dial our own machine.
func (s *Swarm) addOtherAddrsLocked(p *peer, h peerwire.ExtHandshake) {
	if h.P <= 0 {
		return
	}
	for _, b := range [][]byte{h.IPv4, h.IPv6} {
		ip, ok := netip.AddrFromSlice(b)
		ip = ip.Unmap()
		if !ok || ip == p.addr.Addr() {
			continue
		}
		local := func(a netip.Addr) bool { return a.IsLoopback() || a.IsLinkLocalUnicast() }
		if local(ip) && !local(p.addr.Addr()) {
			continue
		}
		s.addCandidateLocked(netip.AddrPortFrom(ip, uint16(h.P)), SourceHandshake)
		s.poke()
	}
}

// onExtended handles BEP 10 messages: the extended handshake, ut_metadata
// and ut_pex.
func (s *Swarm) onExtended(p *peer, m peerwire.Message) error {
	switch m.ExtID {
	case 0:
		h, err := peerwire.ParseExtHandshake(m.ExtPayload)
		if err != nil {
			return protocolErrorf("extended handshake: %v", err)
		}
		if s.cfg.OnYourIP != nil && len(h.YourIP) > 0 {
			if seen, ok := netip.AddrFromSlice(h.YourIP); ok {
				s.cfg.OnYourIP(p.addr.Addr(), seen.Unmap())
			}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		p.client = h.V
		if len(p.client) > 64 {
			p.client = p.client[:64]
		}
		p.listenPort = h.P
		s.addOtherAddrsLocked(p, h)
		if h.Reqq > 0 {
			p.reqq = min(h.Reqq, maxQueue)
		}
		p.utMetadata = h.M["ut_metadata"]
		p.utPex = h.M["ut_pex"]
		if h.MetadataSize > 0 {
			p.metaSize = h.MetadataSize
		}
		if s.meta != nil {
			s.meta.offer(p, h.MetadataSize)
			s.requestMetadataLocked(time.Now())
		}
		s.fillRequestsLocked(p)
		return nil
	case extMetadata:
		mm, err := peerwire.ParseMetadataMsg(m.ExtPayload)
		if err != nil {
			return protocolErrorf("ut_metadata: %v", err)
		}
		return s.onMetadataMsg(p, mm)
	case extPex:
		if s.cfg.Private {
			return nil
		}
		px, err := peerwire.ParsePEX(m.ExtPayload)
		if err != nil {
			return nil // junk PEX is ignored, not fatal
		}
		s.onPEX(p, px)
	}
	return nil
}
