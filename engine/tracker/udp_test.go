package tracker

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// udpTracker is a scripted UDP tracker on 127.0.0.1. answer returns the
// packets to send back to one request.
type udpTracker struct {
	conn     *net.UDPConn
	connects atomic.Int32
	announce atomic.Int32
	lastReq  atomic.Pointer[[]byte]
}

const testConnID = 0x1122334455667788

func startUDPTracker(t *testing.T, answer func(tr *udpTracker, req []byte) [][]byte) (*udpTracker, string) {
	t.Helper()
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	tr := &udpTracker{conn: conn}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			n, from, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			req := slices.Clone(buf[:n])
			if len(req) == 16 {
				tr.connects.Add(1)
			} else {
				tr.announce.Add(1)
				tr.lastReq.Store(&req)
			}
			for _, p := range answer(tr, req) {
				conn.WriteToUDPAddrPort(p, from)
			}
		}
	}()
	t.Cleanup(func() {
		conn.Close()
		<-done
	})
	return tr, fmt.Sprintf("udp://%s/announce", conn.LocalAddr())
}

func header(action, tid uint32) []byte {
	return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, action), tid)
}

// honest answers as BEP 15 says, with one peer, 127.0.0.1:6881.
func honest(tr *udpTracker, req []byte) [][]byte {
	tid := binary.BigEndian.Uint32(req[12:])
	if len(req) == 16 {
		if binary.BigEndian.Uint64(req) != udpProtocolID {
			return nil
		}
		return [][]byte{binary.BigEndian.AppendUint64(header(0, tid), testConnID)}
	}
	if len(req) != 98 || binary.BigEndian.Uint64(req) != testConnID {
		return [][]byte{append(header(3, tid), "bad connection id"...)}
	}
	b := header(1, tid)
	b = binary.BigEndian.AppendUint32(b, 1800)
	b = binary.BigEndian.AppendUint32(b, 4)
	b = binary.BigEndian.AppendUint32(b, 9)
	return [][]byte{append(b, 127, 0, 0, 1, 0x1a, 0xe1)}
}

func udpAnnounce(t *testing.T, c *Client, u string, req Request) (*Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.Announce(ctx, u, req)
}

func fastUDPClient(t *testing.T) *Client {
	return NewClient(ClientConfig{Logf: t.Logf, UDPTimeout: 100 * time.Millisecond, UDPAttempts: 2})
}

