package dht

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// TestGetPut runs Get and Put between our own nodes (24 on an in-memory
// network): a publisher puts a BEP 46 item; a reader with nothing stored
// gets it from the others, checked, and puts it again (as a reader keeps
// an item alive); a new version is found with MinSeq, and a MinSeq above
// it finds nothing; an old version is refused (302) by the nodes that
// hold the newer one, which is reported; a put with a stale CAS is
// refused (301) by those that hold a version, with the right one it is
// stored; an immutable item goes and comes back.
func TestGetPut(t *testing.T) {
	nodes := startSim(t, 24)
	pub := nodes[3].n
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	key := newKey(t)
	salt := []byte("my folder")
	v1, err := krpc.SignItem(key, salt, 1, krpc.InfoHashValue(randomID()))
	if err != nil {
		t.Fatal(err)
	}
	target := v1.Target()
	pr, err := pub.Put(ctx, v1, PutOptions{})
	t.Logf("put of version 1: %+v, %v", pr, err)
	if err != nil || pr.Stored < K/2 || pr.Newer.V != nil {
		t.Fatalf("put of version 1: %+v, %v", pr, err)
	}
	var reader *Node // a node the put did not reach
	for _, sn := range nodes[4:] {
		if _, ok := sn.n.items.Get(target, time.Now()); !ok {
			reader = sn.n
			break
		}
	}

	gr, err := reader.Get(ctx, target, GetOptions{Salt: salt})
	t.Logf("get: seq %d, %d copies, %d older, %d invalid, local %v, %d answered", gr.Item.Seq, gr.Copies, gr.Older, gr.Invalid, gr.Local, gr.Answered)
	if err != nil || !gr.Item.Same(v1) || gr.Local || gr.Copies < K/2 || gr.Invalid != 0 {
		t.Fatalf("reader's get: %+v, %v", gr, err)
	}
	if ih, err := krpc.ParseInfoHashValue(gr.Item.V); err != nil || krpc.InfoHashValue(ih) == nil {
		t.Fatalf("the value read: %v", err)
	}
	if _, err := reader.Get(ctx, target, GetOptions{}); !errors.Is(err, ErrItemNotFound) {
		t.Fatalf("get without the salt (signatures fail): %v", err)
	}
	rr, err := reader.Put(ctx, gr.Item, PutOptions{})
	if err != nil || rr.Stored == 0 {
		t.Fatalf("the reader's re-put: %+v, %v", rr, err)
	}
	if gr, err := reader.Get(ctx, target, GetOptions{Salt: salt}); err != nil || !gr.Local {
		t.Fatalf("after its re-put the reader holds the item itself: %+v, %v", gr, err)
	}

	v2, _ := krpc.SignItem(key, salt, 2, krpc.InfoHashValue(randomID()))
	if pr, err := pub.Put(ctx, v2, PutOptions{}); err != nil || pr.Stored == 0 {
		t.Fatalf("put of version 2: %+v, %v", pr, err)
	}
	gr, err = nodes[9].n.Get(ctx, target, GetOptions{Salt: salt, MinSeq: 2})
	if err != nil || !gr.Item.Same(v2) {
		t.Fatalf("get of version 2 or later: %+v, %v", gr, err)
	}
	gr, err = nodes[9].n.Get(ctx, target, GetOptions{Salt: salt, MinSeq: 3})
	t.Logf("get of version 3 or later: %d older, %v", gr.Older, err)
	if !errors.Is(err, ErrItemNotFound) || gr.Older == 0 || gr.Item.V != nil {
		t.Fatalf("get of version 3 or later: %+v, %v", gr, err)
	}

	// (Nodes that hold no version, close to the target from where the
	// putter stands but not reached by the put of version 2, may take an
	// old version: refusals are counted, not all guaranteed.)
	pr, err = nodes[20].n.Put(ctx, v1, PutOptions{})
	var kerr krpc.Error
	t.Logf("re-put of version 1: %d stored, refused %v, %v", pr.Stored, pr.Refused, err)
	if pr.Refused[krpc.CodeSeqTooLow] == 0 || !pr.Newer.Same(v2) ||
		err != nil && !(errors.Is(err, ErrNotStored) && errors.As(err, &kerr) && kerr.Code == krpc.CodeSeqTooLow) {
		t.Fatalf("re-put of version 1 after 2: %+v, %v", pr, err)
	}

	v3, _ := krpc.SignItem(key, salt, 3, krpc.InfoHashValue(randomID()))
	pr, err = pub.Put(ctx, v3, PutOptions{CAS: int64p(1)})
	t.Logf("put with cas 1 over version 2: %d stored, refused %v, %v", pr.Stored, pr.Refused, err)
	if pr.Refused[krpc.CodeCASMismatch] == 0 {
		t.Fatalf("put with cas 1 over version 2: %+v, %v", pr, err)
	}
	if pr, err := pub.Put(ctx, v3, PutOptions{CAS: int64p(2)}); err != nil || pr.Stored == 0 {
		t.Fatalf("put with cas 2: %+v, %v", pr, err)
	}

	imm, _ := krpc.NewImmutableItem([]byte("d5:hello5:worlde"))
	if pr, err := pub.Put(ctx, imm, PutOptions{}); err != nil || pr.Stored == 0 {
		t.Fatalf("immutable put: %+v, %v", pr, err)
	}
	gr, err = reader.Get(ctx, imm.Target(), GetOptions{})
	if err != nil || !gr.Item.Same(imm) || gr.Copies == 0 {
		t.Fatalf("immutable get: %+v, %v", gr, err)
	}
	if _, err := reader.Get(ctx, randomID(), GetOptions{}); !errors.Is(err, ErrItemNotFound) {
		t.Fatalf("get of nothing: %v", err)
	}
	if _, err := pub.Put(ctx, Item{V: []byte("not bencode")}, PutOptions{}); !errors.Is(err, krpc.ErrBadValue) {
		t.Fatalf("put of a bad item: %v", err)
	}
}

