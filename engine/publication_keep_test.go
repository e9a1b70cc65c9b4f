package engine

import (
	"context"
	"crypto/ed25519"
	"sync"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht"
	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// keepPuts runs KeepItemAlive for d and returns the results it reported.
func keepPuts(e *Engine, it dht.Item, d, first, interval, retry time.Duration) (ok, failed int) {
	var mu sync.Mutex
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	e.KeepItemAlive(ctx, it, first, interval, retry, 5*time.Second, func(_ dht.PutResult, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failed++
		} else {
			ok++
		}
	})
	mu.Lock()
	defer mu.Unlock()
	return ok, failed
}

// TestKeepItemAlive: an item is put at once and then every interval to a
// libtorrent DHT node; without a DHT, failed puts are retried after
// retry, doubling, no more often.
func TestKeepItemAlive(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	it, err := krpc.SignItem(key, []byte("k"), 1, krpc.InfoHashValue([20]byte{5}))
	if err != nil {
		t.Fatal(err)
	}
	router := startLTNode(t, "127.0.0.56")
	e := testEngine(t, Config{Bootstrap: []string{router}})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) { // until the DHT has joined
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := e.PutItem(ctx, it, dht.PutOptions{})
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no put stored within 30 s: %v", err)
		}
	}
	ok, failed := keepPuts(e, it, 2500*time.Millisecond, 0, 500*time.Millisecond, 100*time.Millisecond)
	if ok < 3 || ok > 6 {
		t.Fatalf("%d puts stored (%d failed) in 2.5 s at 0, then every 0.5 s", ok, failed)
	}

	off := testEngine(t, Config{NoDHT: true})
	ok, failed = keepPuts(off, it, 1600*time.Millisecond, 0, time.Hour, 100*time.Millisecond)
	// Tries at 0, 0.1, 0.3, 0.7 and 1.5 s: five, give or take one for a
	// slow machine.
	if ok != 0 || failed < 3 || failed > 5 {
		t.Fatalf("without a DHT: %d stored, %d failed in 1.6 s, want about 5 failures", ok, failed)
	}
}
