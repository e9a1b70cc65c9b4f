package swarm

import (
	"net"
	"net/netip"
	"slices"
	"time"
)

// counters are the swarm's running totals; Swarm.mu guards them.
type counters struct {
	downloaded int64 // payload bytes received
	uploaded   int64 // payload bytes sent
	wasted     int64 // bytes received and thrown away
	hashFails  int
	banned     int
	rejected   int // our requests that peers rejected
	refused    int // peers' requests for pieces RestrictUploads does not allow
	evicted    int // connections replaced by newcomers
	rateDown   float64
	rateUp     float64
	lastTick   time.Time
}

// Stats is a snapshot of a swarm: plain values, safe to keep and share.
type Stats struct {
	HasMetadata  bool
	PiecesHave   int
	PiecesTotal  int
	Have         []byte // wire bitfield of the pieces verified whole on disk (a copy)
	Partial      []byte // wire bitfield of the pieces of which only the bytes of wanted files are kept
	PiecesPartly int    // pieces set in Partial
	Left         int64  // bytes of wanted pieces still to verify
	LeftTotal    int64  // bytes of pieces not whole on disk, wanted or not (what trackers are told)
	Downloaded   int64  // payload bytes received
	Uploaded     int64  // payload bytes sent
	Wasted       int64
	HashFails    int
	Banned       int
	Rejected     int     // our requests that peers rejected
	Refused      int     // peers' requests for pieces not allowed (RestrictUploads)
	Evicted      int     // connections that gave their slot to a newcomer
	RateDown     float64 // bytes per second
	RateUp       float64
	Peers        int
	Seeds        int
	Known        int  // addresses known
	Complete     bool // every wanted piece verified
	Seed         bool // every piece verified and whole on disk
	Paused       bool
	Err          string
	MetadataHave int // magnet: metadata pieces received
	MetadataSize int
	PeerList     []PeerStats
}

// PeerStats describes one connection.
type PeerStats struct {
	Addr     string
	Client   string
	Source   Source
	RateDown float64
	RateUp   float64
	Progress float64 // 0..1, the share of pieces the peer has
	// Flags in the usual letters: D downloading from it, d interested but
	// choked, U uploading to it, u it is interested but choked, I
	// incoming, E extension protocol, X fast extension.
	Flags string
	// Family is the connection's address family, "IPv4" or "IPv6";
	// Transport what carries it, "TCP" or "uTP".
	Family, Transport string
}

// Stats returns a snapshot.
func (s *Swarm) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{
		Downloaded: s.stats.downloaded,
		Uploaded:   s.stats.uploaded,
		Wasted:     s.stats.wasted,
		HashFails:  s.stats.hashFails,
		Refused:    s.stats.refused,
		Banned:     s.stats.banned,
		Rejected:   s.stats.rejected,
		Evicted:    s.stats.evicted,
		RateDown:   s.stats.rateDown,
		RateUp:     s.stats.rateUp,
		Peers:      len(s.peers),
		Known:      len(s.known),
		Complete:   s.done,
		Paused:     s.paused,
	}
	if s.err != nil {
		st.Err = s.err.Error()
	}
	if s.pk != nil {
		st.HasMetadata = true
		st.PiecesHave = s.pk.nHave
		st.PiecesTotal = s.pk.numPieces
		st.Have = slices.Clone(s.pk.have.Bytes())
		st.Partial = slices.Clone(s.pk.partial.Bytes())
		st.PiecesPartly = s.pk.nPartial
		st.Left = s.pk.left()
		st.LeftTotal = s.pk.leftAll()
		st.Seed = s.pk.complete()
	}
	if s.meta != nil {
		st.MetadataSize = s.meta.size
		st.MetadataHave = s.meta.nGot
	}
	for _, p := range s.peers {
		ps := PeerStats{
			Addr: p.addr.String(), Client: p.client, Source: p.src,
			RateDown: p.rateDown, RateUp: p.rateUp,
			Family: addrFamily(p.addr), Transport: transportOf(p.conn),
		}
		if s.pk != nil && s.pk.numPieces > 0 {
			if p.haveAll {
				ps.Progress = 1
			} else {
				ps.Progress = float64(p.have.Count()) / float64(s.pk.numPieces)
			}
		}
		if ps.Progress == 1 {
			st.Seeds++
		}
		ps.Flags = peerFlags(p)
		st.PeerList = append(st.PeerList, ps)
	}
	slices.SortFunc(st.PeerList, func(a, b PeerStats) int {
		if a.Addr < b.Addr {
			return -1
		}
		if a.Addr > b.Addr {
			return 1
		}
		return 0
	})
	return st
}

func peerFlags(p *peer) string {
	var f []byte
	switch {
	case p.amInterested && !p.peerChoking:
		f = append(f, 'D')
	case p.amInterested:
		f = append(f, 'd')
	}
	switch {
	case p.peerInterest && !p.amChoking:
		f = append(f, 'U')
	case p.peerInterest:
		f = append(f, 'u')
	}
	if !p.outgoing {
		f = append(f, 'I')
	}
	if p.ext {
		f = append(f, 'E')
	}
	if p.fast {
		f = append(f, 'X')
	}
	return string(f)
}

// addrFamily names the address family of a: "IPv4" or "IPv6".
func addrFamily(a netip.AddrPort) string {
	if a.Addr().Unmap().Is4() {
		return "IPv4"
	}
	return "IPv6"
}

// transportOf names what carries conn: "uTP" for a connection over UDP
// (BEP 29: the only peer connections over UDP), "TCP" otherwise.
func transportOf(conn net.Conn) string {
	if a := conn.RemoteAddr(); a != nil && a.Network() == "udp" {
		return "uTP"
	}
	return "TCP"
}
