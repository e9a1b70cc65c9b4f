package dht

import (
	"bytes"
	"crypto/rand"
	"hash/crc32"
	"math/bits"
	"net/netip"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// ID is a node ID or an info hash: a point of the 160-bit key space.
type ID = krpc.ID

// idBits is the length of an ID in bits.
const idBits = 160

// randomID returns a uniformly random ID.
func randomID() ID {
	var id ID
	rand.Read(id[:])
	return id
}

// commonPrefixLen returns how many leading bits a and b share (160 when
// they are equal).
func commonPrefixLen(a, b ID) int {
	for i := range a {
		if x := a[i] ^ b[i]; x != 0 {
			return i*8 + bits.LeadingZeros8(x)
		}
	}
	return idBits
}

// distanceCmp compares the distances of a and b to target: -1, 0 or +1.
func distanceCmp(a, b, target ID) int {
	var da, db ID
	for i := range target {
		da[i], db[i] = a[i]^target[i], b[i]^target[i]
	}
	return bytes.Compare(da[:], db[:])
}

// randomIDWithPrefix returns a random ID that shares exactly prefix
// leading bits with self (the range of bucket prefix), or at least prefix
// bits when atLeast is set (the range of the last bucket).
func randomIDWithPrefix(self ID, prefix int, atLeast bool) ID {
	id := randomID()
	for i := 0; i < prefix && i < idBits; i++ {
		setBit(&id, i, bit(self, i))
	}
	if !atLeast && prefix < idBits {
		setBit(&id, prefix, !bit(self, prefix))
	}
	return id
}

func bit(id ID, i int) bool { return id[i/8]&(0x80>>(i%8)) != 0 }

func setBit(id *ID, i int, v bool) {
	if v {
		id[i/8] |= 0x80 >> (i % 8)
	} else {
		id[i/8] &^= 0x80 >> (i % 8)
	}
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// bep42Prefix returns the 21 leading bits that BEP 42 asks of an ID for
// ip and the 3-bit random number r, as the CRC32-C of the masked address.
func bep42Prefix(ip netip.Addr, r byte) uint32 {
	ip = ip.Unmap()
	var b []byte
	if ip.Is4() {
		a := ip.As4()
		mask := [4]byte{0x03, 0x0f, 0x3f, 0xff}
		for i := range a {
			a[i] &= mask[i]
		}
		b = a[:]
	} else {
		a := ip.As16()
		mask := [8]byte{0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff}
		for i := range mask {
			a[i] &= mask[i]
		}
		b = a[:8]
	}
	b[0] |= (r & 7) << 5
	return crc32.Checksum(b, castagnoli)
}

// secureID returns a BEP 42 node ID for the external address ip, with
// rnd as the random last byte (its low 3 bits enter the CRC).
func secureID(ip netip.Addr, rnd byte) ID {
	id := randomID()
	crc := bep42Prefix(ip, rnd)
	id[0] = byte(crc >> 24)
	id[1] = byte(crc >> 16)
	id[2] = byte(crc>>8)&0xf8 | id[2]&7
	id[19] = rnd
	return id
}

// secureIDValid reports whether id is a valid BEP 42 ID for ip. Local
// addresses (loopback, private, link-local, unspecified) are exempt: any ID
// is valid for them.
func secureIDValid(id ID, ip netip.Addr) bool {
	if exemptIP(ip) {
		return true
	}
	crc := bep42Prefix(ip, id[19])
	return id[0] == byte(crc>>24) && id[1] == byte(crc>>16) && id[2]&0xf8 == byte(crc>>8)&0xf8
}

// exemptIP reports whether BEP 42 does not apply to ip: an address that
// is only meaningful on this machine or network.
func exemptIP(ip netip.Addr) bool {
	ip = ip.Unmap()
	return !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() ||
		ip.IsUnspecified() || ip.IsMulticast()
}
