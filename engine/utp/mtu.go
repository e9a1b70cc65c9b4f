package utp

// Path MTU discovery, after libtorrent's binary search: ordinary packets
// start at a size most paths carry (1400-byte IP packets) and now and
// then one packet, the probe, is sent with the don't-fragment bit set:
// first at that size, to confirm it, then at the midpoint between the
// largest size confirmed and the ceiling. An acknowledged probe raises
// the size; a lost one (no ICMP needed: loss is the signal) lowers the
// ceiling, and the size too if the probe was not larger than it; it does
// not count as congestion and is sent again without the bit. Sizes are
// UDP payload bytes, uTP header included.
const (
	ipv4Overhead = 20 + 8
	ipv6Overhead = 40 + 8
	ethernetMTU  = 1500
	startMTU     = 1400 // the IP packet size we assume works before probing
	minMTU4      = 576  // what every IPv4 path carries
	minMTU6      = 1280 // what every IPv6 path carries
	mtuSettled   = 16   // stop probing when floor and ceiling are this close
)

type pathMTU struct {
	size     int // the size of every ordinary packet
	lo       int // the largest size known to get through without fragments
	hi       int // the largest size that may
	min      int // the size that always works for this IP version
	probing  bool
	probeSeq uint16
}

// newPathMTU starts a search for a peer over IPv6 or IPv4; maxPacket, if
// not 0, lowers the ceiling (a known smaller link MTU).
func newPathMTU(v6 bool, maxPacket int) pathMTU {
	over, minMTU := ipv4Overhead, minMTU4
	if v6 {
		over, minMTU = ipv6Overhead, minMTU6
	}
	m := pathMTU{size: startMTU - over, lo: minMTU - over, hi: ethernetMTU - over}
	if maxPacket > 0 && maxPacket < m.hi {
		m.hi = max(maxPacket, HeaderLen+1)
		m.size = min(m.size, m.hi)
		m.lo = min(m.lo, m.size)
	}
	m.min = m.lo
	return m
}

// probeSize is the size of the next probe, or 0 when none is due: first
// the starting size, to confirm it, then the midpoint of what is left.
func (m *pathMTU) probeSize() int {
	switch {
	case m.probing:
		return 0
	case m.lo < m.size:
		return m.size
	case m.hi-m.lo < mtuSettled:
		return 0
	}
	return (m.lo + m.hi) / 2
}

// sent records that the probe went out as packet seq.
func (m *pathMTU) sent(seq uint16) { m.probing, m.probeSeq = true, seq }

// acked records that a probe of size bytes arrived whole.
func (m *pathMTU) acked(size int) {
	m.probing = false
	m.lo = max(m.lo, min(size, m.hi))
	m.size = max(m.size, m.lo)
}

// lost records that a probe of size bytes did not arrive.
func (m *pathMTU) lost(size int) {
	m.probing = false
	m.hi = max(m.lo, size-1)
	if size <= m.size {
		m.size = m.lo
	}
}

// blackHole handles ordinary packets of size bytes timing out again and
// again: the path may not carry them, so the search starts over from the
// minimum.
func (m *pathMTU) blackHole(size int) {
	if size <= m.min {
		return
	}
	m.hi = max(m.min, min(m.hi, size-1))
	m.size, m.lo = m.min, m.min
	m.probing = false
}
