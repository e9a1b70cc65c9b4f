package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/linkem"
	"github.com/swarmdrop/swarmdrop/scripts/bench/internal/benchkit"
)

// sysctls are set in every namespace, for both clients alike:
//   - tcp_wmem up to 16 MiB: the default 4 MiB holds too little in
//     flight for 100 Mbit/s x 200 ms (linkem's author measured 59-65
//     Mbit/s with it, 72-81 with 16 MiB, at 0.1 % loss);
//   - tcp_rmem up to 32 MiB, a new namespace's default on this kernel,
//     set so that the figures do not depend on the host: measured from a
//     libtorrent seeder on the long fat link, 16 MiB left both
//     downloaders receive-window-limited a third of the time while
//     retransmissions filled the gaps (78-80 Mbit/s; 85-88 with 32 MiB);
//   - tcp_no_metrics_save: a connection does not start from what the
//     previous run's connection to the same address learnt (ssthresh,
//     RTT), so the client measured second is not helped by the first.
//
// Congestion control is the host's (a namespace cannot choose another
// than its parent's default here); it is printed with them.
var sysctls = map[string]string{
	"net/ipv4/tcp_wmem":            "4096 16384 16777216",
	"net/ipv4/tcp_rmem":            "4096 131072 33554432",
	"net/ipv4/tcp_no_metrics_save": "1",
}

// sysctlList is the sysctls as one line, with the congestion control.
func sysctlList() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(sysctls)) {
		parts = append(parts, fmt.Sprintf("%s=%q", k, sysctls[k]))
	}
	return strings.Join(parts, " ") + " (congestion control: " + congestionControl() + ")"
}

// network is a running linkem topology.
type network struct {
	topo   *linkem.Topology
	cancel context.CancelFunc
	served chan error
}

// startNetwork makes the namespaces of hosts and starts the emulator.
func startNetwork(ctx context.Context, tag string, hosts []linkem.Host) (*network, error) {
	topo, err := linkem.New(linkem.Config{Tag: tag, Hosts: hosts, Sysctls: sysctls})
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.Background())
	n := &network{topo: topo, cancel: cancel, served: make(chan error, 1)}
	go func() { n.served <- topo.Serve(sctx) }()
	select {
	case <-topo.Ready():
		return n, nil
	case err := <-n.served:
		n.served <- err
	case <-ctx.Done():
		err = ctx.Err()
	case <-time.After(30 * time.Second):
		err = fmt.Errorf("link emulator not ready after 30 s")
	}
	n.close()
	return nil, err
}

// addr is host i's address with port.
func (n *network) addr(i, port int) string { return fmt.Sprintf("%s:%d", n.topo.Addr4(i), port) }

// ip is host i's address.
func (n *network) ip(i int) string { return n.topo.Addr4(i).String() }

// start runs a program in host i's namespace with extra environment
// variables.
func (n *network) start(i int, label string, env []string, name string, args ...string) (*benchkit.Proc, error) {
	return benchkit.Start(label, env, "ip", append([]string{"netns", "exec", n.topo.Namespace(i), name}, args...)...)
}

// stats returns the emulator's counts (zero values on error).
func (n *network) stats() linkem.Stats {
	s, err := n.topo.Stats()
	if err != nil {
		fmt.Println("  link emulator:", err)
	}
	return s
}

// close stops the emulator and removes the namespaces; processes in them
// must have ended.
func (n *network) close() error {
	n.cancel()
	return n.topo.Close()
}
