package engine

import (
	"context"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/hostile"
)

// utpMaxConns is the uTP socket's default bound on its connections (open,
// opening and closing), utp.Config.MaxConns, which the engine keeps.
const utpMaxConns = 512

// TestUTPFloodKeepsDHT floods the engine's UDP port, shared by its DHT
// node and its uTP socket, from loopback: 200 source ports on 127.0.0.3
// each send 50 uTP SYNs and 50 garbage packets, while 72 uTP sockets on
// 127.0.0.10 onwards each open up to 10 real uTP connections and hold
// them silent (72 × 8 per address is more than the socket's 512). During
// the flood our own DHT client on 127.0.0.2 pings the engine's node every
// 150 ms and every ping is answered; the uTP socket never holds more than
// its 512 connections; once the attackers leave, the connections are
// gone.
func TestUTPFloodKeepsDHT(t *testing.T) {
	e := testEngine(t, Config{Timing: Timing{Handshake: 3 * time.Second}})
	port := e.testPort(t)
	target := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
	e.netMu.Lock()
	n := e.net
	e.netMu.Unlock()
	sock := n.utp
	if sock == nil {
		t.Fatal("the engine has no uTP socket")
	}

	// The socket's peak, sampled every 10 ms until the end.
	var peakConns, peakBacklog, peakHeld atomic.Int64
	sampling, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			st := sock.Stats()
			peakConns.Store(max(peakConns.Load(), int64(st.Conns)))
			peakBacklog.Store(max(peakBacklog.Load(), int64(st.Backlog)))
			peakHeld.Store(max(peakHeld.Load(), int64(st.RecvHeld)))
			select {
			case <-sampling:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	defer func() { close(sampling); <-sampled }()

	stop := make(chan struct{})
	var flood sync.WaitGroup
	var sent atomic.Int64
	for k := range 200 { // raw SYNs and garbage
		pc, err := net.ListenPacket("udp4", "127.0.0.3:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		flood.Add(1)
		go func() {
			defer flood.Done()
			rng := rand.New(rand.NewPCG(uint64(k), 16))
			syn := make([]byte, 20)
			junk := make([]byte, 300)
			to := net.UDPAddrFromAddrPort(target)
			for i := range 50 {
				select {
				case <-stop:
					return
				default:
				}
				syn[0] = 0x41 // SYN, version 1
				syn[2], syn[3] = byte(rng.Uint32()), byte(rng.Uint32())
				syn[16], syn[17] = byte(rng.Uint32()), byte(rng.Uint32())
				pc.WriteTo(syn, to)
				for j := range junk {
					junk[j] = byte(rng.Uint32())
				}
				pc.WriteTo(junk[:rng.IntN(len(junk))], to)
				sent.Add(2)
				if i%10 == 0 {
					time.Sleep(time.Millisecond)
				}
			}
		}()
	}
	var opened, failed atomic.Int64
	var held sync.Mutex
	var conns []net.Conn
	for _, a := range hostile.LoopbackAddrs("127.0.0.10", 72) { // real handshakes, held silent
		attacker, _ := startUTPOn(t, netip.AddrPortFrom(a, 0).String())
		for range 10 {
			flood.Add(1)
			go func() {
				defer flood.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				c, err := attacker.Dial(ctx, target)
				cancel()
				if err != nil {
					failed.Add(1)
					return
				}
				opened.Add(1)
				held.Lock()
				conns = append(conns, c)
				held.Unlock()
			}()
		}
	}
	floodDone := make(chan struct{})
	go func() { flood.Wait(); close(floodDone) }()

	// Our DHT client pings throughout, and for at least 2 s.
	pings, answered := 0, 0
	start := time.Now()
	for {
		pings++
		ctx, cancel := context.WithTimeout(context.Background(), 6*time.Second)
		if _, err := hostile.TargetID(ctx, target, netip.MustParseAddr("127.0.0.2")); err == nil {
			answered++
		} else {
			t.Logf("ping %d: %v", pings, err)
		}
		cancel()
		select {
		case <-floodDone:
		default:
			if pings < 60 {
				time.Sleep(150 * time.Millisecond) // under the DHT's 10 queries per second per address
				continue
			}
		}
		if time.Since(start) >= 2*time.Second || pings >= 60 {
			break
		}
		time.Sleep(150 * time.Millisecond)
	}
	close(stop)
	<-floodDone
	during := sock.Stats()
	held.Lock()
	for _, c := range conns {
		c.Close()
	}
	held.Unlock()

	t.Logf("%d raw packets, %d uTP connections opened (%d failed) from 72 addresses; socket peak %d connections, backlog %d, %d bytes held; %+v; %d of %d pings answered",
		sent.Load(), opened.Load(), failed.Load(), peakConns.Load(), peakBacklog.Load(), peakHeld.Load(), during, answered, pings)
	if answered < pings {
		t.Fatalf("the DHT answered %d of %d pings during the flood", answered, pings)
	}
	if ms := n.mux.Stats(); during.Syns == 0 || ms.Unknown == 0 {
		t.Fatalf("the flood did not reach the socket: uTP %+v, mux %+v", during, ms)
	}
	if opened.Load() == 0 {
		t.Fatal("no attacker connection opened: the hold part of the flood tested nothing")
	}
	if p := peakConns.Load(); p > utpMaxConns {
		t.Fatalf("the uTP socket held %d connections, over its %d", p, utpMaxConns)
	}

	// Once the attackers have gone, their connections go too.
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := sock.Stats()
		if st.Conns == 0 && st.Backlog == 0 && st.RecvHeld == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("30 s after the flood the uTP socket still holds %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