func TestUDPAnnounce(t *testing.T) {
	tr, u := startUDPTracker(t, honest)
	c := fastUDPClient(t)
	req := Request{InfoHash: hashOf("infohash"), PeerID: hashOf("peer"), Port: 51413, Downloaded: 1, Left: 2, Uploaded: 3, Event: Started, Key: 77, NumWant: 5}
	resp, err := udpAnnounce(t, c, u, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Interval != 30*time.Minute || resp.Leechers != 4 || resp.Seeders != 9 || !slices.Equal(resp.Peers, []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:6881")}) {
		t.Errorf("response %+v", *resp)
	}
	b := *tr.lastReq.Load()
	if !slices.Equal(b[16:36], req.InfoHash[:]) || !slices.Equal(b[36:56], req.PeerID[:]) {
		t.Error("hashes not sent")
	}
	be := binary.BigEndian
	if be.Uint64(b[56:]) != 1 || be.Uint64(b[64:]) != 2 || be.Uint64(b[72:]) != 3 || be.Uint32(b[80:]) != 2 ||
		be.Uint32(b[88:]) != 77 || be.Uint32(b[92:]) != 5 || be.Uint16(b[96:]) != 51413 {
		t.Errorf("announce fields wrong: % x", b)
	}
	// The connection ID is reused within its minute.
	req.Event, req.NumWant = None, 0
	if _, err := udpAnnounce(t, c, u, req); err != nil {
		t.Fatal(err)
	}
	if n := tr.connects.Load(); n != 1 {
		t.Errorf("%d connects, want 1", n)
	}
	if nw := int32(be.Uint32((*tr.lastReq.Load())[92:])); nw != -1 {
		t.Errorf("num_want %d, want -1", nw)
	}
	// An expired ID is not.
	c.mu.Lock()
	for k, v := range c.connIDs {
		v.expires = time.Now().Add(-time.Second)
		c.connIDs[k] = v
	}
	c.mu.Unlock()
	if _, err := udpAnnounce(t, c, u, req); err != nil {
		t.Fatal(err)
	}
	if n := tr.connects.Load(); n != 2 {
		t.Errorf("%d connects, want 2", n)
	}
}

func TestUDPHostile(t *testing.T) {
	wrongTID := func(tr *udpTracker, req []byte) [][]byte {
		out := honest(tr, req)
		for _, p := range out {
			p[4] ^= 0xff
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		answer  func(*udpTracker, []byte) [][]byte
		failure string // FailureError text wanted
		noReply bool   // the error wanted is "no answer"
	}{
		{name: "wrong transaction id", answer: wrongTID, noReply: true},
		{name: "silent", answer: func(*udpTracker, []byte) [][]byte { return nil }, noReply: true},
		{name: "wrong tid then right", answer: func(tr *udpTracker, req []byte) [][]byte {
			return append(wrongTID(tr, slices.Clone(req)), honest(tr, req)...)
		}},
		{name: "short packets then right", answer: func(tr *udpTracker, req []byte) [][]byte {
			ok := honest(tr, req)
			return [][]byte{{1, 2, 3}, ok[0][:8], ok[0][:12], ok[0]}
		}},
		{name: "unknown action then right", answer: func(tr *udpTracker, req []byte) [][]byte {
			return [][]byte{header(7, binary.BigEndian.Uint32(req[12:])), honest(tr, req)[0]}
		}},
		{name: "error on connect", answer: func(tr *udpTracker, req []byte) [][]byte {
			return [][]byte{append(header(3, binary.BigEndian.Uint32(req[12:])), "go away\x00"...)}
		}, failure: "go away"},
		{name: "error on announce", answer: func(tr *udpTracker, req []byte) [][]byte {
			if len(req) == 16 {
				return honest(tr, req)
			}
			return [][]byte{append(header(3, binary.BigEndian.Uint32(req[12:])), "torrent not registered"...)}
		}, failure: "torrent not registered"},
		{name: "error with wrong tid ignored", answer: func(tr *udpTracker, req []byte) [][]byte {
			return append([][]byte{header(3, ^binary.BigEndian.Uint32(req[12:]))}, honest(tr, req)...)
		}},
		{name: "retry after lost answer", answer: func(tr *udpTracker, req []byte) [][]byte {
			if len(req) != 16 && tr.announce.Load() == 1 {
				return nil
			}
			return honest(tr, req)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, u := startUDPTracker(t, tc.answer)
			resp, err := udpAnnounce(t, fastUDPClient(t), u, Request{Port: 1})
			var fe *FailureError
			switch {
			case tc.failure != "":
				if !errors.As(err, &fe) || err.Error() != tc.failure {
					t.Fatalf("err = %v, want failure %q", err, tc.failure)
				}
			case tc.noReply:
				if !errors.Is(err, errNoAnswer) {
					t.Fatalf("err = %v, want no answer", err)
				}
			case err != nil:
				t.Fatal(err)
			case len(resp.Peers) != 1:
				t.Errorf("peers %v", resp.Peers)
			}
		})
	}
}

func TestUDPBadPeerListDropped(t *testing.T) {
	var logs logCollector
	_, u := startUDPTracker(t, func(tr *udpTracker, req []byte) [][]byte {
		out := honest(tr, req)
		if len(req) != 16 {
			out[0] = append(out[0], 9)
		}
		return out
	})
	c := NewClient(ClientConfig{Logf: logs.logf, UDPTimeout: 100 * time.Millisecond})
	resp, err := udpAnnounce(t, c, u, Request{Port: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Peers) != 0 || !logs.contains("not a multiple of 6") {
		t.Errorf("peers %v, log %q", resp.Peers, logs.lines)
	}
}

func TestUDPContextEndsWait(t *testing.T) {
	_, u := startUDPTracker(t, func(*udpTracker, []byte) [][]byte { return nil })
	c := NewClient(ClientConfig{}) // 15 s waits
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Announce(ctx, u, Request{})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
		t.Errorf("err = %v after %v", err, time.Since(start))
	}
}

func TestUDPURLWithoutPort(t *testing.T) {
	if _, err := NewClient(ClientConfig{}).Announce(context.Background(), "udp://127.0.0.1/announce", Request{}); err == nil {
		t.Error("no error")
	}
}
