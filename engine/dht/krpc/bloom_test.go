package krpc

import (
	"encoding/hex"
	"math"
	"net/netip"
	"strings"
	"testing"
)

// TestBloomVector checks BEP 33's test vector: 192.0.2.0-192.0.2.255 and
// 2001:db8::-2001:db8::3e7 give the filter printed in the BEP, whose
// estimate is 1224.9308.
func TestBloomVector(t *testing.T) {
	const want = `F6C3F5EA A07FFD91 BDE89F77 7F26FB2B FF37BDB8 FB2BBAA2 FD3DDDE7 BACFFF75 EE7CCBAE
 FE5EEDB1 FBFAFF67 F6ABFF5E 43DDBCA3 FD9B9FFD F4FFD3E9 DFF12D1B DF59DB53 DBE9FA5B
 7FF3B8FD FCDE1AFB 8BEDD7BE 2F3EE71E BBBFE93B CDEEFE14 8246C2BC 5DBFF7E7 EFDCF24F
 D8DC7ADF FD8FFFDF DDFFF7A4 BBEEDF5C B95CE81F C7FCFF1F F4FFFFDF E5F7FDCB B7FD79B3
 FA1FC77B FE07FFF9 05B7B7FF C7FEFEFF E0B8370B B0CD3F5B 7F2BD93F EB4386CF DD6F7FD5
 BFAF2E9E BFFFFEEC D67ADBF7 C67F17EF D5D75EBA 6FFEBA7F FF47A91E B1BFBB53 E8ABFB57
 62ABE8FF 237279BF EFBFEEF5 FFC5FEBF DFE5ADFF ADFEE1FB 737FFFFB FD9F6AEF FEEE76B6
 FD8F72EF`
	var b Bloom
	ip := netip.MustParseAddr("192.0.2.0")
	for range 256 {
		b.Insert(ip)
		ip = ip.Next()
	}
	ip = netip.MustParseAddr("2001:db8::")
	for range 1000 {
		b.Insert(ip)
		ip = ip.Next()
	}
	if got, w := strings.ToUpper(hex.EncodeToString(b[:])), strings.Join(strings.Fields(want), ""); got != w {
		t.Fatalf("filter\n%s\nwant\n%s", got, w)
	}
	if e := b.Estimate(); math.Abs(e-1224.9308) > 0.0001 {
		t.Fatalf("estimate %.4f, want 1224.9308", e)
	}
	if !b.Has(netip.MustParseAddr("192.0.2.77")) || !b.Has(netip.MustParseAddr("::ffff:192.0.2.77")) {
		t.Fatal("an inserted address is missing")
	}
	var empty Bloom
	if empty.Estimate() != 0 || empty.Has(ip) {
		t.Fatalf("empty filter: estimate %v", empty.Estimate())
	}
	var full Bloom
	for i := range full {
		full[i] = 0xff
	}
	if e := full.Estimate(); math.IsInf(e, 0) || math.IsNaN(e) || e < 6000 {
		t.Fatalf("full filter estimate %v", e)
	}
	var u Bloom
	u.Union(&b)
	if u != b {
		t.Fatal("union with an empty filter")
	}
}