// TestItemSearchChecks: the replies a lookup gathers are checked: an
// item for another target, a forged signature or a value that is not
// bencode is counted as invalid and never returned, even with a higher
// seq; the highest valid seq wins, and the copies of each are counted.
func TestItemSearchChecks(t *testing.T) {
	key := newKey(t)
	v1, v2 := sign(t, key, "s", 1, "i1e"), sign(t, key, "s", 2, "i2e")
	s := newItemSearch(v1.Target(), []byte("s"), 0)
	forged := v2
	forged.Seq, forged.V = 9, []byte("i9e")
	other := sign(t, newKey(t), "s", 5, "i5e")
	noSalt := sign(t, key, "", 7, "i7e")
	bad := v2
	bad.V = []byte("i02e")
	strip := func(it Item) krpc.Reply { it.Salt = nil; return krpc.Reply{Item: it} }
	for _, r := range []krpc.Reply{strip(v1), strip(forged), strip(other), strip(noSalt), strip(bad), strip(v2), strip(v1), strip(v2), {Seq: int64p(1)}, {}} {
		s.add(r)
	}
	var res GetResult
	if !s.result(&res) || !res.Item.Same(v2) || res.Copies != 2 || res.Older != 3 || res.Invalid != 4 {
		t.Fatalf("got %+v, want version 2 with 2 copies, 3 older, 4 invalid", res)
	}
}

// TestDualStackItems: items cross families through a dual-stack node
// (BEP 32): the IPv4 node's put reaches it, the IPv6 node's get finds the
// item there; the dual-stack node's put is stored in both families.
func TestDualStackItems(t *testing.T) {
	dual, daddr := startNode(t, "::", 0, fast)
	c := fast
	c.Bootstrap = []string{netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), daddr.Port()).String()}
	v4, _ := startNode(t, "127.0.25.1", 0, c)
	c.Bootstrap = []string{netip.AddrPortFrom(netip.IPv6Loopback(), daddr.Port()).String()}
	v6, _ := startNode(t, "::1", 0, c)
	waitFor(t, "both tables of the dual-stack node", 5*time.Second, func() bool {
		st := dual.Stats()
		return st.IPv4.Good > 0 && st.IPv6.Good > 0 && v4.Stats().Good > 0 && v6.Stats().Good > 0
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	key := newKey(t)
	it := sign(t, key, "dual", 1, string(krpc.InfoHashValue(randomID())))
	if res, err := v4.Put(ctx, it, PutOptions{}); err != nil || res.Stored != 1 {
		t.Fatalf("IPv4 put: %+v, %v", res, err)
	}
	res, err := v6.Get(ctx, it.Target(), GetOptions{Salt: []byte("dual")})
	if err != nil || !res.Item.Same(it) || res.Local {
		t.Fatalf("IPv6 get: %+v, %v", res, err)
	}
	both := sign(t, key, "both", 1, "i1e")
	if res, err := dual.Put(ctx, both, PutOptions{}); err != nil || res.Stored != 2 {
		t.Fatalf("dual-stack put: %+v, %v", res, err)
	}
	for _, n := range []*Node{v4, v6} {
		if _, ok := n.items.Get(both.Target(), time.Now()); !ok {
			t.Fatalf("the dual-stack node's put did not reach %v", n.Stats().Addr)
		}
	}
}
