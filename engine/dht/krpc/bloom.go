package krpc

import (
	"crypto/sha1"
	"math"
	"math/bits"
	"net/netip"
)

// BloomLen is the size of a BEP 33 scrape filter in bytes.
const BloomLen = 256

// Bloom is a BEP 33 scrape filter: a bloom filter of 256*8 bits with two
// hash functions, over the IP addresses (4 or 16 bytes, no port) of the
// seeds (BFsd) or the other peers (BFpe) a node stores for a torrent. The
// zero value is an empty filter.
type Bloom [BloomLen]byte

// bloomBits is m, the filter's size in bits; k, the number of bits set
// per address, is 2.
const bloomBits = BloomLen * 8

// indexes returns the two bits of ip: the first two 16-bit little-endian
// words of its SHA-1, modulo m.
func bloomIndexes(ip netip.Addr) (int, int) {
	ip = ip.Unmap()
	h := sha1.Sum(ip.AsSlice())
	return (int(h[0]) | int(h[1])<<8) % bloomBits, (int(h[2]) | int(h[3])<<8) % bloomBits
}

// Insert adds ip to the filter.
func (b *Bloom) Insert(ip netip.Addr) {
	i, j := bloomIndexes(ip)
	b[i/8] |= 1 << (i % 8)
	b[j/8] |= 1 << (j % 8)
}

// Has reports whether ip may be in the filter (false positives aside, it
// was inserted).
func (b *Bloom) Has(ip netip.Addr) bool {
	i, j := bloomIndexes(ip)
	return b[i/8]&(1<<(i%8)) != 0 && b[j/8]&(1<<(j%8)) != 0
}

// Union adds every address of o to b (a bitwise OR).
func (b *Bloom) Union(o *Bloom) {
	for i := range b {
		b[i] |= o[i]
	}
}

// Estimate returns the number of distinct addresses the filter holds, by
// BEP 33's formula (but 0 for an empty filter, where the formula gives
// 0.5, and a finite number for a full one); it stops meaning much past
// about 6,000.
func (b *Bloom) Estimate() float64 {
	zeros := 0
	for _, x := range b {
		zeros += 8 - bits.OnesCount8(x)
	}
	if zeros == bloomBits {
		return 0
	}
	c := float64(max(1, min(bloomBits-1, zeros))) // (a full filter: about 7,800)
	return math.Log(c/bloomBits) / (2 * math.Log(1-1.0/bloomBits))
}
