package engine

import (
	"context"
	"crypto/ed25519"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht"
	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
	"github.com/swarmdrop/swarmdrop/engine/publish"
)

// itemLiar is a hostile DHT node on loopback that answers every get with
// the item it is told to send, whatever the query asked. It is a fake
// because no real DHT software sends forged or stale items on purpose;
// libtorrent nodes refuse to store them in the first place.
type itemLiar struct {
	conn *net.UDPConn
	// mu guards item and gets.
	mu   sync.Mutex
	item krpc.Item
	gets int
}

func startItemLiar(t *testing.T) *itemLiar {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 48)})
	if err != nil {
		t.Fatal(err)
	}
	l := &itemLiar{conn: c}
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.serve()
	}()
	t.Cleanup(func() {
		c.Close()
		<-done
	})
	return l
}

func (l *itemLiar) set(it krpc.Item) {
	l.mu.Lock()
	l.item = it
	l.mu.Unlock()
}

func (l *itemLiar) serve() {
	id := krpc.ID{0xaa, 0xbb}
	buf := make([]byte, 2048)
	for {
		n, from, err := l.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		q, err := krpc.Decode(buf[:n])
		if err != nil || q.Y != krpc.KindQuery {
			continue
		}
		r := krpc.Msg{T: q.T, Y: krpc.KindResponse, R: krpc.Reply{ID: id}}
		if q.Q == krpc.MethodGet {
			l.mu.Lock()
			r.R.Item, r.R.Token = l.item, []byte("tok")
			l.gets++
			l.mu.Unlock()
		}
		l.conn.WriteToUDP(r.Encode(), from)
	}
}

// TestPublicationHostileItems: a follower whose only DHT contact sends
// forged and stale items of the publication never takes them for a
// version: a value changed under the signature, a flipped signature, an
// item signed by another key, and a validly signed version no newer than
// the follower's are all refused; a newer, valid one is taken.
func TestPublicationHostileItems(t *testing.T) {
	liar := startItemLiar(t)
	fol := testEngine(t, Config{StateDir: t.TempDir(), Bootstrap: []string{liar.conn.LocalAddr().String()}})
	_, key, _ := ed25519.GenerateKey(nil)
	_, other, _ := ed25519.GenerateKey(nil)
	salt := []byte("s")
	link := publish.Link(key, salt, "s")
	sign := func(k ed25519.PrivateKey, seq int64, ih byte) krpc.Item {
		it, err := krpc.SignItem(k, salt, seq, krpc.InfoHashValue([20]byte{ih}))
		if err != nil {
			t.Fatal(err)
		}
		it.Salt = nil // nodes do not send it
		return it
	}
	changed := sign(key, 9, 1)
	changed.V = krpc.InfoHashValue([20]byte{66})
	flipped := sign(key, 9, 1)
	flipped.Sig[10] ^= 0x40
	foreign := sign(other, 9, 1)
	foreign.Key = link.PublicKey // claims our key, signed by another

	lookup := func(after int64) (publish.Version, dht.GetResult, error) {
		deadline := time.Now().Add(20 * time.Second)
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			v, res, err := fol.LatestVersion(ctx, link, after)
			cancel()
			// Until the DHT has started and met the liar, the lookup
			// fails for want of nodes.
			if res.Answered > 0 || err == nil || time.Now().After(deadline) {
				return v, res, err
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	for _, c := range []struct {
		name  string
		it    krpc.Item
		after int64
	}{
		{"value changed", changed, publish.NoVersion},
		{"signature flipped", flipped, publish.NoVersion},
		{"another key's signature", foreign, publish.NoVersion},
		{"same seq", sign(key, 4, 1), 4},
		{"lower seq", sign(key, 3, 1), 4},
	} {
		liar.set(c.it)
		v, res, err := lookup(c.after)
		if !errors.Is(err, dht.ErrItemNotFound) {
			t.Errorf("%s: version %+v, error %v; want ErrItemNotFound", c.name, v, err)
		}
		if res.Answered == 0 {
			t.Errorf("%s: the liar was never asked", c.name)
		}
		if c.after == publish.NoVersion && res.Invalid == 0 {
			t.Errorf("%s: not counted invalid: %+v", c.name, res)
		}
	}
	liar.set(sign(key, 5, 7))
	v, _, err := lookup(4)
	if err != nil || v.Seq != 5 || v.InfoHash[0] != 7 {
		t.Fatalf("a newer valid version: %+v, %v", v, err)
	}
	liar.mu.Lock()
	gets := liar.gets
	liar.mu.Unlock()
	if gets < 6 {
		t.Fatalf("the liar answered %d gets, want one per lookup at least", gets)
	}
}
