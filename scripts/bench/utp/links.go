package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/linkem"
)

// link is a network path between the seeder and the downloaders, and the
// content size downloaded over it.
type link struct {
	name  string
	size  int64
	setup func(ctx context.Context) (*path, error)
}

// path is a link set up: the addresses each side binds, the command-line
// prefix each side's processes start with (nil: run directly) and what
// tears it down.
type path struct {
	seederIP, downloaderIP string
	seederCmd, downCmd     []string
	close                  func()
}

// wanLink is issue 16's emulated internet path: 50 ms and 1 % loss each
// way.
var wanLink = linkem.Link{Delay: 50 * time.Millisecond, Loss: 0.01}

// links lists the links measured: loopback, and the emulated WAN link
// (which needs root for its network namespaces) with wanSize bytes.
func links(wanSize int64) []link {
	ls := []link{{
		name: "loopback", size: contentSize,
		setup: func(context.Context) (*path, error) {
			return &path{seederIP: "127.0.0.1", downloaderIP: "127.0.0.1", close: func() {}}, nil
		},
	}}
	if os.Geteuid() != 0 {
		fmt.Println("the emulated WAN link needs root (network namespaces): measuring loopback only")
		return ls
	}
	return append(ls, link{name: "an emulated link (50 ms, 1 % loss each way)", size: wanSize, setup: wan})
}

// wan makes two network namespaces joined by wanLink (internal/linkem):
// the seeder runs in host 0, the downloaders in host 1.
func wan(ctx context.Context) (*path, error) {
	topo, err := linkem.New(linkem.Pair("utpbench", wanLink, wanLink))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- topo.Serve(ctx) }()
	select {
	case <-topo.Ready():
	case err := <-served:
		cancel()
		topo.Close()
		return nil, fmt.Errorf("starting the link emulator: %w", err)
	}
	in := func(i int) []string { return []string{"ip", "netns", "exec", topo.Namespace(i)} }
	return &path{
		seederIP: topo.Addr4(0).String(), downloaderIP: topo.Addr4(1).String(),
		seederCmd: in(0), downCmd: in(1),
		close: func() {
			cancel()
			<-served
			topo.Close()
		},
	}, nil
}

// seeder returns the command line of a seeder-side process.
func (p *path) seeder(name string, args ...string) []string {
	return append(append(append([]string(nil), p.seederCmd...), name), args...)
}

// downloader returns the command line of a downloader-side process.
func (p *path) downloader(name string, args ...string) []string {
	return append(append(append([]string(nil), p.downCmd...), name), args...)
}
