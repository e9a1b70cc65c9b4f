package dht

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

func host(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
}

// TestItemStoreExpiry: an item lives ttl after its last put; a re-put of
// the same version renews it; expiry gives the creator's share back.
func TestItemStoreExpiry(t *testing.T) {
	s := newItemStore(10, 1, 2*time.Hour)
	key := newKey(t)
	it := sign(t, key, "", 1, "i1e")
	t0 := time.Now()
	if err := s.Put(it, nil, host(1), t0); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Get(it.Target(), t0.Add(2*time.Hour-time.Second)); !ok {
		t.Fatal("gone before its 2 hours")
	}
	if err := s.Put(it, nil, host(2), t0.Add(time.Hour)); err != nil { // a reader's re-put
		t.Fatal(err)
	}
	if _, ok := s.Get(it.Target(), t0.Add(3*time.Hour-time.Second)); !ok {
		t.Fatal("the re-put did not renew it")
	}
	s.Expire(t0.Add(3 * time.Hour))
	if items, bytes, hosts := s.Counts(); items != 0 || bytes != 0 || hosts != 0 {
		t.Fatalf("after expiry: %d items, %d bytes, %d hosts", items, bytes, hosts)
	}
	if err := s.Put(sign(t, key, "other", 1, "i1e"), nil, host(1), t0.Add(3*time.Hour)); err != nil {
		t.Fatalf("host 1 after its item expired: %v", err)
	}
}

// TestItemStoreFlood fills a store from 5,000 hosts, one item each (the
// largest items there are): it never holds more than its bound of items
// and bytes, and the items several hosts keep putting survive the flood,
// while those put once make room. Then one host's flood is held to its
// share.
func TestItemStoreFlood(t *testing.T) {
	s := newItemStore(maxItems, maxItemsPerHost, ItemLifetime)
	key := newKey(t)
	now := time.Now()
	big := bstr(strings.Repeat("v", 995))
	// Two items kept alive by 3 readers each.
	var kept []Item
	for i := range 2 {
		it := sign(t, key, "kept"+strconv.Itoa(i), 1, big)
		for h := range 3 {
			if err := s.Put(it, nil, host(1_000_000+10*i+h), now); err != nil {
				t.Fatal(err)
			}
		}
		kept = append(kept, it)
	}
	// The flood is of 1000-byte immutable items (signing 5,000 mutable
	// ones would only slow the test; the store treats both alike).
	for i := range 5_000 {
		it, err := krpc.NewImmutableItem([]byte(bstr(fmt.Sprintf("%07d", i) + strings.Repeat("v", 989))))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Put(it, nil, host(i), now.Add(time.Duration(i)*time.Millisecond)); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
		if items, bytes, hosts := s.Counts(); items > maxItems || bytes > maxItemBytes || hosts > maxItems {
			t.Fatalf("after %d puts: %d items, %d bytes, %d hosts; bounds %d items, %d bytes", i+1, items, bytes, hosts, maxItems, maxItemBytes)
		}
	}
	for _, it := range kept {
		if _, ok := s.Get(it.Target(), now); !ok {
			t.Fatalf("an item 3 hosts put was evicted by a flood of items put once")
		}
	}
	items, bytes, hosts := s.Counts()
	t.Logf("after 5,000 hosts: %d items, %d bytes counted (bound %d), %d creators", items, bytes, maxItemBytes, hosts)

	// One host: its share, then refusals.
	one := newItemStore(maxItems, maxItemsPerHost, ItemLifetime)
	refused := 0
	for i := range 3 * maxItemsPerHost {
		it, _ := krpc.NewImmutableItem([]byte("i" + strconv.Itoa(i) + "e"))
		if err := one.Put(it, nil, host(7), now); err != nil {
			if err.Code != krpc.CodeGeneric {
				t.Fatalf("refusal %+v", err)
			}
			refused++
		}
	}
	if items, _, _ := one.Counts(); items != maxItemsPerHost || refused != 2*maxItemsPerHost {
		t.Fatalf("one host: %d stored, %d refused", items, refused)
	}
	// An IPv6 host is its /64.
	six := newItemStore(maxItems, 2, ItemLifetime)
	for i := range 4 {
		it, _ := krpc.NewImmutableItem([]byte("i" + strconv.Itoa(i) + "e"))
		a := netip.AddrFrom16([16]byte{0: 0x20, 1: 0x01, 15: byte(i)})
		six.Put(it, nil, a, now)
	}
	if items, _, _ := six.Counts(); items != 2 {
		t.Fatalf("4 addresses of one /64: %d items stored, want 2", items)
	}
}

// TestItemStoreKinds: an immutable item never replaces a mutable one
// under the same target, nor the reverse.
func TestItemStoreKinds(t *testing.T) {
	s := newItemStore(10, 10, ItemLifetime)
	imm, _ := krpc.NewImmutableItem([]byte("i1e"))
	now := time.Now()
	s.Put(imm, nil, host(1), now)
	// A mutable item cannot be made to hash to the same target, so the
	// entry is forged in the store to check the rule.
	mut := sign(t, newKey(t), "", 1, "i1e")
	e := &storedItem{target: mut.Target(), item: imm, putters: []netip.Addr{host(1)}, last: now}
	e.elem = s.byPutters[1].PushBack(e)
	s.items[mut.Target()] = e
	if err := s.Put(mut, nil, host(1), now); err == nil || err.Code != krpc.CodeGeneric {
		t.Fatalf("mutable over immutable: %v", err)
	}
}
