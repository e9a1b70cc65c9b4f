package utp

import (
	"net"
	"net/netip"
	"testing"
	"time"
)

// discard is a Transport that sends nowhere.
type discard struct{}

func (discard) WriteToUDPAddrPort(b []byte, _ netip.AddrPort) (int, error) { return len(b), nil }
func (discard) LocalAddr() net.Addr                                        { return &net.UDPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 1000} }

// FuzzHandlePacket feeds packet sequences to a socket holding one
// established incoming connection, with timers run between packets: no
// sequence may crash it or break its accounting (bytes held by the
// connection and by the socket, bytes in flight).
func FuzzHandlePacket(f *testing.F) {
	peer := netip.MustParseAddrPort("10.0.0.2:2000")
	const recvID, theirSeq, ourSeq = 0x1235, 100, 5000
	data := func(seq uint16, payload string) []byte {
		return append(Header{Type: TypeData, ConnID: recvID, Seq: seq, Ack: ourSeq - 1, Wnd: 1 << 16}.Append(nil), payload...)
	}
	frame := func(packets ...[]byte) []byte {
		var b []byte
		for _, p := range packets {
			b = append(b, byte(len(p)))
			b = append(b, p...)
		}
		return b
	}
	f.Add(frame(data(theirSeq+1, "hello"), data(theirSeq+3, "ahead"), data(theirSeq+2, "gap")))
	f.Add(frame(Header{Type: TypeFin, ConnID: recvID, Seq: theirSeq + 1, Ack: ourSeq - 1}.Append(nil)))
	f.Add(frame(Header{Type: TypeState, ConnID: recvID, Seq: theirSeq + 1, Ack: ourSeq + 40, SACK: []byte{0xff, 0, 0, 1}}.Append(nil)))
	f.Add(frame(Header{Type: TypeReset, ConnID: recvID, Ack: ourSeq}.Append(nil), data(theirSeq+1, "x")))
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := New(Config{Transport: discard{}, RecvWindow: 8 << 10, MinRecvWindow: 4 << 10, SendBuffer: 8 << 10})
		if err != nil {
			t.Fatal(err)
		}
		s.serving.Store(true)
		now := time.Now()
		h := Header{Type: TypeState, ConnID: recvID, Seq: theirSeq + 1, Ack: ourSeq - 1}
		c, err := s.accepted(h, peer, theirSeq, now)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("some bytes of ours, in flight"))
		for len(in) > 0 {
			n := int(in[0])
			in = in[1:]
			if n > len(in) {
				n = len(in)
			}
			p := append([]byte(nil), in[:n]...)
			in = in[n:]
			if len(p) >= HeaderLen && p[0]&1 == 1 { // aim most packets at the connection
				p[2], p[3] = recvID>>8, recvID&0xff
			}
			s.HandlePacket(p, peer)
			s.Drained()
			now = now.Add(300 * time.Millisecond)
			c.tick(now)
		}
		c.SetReadDeadline(time.Unix(1, 0))
		c.Read(make([]byte, 100))
		c.mu.Lock()
		held, queued, reordered, inflight := c.held, c.recvQ.Len(), c.reorder.bytes, c.inflight
		sum := 0
		for seq := c.ackedSeq + 1; seq != c.seqNr && c.state != stateClosed; seq++ {
			if p := c.out.at(seq); p != nil && !p.needResend {
				sum += len(p.payload)
			}
		}
		c.mu.Unlock()
		if held != queued+reordered || held < 0 || held > 8<<10 || int64(held) != s.budget.Load() {
			t.Fatalf("held %d, queued %d, reordered %d, budget %d", held, queued, reordered, s.budget.Load())
		}
		if inflight != sum {
			t.Fatalf("in flight %d, packets hold %d", inflight, sum)
		}
		c.Close()
		if s.budget.Load() != 0 {
			t.Fatalf("budget %d after Close", s.budget.Load())
		}
	})
}
