package dht

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestLibtorrentItems exchanges BEP 44 items with a DHT of 8 libtorrent
// nodes (each on its own loopback address, bootstrapping from ours):
//   - libtorrent nodes store the immutable and the mutable item (BEP 46
//     value, with salt) we put, and return them to a get;
//   - libtorrent's own lookups (dht_get_immutable_item and
//     dht_get_mutable_item) read them back: the immutable value, the
//     mutable item with our seq, salt and signature (libtorrent checks
//     it);
//   - we read the items libtorrent puts (an immutable one, and a mutable
//     one libtorrent signed), from the libtorrent nodes;
//   - we read a BEP 46 {ih: ...} item another publisher put on the
//     libtorrent nodes only: a raw BEP 44 client (testdata/bep44put.py)
//     that signs with python3-cryptography.
func TestLibtorrentItems(t *testing.T) {
	testpeers.RequireLibtorrent(t)
	n, addr := startNode(t, "127.0.0.1", 0, Config{QueryTimeout: time.Second, MaintenanceInterval: time.Second})

	// Our items.
	ourKey := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x51}, ed25519.SeedSize))
	ourSalt := []byte("swarmdrop folder")
	ourIH := randomID()
	ourMut, err := krpc.SignItem(ourKey, ourSalt, 7, krpc.InfoHashValue(ourIH))
	if err != nil {
		t.Fatal(err)
	}
	ourImm, _ := krpc.NewImmutableItem([]byte(bstr("an immutable item from Swarmdrop")))
	// libtorrent's items: a string, immutable, and a string under a key
	// libtorrent signs with.
	ltSeed := bytes.Repeat([]byte{0x4c}, ed25519.SeedSize)
	ltKey := ed25519.NewKeyFromSeed(ltSeed)
	ltSalt := []byte("lt")
	ltImmText, ltMutText := "libtorrent immutable", "libtorrent mutable"

	const count = 8
	type ltNode struct {
		proc *testpeers.Proc
		addr netip.AddrPort
	}
	lts := make([]ltNode, count)
	for i := range lts {
		ip := fmt.Sprintf("127.0.0.%d", 31+i)
		port := testpeers.FreePort(t, ip)
		args := []string{"dht", "--ip", ip, "--port", strconv.Itoa(port), "--bootstrap", addr.String(), "--seconds", "120"}
		switch i {
		case 0:
			args = append(args, "--put-immutable", ltImmText, "--put-mutable", ltMutText,
				"--key", hex.EncodeToString(ltSeed), "--salt", hex.EncodeToString(ltSalt), "--put-delay", "6")
		case count - 1:
			immTarget := ourImm.Target()
			args = append(args, "--get-immutable", hex.EncodeToString(immTarget[:]),
				"--get-mutable", hex.EncodeToString(ourMut.Key[:]), "--salt", hex.EncodeToString(ourSalt))
		}
		lts[i] = ltNode{testpeers.StartLT(t, args...), netip.AddrPortFrom(netip.MustParseAddr(ip), uint16(port))}
	}
	for i := range lts {
		lts[i].proc.Port(t)
	}
	var mu sync.Mutex
	nodes := make([]int, count)
	lines := map[string][]string{} // by first word, from every node
	var wg sync.WaitGroup
	for i, lt := range lts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for line := range lt.proc.Lines {
				mu.Lock()
				if v, ok := strings.CutPrefix(line, "NODES "); ok {
					nodes[i], _ = strconv.Atoi(v)
				} else if f := strings.Fields(line); len(f) > 0 {
					lines[f[0]] = append(lines[f[0]], line)
				}
				mu.Unlock()
			}
		}()
	}
	defer func() {
		for _, lt := range lts {
			lt.proc.Cmd.Process.Kill()
		}
		wg.Wait()
	}()
	waitFor(t, "every libtorrent node to know 3 others", 30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.Min(nodes) >= 3
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// We put; the libtorrent nodes store and return our items.
	for _, it := range []Item{ourImm, ourMut} {
		res, err := n.Put(ctx, it, PutOptions{})
		t.Logf("our put (mutable %v): %d answered, %d stored, refused %v, %v", it.Mutable, res.Answered, res.Stored, res.Refused, err)
		if err != nil || res.Stored < count/2 {
			t.Fatalf("our put (mutable %v): stored on %d nodes, %v", it.Mutable, res.Stored, err)
		}
		returned := 0
		for _, lt := range lts {
			c := newClient(t, "127.0.0.2")
			r, _ := c.call(krpc.Msg{Q: krpc.MethodGet, A: krpc.Args{Target: it.Target()}}, lt.addr)
			got := r.R.Item
			got.Salt = it.Salt
			if got.Same(it) && got.Verify() == nil {
				returned++
			}
		}
		t.Logf("%d of %d libtorrent nodes return the item", returned, count)
		if returned < res.Stored {
			t.Fatalf("%d libtorrent nodes stored the item, %d return it", res.Stored, returned)
		}
	}

	// libtorrent's lookups read them back.
	wantImm := "ITEM " + hexID(ourImm.Target()) + " " + hex.EncodeToString(ourImm.V)
	// (libtorrent 2.0.8's Python binding cannot show a dictionary value:
	// "-". libtorrent reports an item only once the signature it checked
	// holds for the value it received, and the signature is ours.)
	wantMut := fmt.Sprintf("MUTABLE %x %x %d %x -", ourMut.Key, ourSalt, ourMut.Seq, ourMut.Sig)
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		ok := slices.Contains(lines["ITEM"], wantImm) && slices.Contains(lines["MUTABLE"], wantMut)
		got := slices.Concat(lines["ITEM"], lines["MUTABLE"])
		mu.Unlock()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("libtorrent did not read our items:\n%s\nwant %s\nand  %s\nlibtorrent's stderr: %s",
				strings.Join(got, "\n"), wantImm, wantMut, lts[count-1].proc.Stderr())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("libtorrent read our items: %q and %q", wantImm, wantMut)

	// We read libtorrent's items, from the libtorrent nodes.
	waitFor(t, "libtorrent's puts", 30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(lines["PUT"]) > 0 && len(lines["PUTMUT"]) > 0
	})
	mu.Lock()
	t.Logf("libtorrent's puts: %v %v", lines["PUT"], lines["PUTMUT"])
	mu.Unlock()
	ltImm := krpc.ImmutableTarget([]byte(bstr(ltImmText)))
	res, err := n.Get(ctx, ltImm, GetOptions{})
	t.Logf("our get of libtorrent's immutable item: %q, %d copies (local %v), %v", res.Item.V, res.Copies, res.Local, err)
	if err != nil || string(res.Item.V) != bstr(ltImmText) || res.Copies-local(res) < 1 {
		t.Fatalf("our get of libtorrent's immutable item: %+v, %v", res, err)
	}
	var ltPub [krpc.KeyLen]byte
	copy(ltPub[:], ltKey.Public().(ed25519.PublicKey))
	res, err = n.Get(ctx, krpc.MutableTarget(ltPub, ltSalt), GetOptions{Salt: ltSalt})
	t.Logf("our get of libtorrent's mutable item: %q seq %d, %d copies (local %v), %v", res.Item.V, res.Item.Seq, res.Copies, res.Local, err)
	if err != nil || string(res.Item.V) != bstr(ltMutText) || res.Item.Seq != 1 || res.Item.Key != ltPub ||
		res.Copies-local(res) < 1 || res.Invalid != 0 {
		t.Fatalf("our get of libtorrent's mutable item: %+v, %v", res, err)
	}

	// Another publisher's BEP 46 item, on the libtorrent nodes only.
	pyIH := randomID()
	pySeed := bytes.Repeat([]byte{0x70}, ed25519.SeedSize)
	pySalt := []byte("bep46")
	var addrs []string
	for _, lt := range lts {
		addrs = append(addrs, lt.addr.String())
	}
	out, err := exec.CommandContext(ctx, testpeers.Python, "testdata/bep44put.py", "--ip", "127.0.0.3",
		"--nodes", strings.Join(addrs, ","), "--seed", hex.EncodeToString(pySeed), "--salt", hex.EncodeToString(pySalt),
		"--seq", "3", "--value", hex.EncodeToString(krpc.InfoHashValue(pyIH))).CombinedOutput()
	t.Logf("bep44put.py:\n%s", out)
	if err != nil || bytes.Count(out, []byte("STORED")) < count/2 {
		t.Fatalf("the raw client's put: %v", err)
	}
	var pyPub [krpc.KeyLen]byte
	copy(pyPub[:], ed25519.NewKeyFromSeed(pySeed).Public().(ed25519.PublicKey))
	res, err = n.Get(ctx, krpc.MutableTarget(pyPub, pySalt), GetOptions{Salt: pySalt})
	if err != nil || res.Local || res.Item.Seq != 3 {
		t.Fatalf("our get of the raw client's item: %+v, %v", res, err)
	}
	ih, err := krpc.ParseInfoHashValue(res.Item.V)
	t.Logf("our get of the raw client's BEP 46 item: ih %x, seq %d, %d copies", ih, res.Item.Seq, res.Copies)
	if err != nil || ih != pyIH {
		t.Fatalf("the BEP 46 value read: %x, %v; want %x", ih, err, pyIH)
	}
	st := n.Stats()
	t.Logf("our node: %d items stored (%d bytes), %d get replies without their item, %d incoming queries",
		st.Items, st.ItemBytes, st.ItemsWithheld, st.IncomingQueries)
}

