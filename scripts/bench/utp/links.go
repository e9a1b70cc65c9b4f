package main

import "context"

// link is the network path between the seeder and the downloaders: the
// addresses each side binds, how each side's processes are started (a
// link in network namespaces would prefix them with `ip netns exec NAME`)
// and what must be set up and torn down around a measurement.
type link struct {
	name                   string
	seederIP, downloaderIP string
	seederCmd, downCmd     []string // command-line prefixes; nil runs directly
	setup                  func(ctx context.Context) (cleanup func(), err error)
}

// links lists the links measured. An emulated WAN link (50 ms, 1 % loss
// through a namespace pair) is to be added here once the link emulator
// exists; nothing else needs to change.
func links() []link {
	return []link{loopback()}
}

// loopback is both sides on 127.0.0.1.
func loopback() link {
	return link{
		name:     "loopback",
		seederIP: "127.0.0.1", downloaderIP: "127.0.0.1",
		setup: func(context.Context) (func(), error) { return func() {}, nil },
	}
}

// seeder returns the command line of a seeder-side process.
func (l link) seeder(name string, args ...string) []string {
	return append(append(append([]string(nil), l.seederCmd...), name), args...)
}

// downloader returns the command line of a downloader-side process.
func (l link) downloader(name string, args ...string) []string {
	return append(append(append([]string(nil), l.downCmd...), name), args...)
}
