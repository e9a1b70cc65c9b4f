package linkem

import (
	"io"
	"net"
	"testing"
	"time"
)

// Benchmarks of the emulator's own cost: TCP from host 0 to host 1 in
// this process, the emulator in its child. They report the TCP payload
// rate and the CPU the emulator's process used, in percent of one core
// and in microseconds per packet crossing it (both directions).
//
//	go test -run '^$' -bench . -benchtime 5s ./internal/linkem

// BenchmarkTCPUnlimited: links that do nothing, so the emulator's speed
// (and the kernel's TCP on both ends, on the same 2 cores) is the limit.
func BenchmarkTCPUnlimited(b *testing.B) {
	benchTCP(b, Pair("bmax", Link{}, Link{}))
}

// BenchmarkTCPLongFat: the long fat link of issue 17 — 100 Mbit/s each
// way, 200 ms round trip, 0.1 % loss.
func BenchmarkTCPLongFat(b *testing.B) {
	l := Link{Rate: 100 * Mbit, Delay: 100 * time.Millisecond, Loss: 0.001}
	benchTCP(b, Pair("bfat", l, l))
}

// BenchmarkTCPLongFatBigBuffers: the same with room for 16 MiB in flight.
func BenchmarkTCPLongFatBigBuffers(b *testing.B) {
	l := Link{Rate: 100 * Mbit, Delay: 100 * time.Millisecond, Loss: 0.001}
	cfg := Pair("bfat", l, l)
	cfg.Sysctls = map[string]string{"net/ipv4/tcp_wmem": "4096 16384 16777216"}
	benchTCP(b, cfg)
}

// BenchmarkTCP100Mbit: 100 Mbit/s, 20 ms round trip, no loss.
func BenchmarkTCP100Mbit(b *testing.B) {
	l := Link{Rate: 100 * Mbit, Delay: 10 * time.Millisecond}
	benchTCP(b, Pair("b100", l, l))
}

// BenchmarkTCP100MbitSlack: the same, the emulator waking at most every
// 250 µs.
func BenchmarkTCP100MbitSlack(b *testing.B) {
	l := Link{Rate: 100 * Mbit, Delay: 10 * time.Millisecond}
	cfg := Pair("b100", l, l)
	cfg.Slack = 250 * time.Microsecond
	benchTCP(b, cfg)
}

// BenchmarkTCP20Mbit: 20 Mbit/s, 20 ms round trip.
func BenchmarkTCP20Mbit(b *testing.B) {
	l := Link{Rate: 20 * Mbit, Delay: 10 * time.Millisecond}
	benchTCP(b, Pair("b20", l, l))
}

func benchTCP(b *testing.B, cfg Config) {
	topo := Start(b, cfg)
	ln := tcpListen(b, topo, 1, topo.Addr4(1))
	received := make(chan int64, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			received <- 0
			return
		}
		n, _ := io.Copy(io.Discard, c)
		c.Close()
		received <- n
	}()
	c := tcpDial(b, topo, 0, ln.Addr())
	const chunk = 1 << 20
	buf := make([]byte, chunk)
	// A first megabyte through slow start, outside the measurement.
	if _, err := c.Write(buf); err != nil {
		b.Fatal(err)
	}
	before := stats(b, topo)
	start := time.Now()
	b.SetBytes(chunk)
	for b.Loop() {
		if _, err := c.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	c.(*net.TCPConn).CloseWrite()
	n := <-received
	elapsed := time.Since(start)
	after := stats(b, topo)
	if n != int64(b.N+1)*chunk {
		b.Fatalf("received %d bytes, sent %d", n, int64(b.N+1)*chunk)
	}
	packets := after.Up[0].Packets + after.Up[1].Packets - before.Up[0].Packets - before.Up[1].Packets
	cpu := after.CPU - before.CPU
	b.ReportMetric(float64(b.N)*chunk*8/elapsed.Seconds()/1e6, "Mbit/s")
	b.ReportMetric(100*cpu.Seconds()/elapsed.Seconds(), "emu-cpu%")
	b.ReportMetric(float64(cpu.Microseconds())/float64(packets), "emu-µs/pkt")
	b.ReportMetric(float64((after.UserCPU-before.UserCPU).Microseconds())/float64(packets), "user-µs/pkt")
	b.ReportMetric(float64(packets)/elapsed.Seconds(), "pkt/s")
	if r := after.Released - before.Released; r > 0 {
		b.ReportMetric(float64(after.Late-before.Late)/float64(r)/1e3, "late-µs")
	}
}
