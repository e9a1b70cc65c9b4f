package dht

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// newKey returns a fresh ed25519 key.
func newKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// sign returns the mutable item of the bencoded value v, failing t on
// error.
func sign(t testing.TB, key ed25519.PrivateKey, salt string, seq int64, v string) Item {
	t.Helper()
	var s []byte
	if salt != "" {
		s = []byte(salt)
	}
	it, err := krpc.SignItem(key, s, seq, []byte(v))
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// bstr returns s as a bencoded string.
func bstr(s string) string { return strconv.Itoa(len(s)) + ":" + s }

func int64p(x int64) *int64 { return &x }

// TestItemPutAndGet drives a node's get and put by hand: it stores and
// returns immutable and mutable items (with salt), answers a get's seq
// with the seq alone, and refuses what BEP 44 says to refuse, each with
// its error code, leaving the stored version as it was: a bad or
// foreign token (203), a value over 1000 bytes (205), a bad signature
// (206), a salt over 64 bytes (207), a CAS that does not match (301), a
// seq below the stored one or equal with another value (302).
func TestItemPutAndGet(t *testing.T) {
	n, addr := startNode(t, "127.0.20.1", 0, Config{QueryRate: 1000, QueryBurst: 1000})
	c, other := newClient(t, "127.0.20.2"), newClient(t, "127.0.20.3")
	get := func(target ID, seq *int64) krpc.Msg {
		m, _ := c.call(krpc.Msg{Q: krpc.MethodGet, A: krpc.Args{Target: target, Seq: seq, Pad: 700}}, addr)
		if m.Y != krpc.KindResponse || len(m.R.Token) == 0 {
			t.Fatalf("get: %+v", m)
		}
		return m
	}
	put := func(from *client, token []byte, it Item, cas *int64) krpc.Msg {
		m, _ := from.call(krpc.Msg{Q: krpc.MethodPut, A: krpc.Args{Token: token, Item: it, CAS: cas}}, addr)
		return m
	}
	wantCode := func(what string, m krpc.Msg, code int) {
		t.Helper()
		if code == 0 && m.Y != krpc.KindResponse || code != 0 && (m.Y != krpc.KindError || m.E.Code != code) {
			t.Fatalf("%s: got %+v, want code %d", what, m, code)
		}
		if code != 0 {
			t.Logf("%s: error %d %q", what, m.E.Code, m.E.Msg)
		}
	}

	// Immutable.
	imm, err := krpc.NewImmutableItem([]byte("d4:spaml1:a1:bee"))
	if err != nil {
		t.Fatal(err)
	}
	r := get(imm.Target(), nil)
	if r.R.Item.V != nil {
		t.Fatalf("an item before any put: %+v", r.R.Item)
	}
	tok := r.R.Token
	wantCode("immutable put, bad token", put(c, []byte("badtoken"), imm, nil), krpc.CodeProtocol)
	wantCode("immutable put, another address's token", put(other, tok, imm, nil), krpc.CodeProtocol)
	big := []byte(bstr(strings.Repeat("x", 997)))
	wantCode("immutable put of 1001 bytes", put(c, tok, Item{V: big}, nil), krpc.CodeValueTooBig)
	wantCode("immutable put", put(c, tok, imm, nil), 0)
	if r := get(imm.Target(), nil); !bytes.Equal(r.R.Item.V, imm.V) || r.R.Item.Mutable {
		t.Fatalf("get of the immutable item: %+v", r.R.Item)
	}

	// Mutable, with salt.
	key := newKey(t)
	v1 := sign(t, key, "swarmdrop", 1, bstr("version 1"))
	target := v1.Target()
	wantCode("mutable put", put(c, tok, v1, nil), 0)
	r = get(target, nil)
	got := r.R.Item
	if !got.Mutable || got.Salt != nil || got.Seq != 1 || !bytes.Equal(got.V, v1.V) {
		t.Fatalf("get of the mutable item: %+v", got)
	}
	got.Salt = []byte("swarmdrop") // the asker knows it
	if err := got.Verify(); err != nil || got.Target() != target {
		t.Fatalf("the item sent back does not verify: %v", err)
	}
	if r := get(target, int64p(1)); r.R.Item.V != nil || r.R.Seq == nil || *r.R.Seq != 1 {
		t.Fatalf("get with seq 1: %+v, want the seq alone", r.R)
	}
	if r := get(target, int64p(0)); r.R.Item.Seq != 1 {
		t.Fatalf("get with seq 0: %+v, want the item", r.R)
	}

	v2 := sign(t, key, "swarmdrop", 2, bstr("version 2"))
	wantCode("put of seq 2", put(c, tok, v2, nil), 0)
	wantCode("put of seq 1 after 2", put(c, tok, v1, nil), krpc.CodeSeqTooLow)
	wantCode("put of seq 2 with another value", put(c, tok, sign(t, key, "swarmdrop", 2, bstr("other")), nil), krpc.CodeSeqTooLow)
	wantCode("put of seq 2 again (a refresh)", put(c, tok, v2, nil), 0)
	v3 := sign(t, key, "swarmdrop", 3, bstr("version 3"))
	wantCode("put of seq 3 with cas 1", put(c, tok, v3, int64p(1)), krpc.CodeCASMismatch)
	forged := v3
	forged.V = []byte(bstr("version 4"))
	wantCode("put with a bad signature", put(c, tok, forged, nil), krpc.CodeBadSignature)
	longSalt := sign(t, key, "", 1, bstr("x"))
	longSalt.Salt = bytes.Repeat([]byte("s"), 65)
	wantCode("put with a 65-byte salt", put(c, tok, longSalt, nil), krpc.CodeSaltTooBig)
	bigMutable := v3
	bigMutable.V = big
	wantCode("mutable put of 1001 bytes", put(c, tok, bigMutable, nil), krpc.CodeValueTooBig)
	if r := get(target, nil); r.R.Item.Seq != 2 || !bytes.Equal(r.R.Item.V, v2.V) {
		t.Fatalf("after the refusals: %+v, want version 2", r.R.Item)
	}
	wantCode("put of seq 3 with cas 2", put(c, tok, v3, int64p(2)), 0)
	if r := get(target, nil); r.R.Item.Seq != 3 {
		t.Fatalf("after the cas put: %+v", r.R.Item)
	}
	// The limits themselves are fine: a 1000-byte value, a 64-byte salt.
	full := sign(t, key, strings.Repeat("s", 64), 1, bstr(strings.Repeat("x", 996)))
	wantCode("put of 1000 bytes with a 64-byte salt", put(c, tok, full, nil), 0)
	if r := get(full.Target(), nil); !bytes.Equal(r.R.Item.V, full.V) {
		t.Fatalf("the 1000-byte item: %d bytes back", len(r.R.Item.V))
	}
	st := n.Stats()
	if st.Items != 3 || st.ItemBytes <= 0 || st.ItemBytes > 3*(krpc.MaxValueLen+krpc.MaxSaltLen+itemOverhead) {
		t.Fatalf("stats: %d items, %d bytes", st.Items, st.ItemBytes)
	}
}

// TestItemRouter: a routing-only node gives no token and refuses puts.
func TestItemRouter(t *testing.T) {
	_, addr := startNode(t, "127.0.20.4", 0, Config{Router: true})
	c := newClient(t, "127.0.20.5")
	r, _ := c.call(krpc.Msg{Q: krpc.MethodGet, A: krpc.Args{Target: randomID()}}, addr)
	if r.Y != krpc.KindResponse || r.R.Token != nil {
		t.Fatalf("router get: %+v", r)
	}
	imm, _ := krpc.NewImmutableItem([]byte("i1e"))
	r, _ = c.call(krpc.Msg{Q: krpc.MethodPut, A: krpc.Args{Token: []byte("x"), Item: imm}}, addr)
	if r.Y != krpc.KindError || r.E.Code != krpc.CodeMethodUnknown {
		t.Fatalf("router put: %+v", r)
	}
}

// TestItemFloodOneAddress: one address puts 200 distinct items (valid,
// each under its own key): the first maxItemsPerHost are stored, the rest
// refused with error 201, and the store holds no more; updates of its
// items still work.
func TestItemFloodOneAddress(t *testing.T) {
	n, addr := startNode(t, "127.0.20.6", 0, Config{QueryRate: 1000, QueryBurst: 1000})
	c := newClient(t, "127.0.20.7")
	r, _ := c.call(krpc.Msg{Q: krpc.MethodGet, A: krpc.Args{Target: randomID()}}, addr)
	tok := r.R.Token
	codes := map[int]int{}
	var first Item
	key := newKey(t)
	for i := range 200 {
		it := sign(t, key, strconv.Itoa(i), 1, bstr(strings.Repeat("v", 900)))
		if i == 0 {
			first = it
		}
		m, _ := c.call(krpc.Msg{Q: krpc.MethodPut, A: krpc.Args{Token: tok, Item: it}}, addr)
		if m.Y == krpc.KindError {
			codes[m.E.Code]++
		} else {
			codes[0]++
		}
	}
	st := n.Stats()
	t.Logf("200 puts from one address: %v (0: stored); store: %d items, %d bytes", codes, st.Items, st.ItemBytes)
	if codes[0] != maxItemsPerHost || codes[krpc.CodeGeneric] != 200-maxItemsPerHost || st.Items != maxItemsPerHost {
		t.Fatalf("codes %v, %d items stored; want %d stored, the rest refused with 201", codes, st.Items, maxItemsPerHost)
	}
	m, _ := c.call(krpc.Msg{Q: krpc.MethodPut, A: krpc.Args{Token: tok, Item: sign(t, key, "0", 2, bstr("v2"))}}, addr)
	if m.Y != krpc.KindResponse {
		t.Fatalf("an update of its own item from a full address: %+v", m)
	}
	if it, _ := n.items.Get(first.Target(), time.Now()); it.Seq != 2 {
		t.Fatalf("the update was not stored: %+v", it)
	}
}

// TestItemFloodManyAddresses: 200 addresses each put an item of 1000
// bytes (a store of 64 items here): the store never holds more than 64
// items nor more than their bound in bytes, and an item 4 addresses keep
// putting outlasts the flood.
func TestItemFloodManyAddresses(t *testing.T) {
	const max = 64
	n, addr := startNode(t, "127.0.21.1", 0, Config{}, func(n *Node) {
		n.items = newItemStore(max, 4, n.cfg.ItemTTL)
	})
	put := func(c *client, it Item) krpc.Msg {
		r, _ := c.call(krpc.Msg{Q: krpc.MethodGet, A: krpc.Args{Target: it.Target()}}, addr)
		m, _ := c.call(krpc.Msg{Q: krpc.MethodPut, A: krpc.Args{Token: r.R.Token, Item: it}}, addr)
		return m
	}
	kept := sign(t, newKey(t), "kept", 1, bstr("kept alive by 4 readers"))
	readers := make([]*client, 4)
	for i := range readers {
		readers[i] = newClient(t, fmt.Sprintf("127.0.22.%d", i+1))
		if m := put(readers[i], kept); m.Y != krpc.KindResponse {
			t.Fatalf("reader %d: %+v", i, m)
		}
	}
	key := newKey(t)
	stored := 0
	const flood = 200
	for i := range flood {
		c := newClient(t, netip.AddrFrom4([4]byte{127, 23, byte(i >> 8), byte(i)}).String())
		if m := put(c, sign(t, key, strconv.Itoa(i), 1, bstr(strings.Repeat("x", 996)))); m.Y == krpc.KindResponse {
			stored++
		}
		if i%50 == 49 { // the readers keep their item alive
			for _, r := range readers {
				put(r, kept)
			}
		}
		if st := n.Stats(); st.Items > max || st.ItemBytes > max*(krpc.MaxValueLen+krpc.MaxSaltLen+itemOverhead) {
			t.Fatalf("after %d addresses: %d items, %d bytes", i+1, st.Items, st.ItemBytes)
		}
	}
	st := n.Stats()
	t.Logf("%d addresses put %d items (%d accepted); store: %d items, %d bytes", flood, flood, stored, st.Items, st.ItemBytes)
	if _, ok := n.items.Get(kept.Target(), time.Now()); !ok {
		t.Fatal("the item 4 readers keep putting was evicted")
	}
}
