package linkem_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/linkem"
)

// Two hosts 50 ms apart each way with 1 % loss each way, as issue 16's uTP
// test wants: a libtorrent seeder in host 0, a program of ours in host 1.
// In a test, linkem.Start(t, cfg) does New, Serve and Close in one line.
func ExamplePair() {
	l := linkem.Link{Delay: 50 * time.Millisecond, Loss: 0.01}
	topo, err := linkem.New(linkem.Pair("utp", l, l))
	if err != nil {
		log.Fatal(err)
	}
	defer topo.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go topo.Serve(ctx)
	<-topo.Ready()

	seeder := topo.Command(0, "/usr/bin/python3", "internal/testpeers/ltpeer.py", "seed" /* ... */)
	seeder.Stdout = os.Stdout
	if err := seeder.Start(); err != nil {
		log.Fatal(err)
	}
	defer func() { seeder.Process.Kill(); seeder.Wait() }()
	// Host 1 reaches the seeder at topo.Addr4(0) (10.99.0.1) or
	// topo.Addr6(0) (fd00:99::1).
	fmt.Println("seeder at", topo.Addr4(0))
}

// Seventeen hosts as in issue 17's mixed swarm: sixteen seeders on links
// of 2 to 50 Mbit/s and 20 to 300 ms round trip, one of them very slow,
// and a leecher (host 16) on 100 Mbit/s. The queues default to each
// link's rate times the longest round trip through it.
func ExampleNew_star() {
	hosts := make([]linkem.Host, 17)
	for i := range 16 {
		oneWay := time.Duration(10+9*i) * time.Millisecond
		hosts[i] = linkem.Host{
			Up:   linkem.Link{Rate: int64(2+3*i) * linkem.Mbit, Delay: oneWay / 2, Loss: float64(i%3) * 0.005},
			Down: linkem.Link{Rate: 100 * linkem.Mbit, Delay: oneWay / 2},
		}
	}
	hosts[7].Up.Rate = 256_000 // the very slow one
	hosts[16] = linkem.Host{Down: linkem.Link{Rate: 100 * linkem.Mbit}, Up: linkem.Link{Rate: 100 * linkem.Mbit}}
	topo, err := linkem.New(linkem.Config{
		Tag:   "swarm",
		Hosts: hosts,
		// Room in flight for a long fat path (a namespace starts with
		// tcp_wmem's 4 MiB at most).
		Sysctls: map[string]string{"net/ipv4/tcp_wmem": "4096 16384 16777216"},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer topo.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go topo.Serve(ctx)
	<-topo.Ready()

	// Run a client in each namespace, e.g. the benchmark's own binary:
	//   topo.CommandContext(ctx, i, os.Args[0], "-role=seeder", ...)
	// or open sockets there from this process:
	//   topo.Do(i, func() error { ln, err = net.Listen("tcp", ":0"); return err })
	s, _ := topo.Stats()
	fmt.Println(len(s.Up), "hosts; emulator CPU", s.CPU)
}