func hexID(id ID) string { return hex.EncodeToString(id[:]) }

// local is 1 if our own store held the item found.
func local(r GetResult) int {
	if r.Local {
		return 1
	}
	return 0
}

// TestLibtorrentUsesOurStore: a libtorrent node whose only DHT is 4 of
// our nodes puts its items there (our nodes answer libtorrent's get and
// put: they store an immutable item and a mutable one libtorrent signed)
// and reads from them the BEP 46 item we put (our get replies to
// libtorrent's unpadded gets carry it, as libtorrent is verified).
func TestLibtorrentUsesOurStore(t *testing.T) {
	testpeers.RequireLibtorrent(t)
	cfg := Config{QueryTimeout: time.Second, MaintenanceInterval: time.Second}
	ours := make([]*Node, 4)
	var first netip.AddrPort
	for i := range ours {
		c := cfg
		if i > 0 {
			c.Bootstrap = []string{first.String()}
		}
		var a netip.AddrPort
		ours[i], a = startNode(t, fmt.Sprintf("127.0.24.%d", i+1), 0, c)
		if i == 0 {
			first = a
		}
	}
	waitFor(t, "our nodes to know each other", 10*time.Second, func() bool {
		for _, n := range ours {
			if n.Stats().Good < len(ours)-1 {
				return false
			}
		}
		return true
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x24}, ed25519.SeedSize))
	salt := []byte("for libtorrent")
	it, _ := krpc.SignItem(key, salt, 5, krpc.InfoHashValue(randomID()))
	if res, err := ours[1].Put(ctx, it, PutOptions{}); err != nil || res.Stored < 2 {
		t.Fatalf("our put: %+v, %v", res, err)
	}

	ltSeed := bytes.Repeat([]byte{0x25}, ed25519.SeedSize)
	ltSalt := []byte("lt salt")
	ip := "127.0.0.39"
	port := testpeers.FreePort(t, ip)
	lt := testpeers.StartLT(t, "dht", "--ip", ip, "--port", strconv.Itoa(port), "--bootstrap", first.String(), "--seconds", "60",
		"--put-immutable", "libtorrent's item", "--put-mutable", "libtorrent's version", "--key", hex.EncodeToString(ltSeed),
		"--salt", hex.EncodeToString(ltSalt), "--put-delay", "4",
		"--get-mutable", hex.EncodeToString(it.Key[:]), "--get-salt", hex.EncodeToString(salt))
	lt.Port(t)
	wantRead := fmt.Sprintf("MUTABLE %x %x %d %x -", it.Key, salt, it.Seq, it.Sig)
	ltImm := krpc.ImmutableTarget([]byte(bstr("libtorrent's item")))
	var ltPub [krpc.KeyLen]byte
	copy(ltPub[:], ed25519.NewKeyFromSeed(ltSeed).Public().(ed25519.PublicKey))
	wantPut, wantPutMut := "PUT "+hexID(ltImm)+" ", fmt.Sprintf("PUTMUT %x %x 1 ", ltPub, ltSalt)
	var got []string
	deadline := time.After(40 * time.Second)
	for !(hasPrefix(got, wantPut) && hasPrefix(got, wantPutMut) && slices.Contains(got, wantRead)) {
		select {
		case l, ok := <-lt.Lines:
			if !ok {
				t.Fatalf("libtorrent ended: %s", lt.Stderr())
			}
			if !strings.HasPrefix(l, "NODES") {
				got = append(got, l)
			}
		case <-deadline:
			t.Fatalf("libtorrent did not end its puts (%q, %q) or read %q: %v", wantPut, wantPutMut, wantRead, got)
		}
	}
	t.Logf("libtorrent: %v", got)
	// Our nodes hold libtorrent's items.
	imm, mut := 0, 0
	for _, n := range ours {
		if x, ok := n.items.Get(ltImm, time.Now()); ok && !x.Mutable {
			imm++
		}
		if x, ok := n.items.Get(krpc.MutableTarget(ltPub, ltSalt), time.Now()); ok {
			if x.Verify() != nil || string(x.V) != bstr("libtorrent's version") || x.Seq != 1 || x.Key != ltPub {
				t.Fatalf("libtorrent's mutable item as stored: %+v", x)
			}
			mut++
		}
	}
	t.Logf("libtorrent's items are stored on %d (immutable) and %d (mutable) of our %d nodes", imm, mut, len(ours))
	if imm == 0 || mut == 0 {
		t.Fatalf("libtorrent's items on %d and %d of our nodes", imm, mut)
	}
}

func hasPrefix(lines []string, p string) bool {
	return slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, p) })
}
