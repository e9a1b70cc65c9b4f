package utp

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"
)

// failSegments is a Transport whose segmented sends always fail.
type failSegments struct {
	Transport
	calls int
}

func (f *failSegments) WriteSegments([]byte, int, netip.AddrPort) error {
	f.calls++
	return errors.New("no segmentation here")
}

// dialPair connects a to b and returns both ends.
func dialPair(t testing.TB, a, b *Socket, addr netip.AddrPort) (*Conn, *Conn) {
	accepted := make(chan *Conn, 1)
	go func() {
		if c, err := b.AcceptUTP(); err == nil {
			accepted <- c
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := a.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case server := <-accepted:
		t.Cleanup(func() { client.Close(); server.Close() })
		return client, server
	case <-time.After(10 * time.Second):
		t.Fatal("no connection accepted")
	}
	return nil, nil
}

// TestSegmentedSends moves data over loopback through udpmux, whose
// segmented sends (UDP GSO on Linux) carry most packets: every byte
// arrives, each segment as a packet of its own.
func TestSegmentedSends(t *testing.T) {
	a, _ := benchSocket(t)
	b, addr := benchSocket(t)
	if a.seg == nil {
		t.Log("no segmented sends on this system: packet by packet")
	}
	client, server := dialPair(t, a, b, addr)
	data := pattern(8<<20, 41)
	go sendAll(client, data, 41)
	expect(t, server, data, 30*time.Second)
	client.mu.Lock()
	broken, sent := client.batch.broken, client.st.PacketsSent
	client.mu.Unlock()
	if broken {
		t.Fatal("segmented sends failed on loopback")
	}
	if in := b.Stats().PacketsIn; in+in/10 < uint64(sent) {
		t.Fatalf("%d packets received for %d sent", in, sent)
	}
}

// TestSegmentedSendFails: when segmented sends fail, the batch goes out
// packet by packet and the connection stops trying.
func TestSegmentedSendFails(t *testing.T) {
	a, _ := benchSocket(t)
	f := &failSegments{Transport: a.tr}
	a.tr, a.seg = f, f
	b, addr := benchSocket(t)
	client, server := dialPair(t, a, b, addr)
	data := pattern(2<<20, 42)
	go sendAll(client, data, 42)
	expect(t, server, data, 30*time.Second)
	client.mu.Lock()
	broken, calls := client.batch.broken, f.calls
	client.mu.Unlock()
	if !broken || calls != 1 {
		t.Fatalf("broken %v after %d failed segmented sends", broken, calls)
	}
}
