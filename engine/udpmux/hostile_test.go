package udpmux

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/utp"
)

// startUTP runs a uTP socket on the mux until the test ends.
func startUTP(t *testing.T, m *Mux, cfg utp.Config) *utp.Socket {
	t.Helper()
	if cfg.Transport == nil {
		cfg.Transport = m
	}
	s, err := utp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.SetUTP(s)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

// dialUTP dials until the socket's Serve has started.
func dialUTP(t *testing.T, s *utp.Socket, to netip.AddrPort) *utp.Conn {
	t.Helper()
	for range 100 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, err := s.Dial(ctx, to)
		cancel()
		if err == nil {
			return c
		}
		if err != nil && !bytes.Contains([]byte(err.Error()), []byte(utp.ErrNotReady.Error())) {
			t.Fatalf("dial: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the socket never served")
	return nil
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// TestFloodWithDHT floods one port, shared by a DHT node and a uTP socket
// through the mux, with SYNs from 200 source ports and with garbage, from
// 127.0.0.3: the DHT keeps answering pings from 127.0.0.2 throughout, the
// flood leaves no uTP state and no heap growth, no SYN gets more than one
// reply or a reply larger than itself, and a real connection works after.
func TestFloodWithDHT(t *testing.T) {
	m, conn := startMux(t, "udp4", "127.0.0.1:0", Config{})
	node := startNode(t, m)
	sock := startUTP(t, m, utp.Config{})
	target := conn.LocalAddr()
	before := heapInUse()

	var sent, replies, replyBytes atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for k := range 200 {
		pc, err := net.ListenPacket("udp4", "127.0.0.3:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		wg.Add(2)
		go func() { // count what comes back to this port
			defer wg.Done()
			buf := make([]byte, 2048)
			for {
				n, _, err := pc.ReadFrom(buf)
				if err != nil {
					return
				}
				replies.Add(1)
				replyBytes.Add(int64(n))
			}
		}()
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(k), 7))
			syn := make([]byte, 20)
			junk := make([]byte, 300)
			for i := 0; i < 50; i++ {
				select {
				case <-stop:
					return
				default:
				}
				syn[0] = 0x41 // SYN, version 1
				syn[2], syn[3] = byte(rng.Uint32()), byte(rng.Uint32())
				syn[16], syn[17] = byte(rng.Uint32()), byte(rng.Uint32())
				pc.WriteTo(syn, target)
				sent.Add(1)
				for j := range junk {
					junk[j] = byte(rng.Uint32())
				}
				pc.WriteTo(junk[:rng.IntN(len(junk))], target)
				if i%10 == 0 {
					time.Sleep(time.Millisecond)
				}
			}
		}()
	}

	p := newPinger(t)
	pc, err := net.ListenPacket("udp4", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	p.conn = pc.(*net.UDPConn)
	pings, answered := 0, 0
	floodDone := make(chan struct{})
	go func() { wg.Wait(); close(floodDone) }()
	for waiting := true; waiting; {
		select {
		case <-floodDone:
			waiting = false
		default:
		}
		pings++
		// A ping may be lost in a full socket buffer, or wait behind
		// thousands of packets (the flood outruns the reader under the
		// race detector on a loaded machine): four retries.
		for range 5 {
			if p.ping(target, node.ID(), time.Second) {
				answered++
				break
			}
		}
		if pings >= 60 {
			break
		}
		time.Sleep(150 * time.Millisecond) // under the DHT's 10 queries per second per address
	}
	close(stop)
	if answered < pings {
		t.Fatalf("the DHT answered %d of %d pings during the flood", answered, pings)
	}
	time.Sleep(100 * time.Millisecond)
	st := sock.Stats()
	t.Logf("%d SYNs sent, %d handled, %d replies (%d bytes); mux %+v; %d pings answered", sent.Load(), st.Syns, replies.Load(), replyBytes.Load(), m.Stats(), answered)
	if st.Conns != 0 || st.Backlog != 0 || st.Syns == 0 {
		t.Fatalf("uTP after the flood: %+v", st)
	}
	if replies.Load() > int64(st.Syns) || replyBytes.Load() > int64(st.Syns)*20 {
		t.Fatalf("%d replies, %d bytes, to %d SYNs of 20 bytes", replies.Load(), replyBytes.Load(), st.Syns)
	}
	if ms := m.Stats(); ms.Unknown == 0 {
		t.Fatalf("garbage not counted: %+v", ms)
	}
	if grown := int64(heapInUse()) - int64(before); grown > 16<<20 {
		t.Fatalf("the heap grew by %d MiB", grown>>20)
	}

	// A real connection still works.
	other, oconn := startMux(t, "udp4", "127.0.0.4:0", Config{})
	client := startUTP(t, other, utp.Config{})
	_ = oconn
	c := dialUTP(t, client, conn.LocalAddr().(*net.UDPAddr).AddrPort())
	data := bytes.Repeat([]byte("swarmdrop"), 100000)
	go func() { c.Write(data); c.Close() }()
	s, err := sock.AcceptUTP()
	if err != nil {
		t.Fatal(err)
	}
	s.SetReadDeadline(time.Now().Add(20 * time.Second))
	got, err := io.ReadAll(s)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("after the flood: %d of %d bytes, %v", len(got), len(data), err)
	}
}
