package engine

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// Settings are the user's choices the engine applies while running.
type Settings struct {
	Bootstrap       []string // DHT contacts, "host:port"
	DownloadDir     string   // for torrents added from now on
	UPnP            bool
	MaxConnections  int
	MaxDownloadRate int64 // bytes per second, 0 = no limit
	MaxUploadRate   int64
	// NoUTP turns uTP peer connections (BEP 29) off at once, for networks
	// where UDP is broken: peers then connect over TCP only. (With the DHT
	// off too when the engine started, there is no UDP socket and uTP
	// stays off until the next start.)
	NoUTP bool
	// LSD turns local peer discovery on or off (Config.NoLSD).
	LSD bool
	// Port is the listening port (0: any free port). While the engine
	// listens, a new port takes effect at the next start; while it could
	// not listen, the new port is tried at once.
	Port int
}

// newRequestID numbers an asynchronous command; safe from any goroutine.
func (e *Engine) newRequestID() int { return int(e.nextReq.Add(1)) }

// ApplySettings applies new settings at once: bootstrap contacts are
// added to the DHT, UPnP is switched on or off (removing the mappings when
// off), so is local peer discovery, limits change. A new port is tried at
// once when the engine could not listen (see Settings.Port).
func (e *Engine) ApplySettings(s Settings) {
	e.queue.put(func() {
		e.cfg.Bootstrap = s.Bootstrap
		if s.DownloadDir != "" {
			e.cfg.DownloadDir = s.DownloadDir
		}
		e.cfg.NoUPnP = !s.UPnP
		e.cfg.NoUTP = s.NoUTP
		e.cfg.NoLSD = !s.LSD
		e.cfg.MaxDownloadRate, e.cfg.MaxUploadRate = s.MaxDownloadRate, s.MaxUploadRate
		e.down.SetRate(s.MaxDownloadRate)
		e.up.SetRate(s.MaxUploadRate)
		if s.MaxConnections > 0 {
			e.limit.SetMax(s.MaxConnections)
		}
		if e.net == nil {
			return
		}
		if e.listenErr != nil && s.Port >= 0 && s.Port <= 65535 {
			e.cfg.Port = s.Port
			e.listen()
		}
		if e.net.dht != nil && len(s.Bootstrap) > 0 {
			e.net.dht.AddContacts(s.Bootstrap)
		}
		if e.net.nat != nil {
			e.net.nat.SetEnabled(s.UPnP)
		}
		e.net.setUTP(!s.NoUTP)
		if e.net.lsd != nil {
			e.net.lsd.SetEnabled(s.LSD)
		}
	})
}

// Ping asks a bootstrap contact ("host:port") whether it answers; the
// result comes as EventPing with the request id returned.
func (e *Engine) Ping(contact string) int {
	id := e.newRequestID()
	e.queue.put(func() {
		if e.net == nil || e.net.dht == nil {
			e.emit(PingResult{Request: id, Contact: contact, Err: ErrDHTOff})
			return
		}
		node := e.net.dht
		ctx := e.ctx
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			pctx, cancel := context.WithTimeout(ctx, e.timing.Ping)
			defer cancel()
			rtt, err := node.Ping(pctx, contact)
			ev := PingResult{Request: id, Contact: contact, RTT: rtt}
			if err != nil {
				ev.Err = fmt.Errorf("%w: %w", ErrNoReply, err)
			}
			e.emit(ev)
		}()
	})
	return id
}

// DefaultNodes returns the contacts to put in a new torrent's `nodes`:
// the settings' contacts, our own reachable contact (when UPnP gave us an
// external address) and up to 8 good nodes of our routing tables,
// alternating IPv4 and IPv6 (BEP 32) while both have some, so that the
// torrent can enter either DHT.
func (e *Engine) DefaultNodes(settings []metainfo.Node, snapshot Snapshot) []metainfo.Node {
	out := metainfo.AppendNodes(nil, settings...)
	if ip := snapshot.NAT.ExternalIP; ip != "" && snapshot.ListenPort > 0 {
		out = metainfo.AppendNodes(out, metainfo.Node{Host: ip, Port: snapshot.ListenPort})
	}
	for _, a := range alternateFamilies(e.closestGood(16), 8) {
		out = metainfo.AppendNodes(out, metainfo.NodeOf(a))
	}
	return out
}

// alternateFamilies returns up to k of addrs, IPv4 and IPv6 in turn while
// both have some, each family in its order in addrs.
func alternateFamilies(addrs []netip.AddrPort, k int) []netip.AddrPort {
	var fam [2][]netip.AddrPort
	for _, a := range addrs {
		i := 0
		if !a.Addr().Unmap().Is4() {
			i = 1
		}
		fam[i] = append(fam[i], a)
	}
	var out []netip.AddrPort
	for i := 0; len(out) < k && (i < len(fam[0]) || i < len(fam[1])); i++ {
		for _, f := range fam {
			if i < len(f) && len(out) < k {
				out = append(out, f[i])
			}
		}
	}
	return out
}

// closestGood returns good nodes of the routing table; safe from any
// goroutine once Run has started the DHT.
func (e *Engine) closestGood(k int) []netip.AddrPort {
	e.netMu.Lock()
	n := e.net
	e.netMu.Unlock()
	if n == nil || n.dht == nil {
		return nil
	}
	return n.dht.ClosestGood(k)
}
