package krpc

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/anacrolix/torrent/bencode"
)

// testKey is a fixed ed25519 key for the tests.
var testKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))

func mustSign(t testing.TB, salt []byte, seq int64, v string) Item {
	t.Helper()
	it, err := SignItem(testKey, salt, seq, []byte(v))
	if err != nil {
		t.Fatal(err)
	}
	return it
}

func int64p(x int64) *int64 { return &x }

// itemMsgs are BEP 44 messages of each shape, for sampleMsgs.
func itemMsgs() map[string]Msg {
	self := id("abcdefghij0123456789")
	mut, _ := SignItem(testKey, []byte("foobar"), 4, []byte("12:Hello World!"))
	bare, _ := SignItem(testKey, nil, 0, []byte("d2:ih20:mnopqrstuvwxyz123456e"))
	return map[string]Msg{
		"get": {T: []byte("g1"), Y: KindQuery, Q: MethodGet, A: Args{ID: self, Target: id("mnopqrstuvwxyz123456")}},
		"get seq padded": {T: []byte("g2"), Y: KindQuery, Q: MethodGet,
			A: Args{ID: self, Target: mut.Target(), Seq: int64p(3), Want: []string{"n4", "n6"}, Pad: 700}},
		"put immutable": {T: []byte("p1"), Y: KindQuery, Q: MethodPut,
			A: Args{ID: self, Token: []byte("tok"), Item: Item{V: []byte("li1ei-2e0:dee")}}},
		"put mutable salt cas": {T: []byte("p2"), Y: KindQuery, Q: MethodPut,
			A: Args{ID: self, Token: []byte("tok"), Item: mut, CAS: int64p(3)}},
		"put mutable": {T: []byte("p3"), Y: KindQuery, Q: MethodPut, A: Args{ID: self, Token: []byte("tok"), Item: bare}},
		"reply get immutable": {T: []byte("g1"), Y: KindResponse, R: Reply{ID: self, Token: []byte("tok"),
			Item:  Item{V: []byte("12:Hello World!")},
			Nodes: []NodeInfo{{ID: id("11111111111111111111"), Addr: ap("10.0.0.1:1")}}}},
		"reply get mutable": {T: []byte("g2"), Y: KindResponse, R: Reply{ID: self, Token: []byte("tok"),
			Item: Item{V: mut.V, Mutable: true, Key: mut.Key, Seq: mut.Seq, Sig: mut.Sig}}},
		"reply get seq only": {T: []byte("g3"), Y: KindResponse, R: Reply{ID: self, Token: []byte("tok"), Seq: int64p(9)}},
		"error seq":          {T: []byte("p2"), Y: KindError, E: Error{Code: CodeSeqTooLow, Msg: "sequence number less than current"}},
	}
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// TestBEP44Vectors checks the test vectors of BEP 44: the signed buffer,
// the target and the signature of a mutable item with and without salt,
// and the target of an immutable one. (BEP 44's private key is in the
// expanded 64-byte form of the ed25519 reference code, which
// crypto/ed25519 does not take, so the vectors check verification; the
// signing side is checked against libtorrent and python3-cryptography in
// the dht package's tests.)
func TestBEP44Vectors(t *testing.T) {
	var key [KeyLen]byte
	copy(key[:], mustHex("77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548"))
	v := []byte("12:Hello World!")
	for _, tc := range []struct {
		salt           string
		signed, target string
		sig            string
	}{
		{"", "3:seqi1e1:v12:Hello World!", "4a533d47ec9c7d95b1ad75f576cffc641853b750",
			"305ac8aeb6c9c151fa120f120ea2cfb923564e11552d06a5d856091e5e853cff1260d3f39e4999684aa92eb73ffd136e6f4f3ecbfda0ce53a1608ecd7ae21f01"},
		{"foobar", "4:salt6:foobar3:seqi1e1:v12:Hello World!", "411eba73b6f087ca51a3795d9c8c938d365e32c1",
			"6834284b6b24c3204eb2fea824d82f88883a3d95e8b4a21b8c0ded553d17d17ddf9a8a7104b1258f30bed3787e6cb896fca78c58f8e03b5f18f14951a87d9a08"},
	} {
		var salt []byte
		if tc.salt != "" {
			salt = []byte(tc.salt)
		}
		if got := SignedBytes(salt, 1, v); string(got) != tc.signed {
			t.Errorf("signed buffer %q, want %q", got, tc.signed)
		}
		it := Item{V: v, Mutable: true, Key: key, Seq: 1, Salt: salt}
		copy(it.Sig[:], mustHex(tc.sig))
		if got := it.Target(); hex.EncodeToString(got[:]) != tc.target {
			t.Errorf("salt %q: target %x, want %s", tc.salt, got, tc.target)
		}
		if err := it.Verify(); err != nil {
			t.Errorf("salt %q: %v", tc.salt, err)
		}
		it.Seq = 2
		if err := it.Verify(); !errors.Is(err, ErrBadSig) {
			t.Errorf("salt %q, another seq: %v", tc.salt, err)
		}
	}
	im, err := NewImmutableItem(v)
	if err != nil {
		t.Fatal(err)
	}
	if got := im.Target(); hex.EncodeToString(got[:]) != "e5f96f6f38320f0f33959cb4d3d656452117aadb" {
		t.Errorf("immutable target %x", got)
	}
}

// TestBEP46Vectors checks BEP 46's targets of a public key, with and
// without salt, and the {ih: ...} value.
func TestBEP46Vectors(t *testing.T) {
	var key [KeyLen]byte
	copy(key[:], mustHex("8543d3e6115f0f98c944077a4493dcd543e49c739fd998550a1f614ab36ed63e"))
	if got := MutableTarget(key, nil); hex.EncodeToString(got[:]) != "cc3f9d90b572172053626f9980ce261a850d050b" {
		t.Errorf("target without salt %x", got)
	}
	if got := MutableTarget(key, mustHex("6e")); hex.EncodeToString(got[:]) != "59ee7c2cb9b4f7eb1986ee2d18fd2fdb8a56554f" {
		t.Errorf("target with salt %x", got)
	}
	ih := [20]byte(id("mnopqrstuvwxyz123456"))
	v := InfoHashValue(ih)
	if string(v) != "d2:ih20:mnopqrstuvwxyz123456e" {
		t.Fatalf("value %q", v)
	}
	for _, ok := range []string{string(v), "d1:a1:b2:ih20:mnopqrstuvwxyz1234561:zi1ee"} {
		if got, err := ParseInfoHashValue([]byte(ok)); err != nil || got != ih {
			t.Errorf("ParseInfoHashValue(%q) = %x, %v", ok, got, err)
		}
	}
	for _, bad := range []string{"", "de", "d2:ih19:mnopqrstuvwxyz12345e", "d2:ihi1ee", "l2:ih20:mnopqrstuvwxyz123456e",
		"20:mnopqrstuvwxyz123456", "d2:ih20:mnopqrstuvwxyz123456", "d2:ih20:mnopqrstuvwxyz123456ee", "d2:ih20:mnopqrstuvwxyz1234562:xxe"} {
		if got, err := ParseInfoHashValue([]byte(bad)); !errors.Is(err, ErrNotInfoHashValue) {
			t.Errorf("ParseInfoHashValue(%q) = %x, %v; want an error", bad, got, err)
		}
	}
}

func TestCheckValue(t *testing.T) {
	for _, ok := range []string{"0:", "4:spam", "i0e", "i-1e", "i42e", "i9223372036854775807e", "i-9223372036854775808e",
		"le", "de", "l4:spami42ee", "d3:bar4:spam3:fooi42ee", "d0:0:1:a0:1:b0:e", "ld1:xlleeee",
		strings.Repeat("l", 48) + strings.Repeat("e", 48)} {
		if err := CheckValue([]byte(ok)); err != nil {
			t.Errorf("CheckValue(%q): %v", ok, err)
		}
		var x any
		if err := bencode.Unmarshal([]byte(ok), &x); err != nil {
			t.Errorf("%q: accepted by CheckValue, refused by bencode: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "e", "x", "i", "ie", "i-e", "i-0e", "i01e", "i1", "i1.5e", "iabce", "i 1e",
		"i9223372036854775808e", "i-9223372036854775809e", "i99999999999999999999e",
		"5:spam", "05:spams", "-1:", "4spam", "1234567890:x", "l", "li1e", "d", "d1:ae", "di1ei2ee", "dlee",
		"i1ei2e", "4:spamx", "d1:b0:1:a0:e", "d1:a0:1:a0:e", "d1:ai1e1:ai2ee", "d2:ab0:1:a0:e",
		strings.Repeat("l", 49) + strings.Repeat("e", 49)} {
		if err := CheckValue([]byte(bad)); !errors.Is(err, ErrBadValue) {
			t.Errorf("CheckValue(%q) = %v; want an error", bad, err)
		}
	}
}

// TestItemSignVerify: an item we sign verifies and round-trips through a
// put message; changing any signed part breaks it; the limits give the
// errors and codes of BEP 44.
func TestItemSignVerify(t *testing.T) {
	it := mustSign(t, []byte("salt"), 5, "d2:ih20:mnopqrstuvwxyz123456e")
	if err := it.Verify(); err != nil {
		t.Fatal(err)
	}
	pub := testKey.Public().(ed25519.PublicKey)
	if !bytes.Equal(it.Key[:], pub) || it.Target() != MutableTarget(it.Key, []byte("salt")) {
		t.Fatalf("key %x target %x", it.Key, it.Target())
	}
	m := Msg{T: []byte("x"), Y: KindQuery, Q: MethodPut, A: Args{ID: id("abcdefghij0123456789"), Token: []byte("t"), Item: it}}
	got, err := Decode(m.Encode())
	if err != nil || !got.A.Item.Same(it) || got.A.Item.Verify() != nil {
		t.Fatalf("put round trip: %+v, %v", got.A.Item, err)
	}
	tamper := map[string]func(*Item){
		"value": func(x *Item) { x.V = []byte("d2:ih20:mnopqrstuvwxyz123457e") },
		"seq":   func(x *Item) { x.Seq++ },
		"salt":  func(x *Item) { x.Salt = []byte("salu") },
		"no salt": func(x *Item) {
			x.Salt = nil
		},
		"key": func(x *Item) { x.Key[0] ^= 1 },
		"sig": func(x *Item) { x.Sig[63] ^= 0x80 },
	}
	for name, f := range tamper {
		x := it
		f(&x)
		if err := x.Verify(); !errors.Is(err, ErrBadSig) || ItemErrorCode(err) != CodeBadSignature {
			t.Errorf("%s changed: %v", name, err)
		}
	}
	for _, tc := range []struct {
		name string
		salt []byte
		seq  int64
		v    []byte
		err  error
		code int
	}{
		{"value too big", nil, 1, []byte("1001:" + strings.Repeat("x", 1001)), ErrValueTooBig, CodeValueTooBig},
		{"salt too big", bytes.Repeat([]byte("s"), 65), 1, []byte("0:"), ErrSaltTooBig, CodeSaltTooBig},
		{"negative seq", nil, -1, []byte("0:"), ErrBadSeq, CodeProtocol},
		{"not bencode", nil, 1, []byte("hello"), ErrBadValue, CodeProtocol},
	} {
		_, err := SignItem(testKey, tc.salt, tc.seq, tc.v)
		if !errors.Is(err, tc.err) || ItemErrorCode(err) != tc.code {
			t.Errorf("%s: %v (code %d)", tc.name, err, ItemErrorCode(err))
		}
	}
	// The limits themselves are allowed: a 1000-byte value, a 64-byte salt.
	big := []byte("996:" + strings.Repeat("x", 996))
	if len(big) != MaxValueLen {
		t.Fatal(len(big))
	}
	if _, err := SignItem(testKey, bytes.Repeat([]byte("s"), 64), 1<<62, big); err != nil {
		t.Fatal(err)
	}
	if _, err := NewImmutableItem(big); err != nil {
		t.Fatal(err)
	}
	if _, err := NewImmutableItem(append(big, 'x')); !errors.Is(err, ErrValueTooBig) {
		t.Fatalf("1001 bytes: %v", err)
	}
	if _, err := SignItem(ed25519.PrivateKey{1, 2}, nil, 1, []byte("0:")); err == nil {
		t.Fatal("a short private key signed")
	}
	// An empty salt is no salt.
	a, b := mustSign(t, nil, 1, "0:"), mustSign(t, []byte{}, 1, "0:")
	if !a.Same(b) || a.Target() != b.Target() {
		t.Fatal("empty salt differs from none")
	}
}

// TestHostileItems: malformed get and put messages and replies are
// refused by Decode with ErrMalformed.
func TestHostileItems(t *testing.T) {
	const id20 = "2:id20:abcdefghij0123456789"
	key := "1:k32:" + strings.Repeat("k", 32)
	sig := "3:sig64:" + strings.Repeat("s", 64)
	put := func(args string) string { return "d1:ad" + args + "e1:q3:put1:t2:aa1:y1:qe" }
	for _, tc := range []struct{ name, in string }{
		{"get without target", "d1:ad" + id20 + "e1:q3:get1:t2:aa1:y1:qe"},
		{"get short target", "d1:ad" + id20 + "6:target3:abce1:q3:get1:t2:aa1:y1:qe"},
		{"put without token", put(id20 + "1:v0:")},
		{"put without v", put(id20 + "5:token1:x")},
		{"put bad v", put(id20 + "5:token1:x1:viabce")},
		{"put v with a leading zero", put(id20 + "5:token1:x1:vi01e")},
		{"put short k", put(id20 + "1:k3:abc3:seqi1e" + sig + "5:token1:x1:v0:")},
		{"put without sig", put(id20 + key + "3:seqi1e5:token1:x1:v0:")},
		{"put short sig", put(id20 + key + "3:seqi1e3:sig3:abc5:token1:x1:v0:")},
		{"put without seq", put(id20 + key + sig + "5:token1:x1:v0:")},
		{"put seq a string", put(id20 + key + "3:seq1:1" + sig + "5:token1:x1:v0:")},
		{"put negative seq", put(id20 + key + "3:seqi-1e" + sig + "5:token1:x1:v0:")},
		{"put huge seq", put(id20 + key + "3:seqi99999999999999999999e" + sig + "5:token1:x1:v0:")},
		{"put salt an int", put(id20 + key + "4:salti1e3:seqi1e" + sig + "5:token1:x1:v0:")},
		{"put cas a string", put("3:cas1:1" + id20 + key + "3:seqi1e" + sig + "5:token1:x1:v0:")},
		{"reply bad v", "d1:rd" + id20 + "1:vi1xee1:t2:aa1:y1:re"},
		{"reply short k", "d1:rd" + id20 + "1:k1:x3:seqi1e" + sig + "1:v0:e1:t2:aa1:y1:re"},
		{"reply k without sig", "d1:rd" + id20 + key + "3:seqi1e1:v0:e1:t2:aa1:y1:re"},
		{"reply k without seq", "d1:rd" + id20 + key + sig + "1:v0:e1:t2:aa1:y1:re"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Decode([]byte(tc.in))
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Decode(%q) = %+v, %v; want ErrMalformed", tc.in, m, err)
			}
		})
	}
	// Lenient: a get's seq that is not an integer is ignored; a reply's
	// stray sig without k is ignored; a put's oversize value and salt
	// decode (the node answers them with 205 and 207).
	m, err := Decode([]byte("d1:ad" + id20 + "3:seq1:x6:target20:mnopqrstuvwxyz123456e1:q3:get1:t2:aa1:y1:qe"))
	if err != nil || m.A.Seq != nil || m.Q != MethodGet {
		t.Fatalf("get with a string seq: %+v, %v", m, err)
	}
	m, err = Decode([]byte("d1:rd" + id20 + sig + "1:v0:e1:t2:aa1:y1:re"))
	if err != nil || m.R.Item.Mutable || string(m.R.Item.V) != "0:" {
		t.Fatalf("reply with a stray sig: %+v, %v", m, err)
	}
	big := strings.Repeat("x", 1500)
	m, err = Decode([]byte(put(id20 + key + "4:salt100:" + strings.Repeat("s", 100) + "3:seqi1e" + sig + "5:token1:x1:v1500:" + big)))
	if err != nil || len(m.A.Item.V) != 1505 || len(m.A.Item.Salt) != 100 {
		t.Fatalf("oversize put: %v", err)
	}
	if err := m.A.Item.Verify(); ItemErrorCode(err) != CodeValueTooBig {
		t.Fatalf("oversize put verifies as %v", err)
	}
}
