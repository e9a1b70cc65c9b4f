package peerwire

import (
	"bytes"
	"testing"
)

// TestExtHandshakeOwnAddrs: `ipv4` and `ipv6` round-trip; a value of the
// wrong length is dropped, not an error.
func TestExtHandshakeOwnAddrs(t *testing.T) {
	v4, v6 := []byte{192, 0, 2, 1}, bytes.Repeat([]byte{0x20}, 16)
	h, err := ParseExtHandshake(ExtHandshake{P: 6881, IPv4: v4, IPv6: v6}.Encode())
	if err != nil || !bytes.Equal(h.IPv4, v4) || !bytes.Equal(h.IPv6, v6) {
		t.Fatalf("round trip: %+v, %v", h, err)
	}
	for _, raw := range []string{
		"d1:mde4:ipv43:abce",
		"d1:mde4:ipv64:abcde",
		"d1:mde4:ipv6i5ee",
		"d1:mde4:ipv417:aaaaaaaaaaaaaaaaae",
	} {
		h, err := ParseExtHandshake([]byte(raw))
		if err != nil || h.IPv4 != nil || h.IPv6 != nil {
			t.Errorf("%q: %+v, %v; want the address dropped", raw, h, err)
		}
	}
}
