// Package bitfield is a fixed-length set of piece indexes, laid out as the
// peer wire's bitfield message lays it out (BEP 3: the high bit of the
// first byte is piece 0; spare bits at the end are zero).
//
// A Bitfield is not safe for concurrent use; its owner copies it (Clone)
// to hand it to another goroutine.
package bitfield

import (
	"fmt"
	"math/bits"
)

// Bitfield holds one bit per piece. The zero value has length 0.
type Bitfield struct {
	b []byte
	n int
}

// New returns an empty bitfield for n pieces.
func New(n int) Bitfield { return Bitfield{b: make([]byte, (n+7)/8), n: n} }

// FromBytes reads a wire bitfield for n pieces. It copies b. The length
// must be exactly ceil(n/8) bytes and the spare bits must be zero.
func FromBytes(b []byte, n int) (Bitfield, error) {
	if len(b) != (n+7)/8 {
		return Bitfield{}, fmt.Errorf("bitfield of %d bytes for %d pieces (want %d)", len(b), n, (n+7)/8)
	}
	if n%8 != 0 && b[len(b)-1]&(0xff>>(n%8)) != 0 {
		return Bitfield{}, fmt.Errorf("bitfield has spare bits set")
	}
	return Bitfield{b: append([]byte(nil), b...), n: n}, nil
}

// Len returns the number of pieces.
func (f Bitfield) Len() int { return f.n }

// Has reports whether piece i is set; out-of-range indexes are not set.
func (f Bitfield) Has(i int) bool {
	if i < 0 || i >= f.n {
		return false
	}
	return f.b[i>>3]&(0x80>>(i&7)) != 0
}

// Set sets piece i; out-of-range indexes are ignored.
func (f Bitfield) Set(i int) {
	if i >= 0 && i < f.n {
		f.b[i>>3] |= 0x80 >> (i & 7)
	}
}

// Clear clears piece i; out-of-range indexes are ignored.
func (f Bitfield) Clear(i int) {
	if i >= 0 && i < f.n {
		f.b[i>>3] &^= 0x80 >> (i & 7)
	}
}

// SetAll sets every piece.
func (f Bitfield) SetAll() {
	for i := range f.b {
		f.b[i] = 0xff
	}
	if f.n%8 != 0 {
		f.b[len(f.b)-1] = byte(0xff << (8 - f.n%8))
	}
}

// Count returns the number of pieces set.
func (f Bitfield) Count() int {
	c := 0
	for _, x := range f.b {
		c += bits.OnesCount8(x)
	}
	return c
}

// Full reports whether every piece is set (true for length 0).
func (f Bitfield) Full() bool { return f.Count() == f.n }

// Bytes returns the wire form. The caller must not modify it.
func (f Bitfield) Bytes() []byte { return f.b }

// Clone returns an independent copy.
func (f Bitfield) Clone() Bitfield { return Bitfield{b: append([]byte(nil), f.b...), n: f.n} }
