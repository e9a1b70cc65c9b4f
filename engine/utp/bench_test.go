package utp

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/udpmux"
)

// benchSocket serves a uTP socket on a new loopback UDP socket through a
// udpmux, as the engine does, with no tap, until the benchmark ends.
func benchSocket(b testing.TB) (*Socket, netip.AddrPort) {
	b.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	return serveMuxed(b, pc.(*net.UDPConn))
}

// serveMuxed serves a uTP socket on conn through a udpmux, as the engine
// does (no tap), until the test or benchmark ends; it returns once the
// socket serves.
func serveMuxed(tb testing.TB, conn *net.UDPConn) (*Socket, netip.AddrPort) {
	tb.Helper()
	m := udpmux.New(conn, udpmux.Config{})
	s, err := New(Config{Transport: m})
	if err != nil {
		tb.Fatal(err)
	}
	m.SetUTP(s)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.Serve(ctx) }()
	go func() { defer wg.Done(); m.Serve(ctx) }()
	tb.Cleanup(func() { cancel(); wg.Wait(); conn.Close() })
	for !s.serving.Load() {
		time.Sleep(time.Millisecond)
	}
	return s, conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLoopback moves 64 MiB per op from one uTP socket to another
// over loopback UDP (each behind its own udpmux) and reports the CPU time
// both ends used per MiB moved, besides the usual ns, B and allocs per op.
func BenchmarkLoopback(b *testing.B) {
	const size = 64 << 20
	a, _ := benchSocket(b)
	srv, addr := benchSocket(b)
	accepted := make(chan *Conn, 1)
	go func() {
		c, err := srv.AcceptUTP()
		if err == nil {
			accepted <- c
		}
	}()
	client, err := a.Dial(context.Background(), addr)
	if err != nil {
		b.Fatal(err)
	}
	server := <-accepted
	defer client.Close()
	defer server.Close()
	chunk := make([]byte, 64<<10)
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		done := make(chan error, 1)
		go func() {
			for sent := 0; sent < size; sent += len(chunk) {
				if _, err := client.Write(chunk); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		buf := make([]byte, 64<<10)
		for got := 0; got < size; {
			n, err := server.Read(buf)
			if err != nil {
				b.Fatal(err)
			}
			got += n
		}
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N*size>>20), "cpu-ms/MiB")
	st := client.Stats()
	b.ReportMetric(float64(st.Retransmits)/float64(b.N), "resends/op")
}
