// Package linkem emulates internet links between network namespaces, for
// tests and benchmarks on a kernel without the netem qdisc.
//
// A Topology is a star of hosts: each host is a network namespace with one
// TUN device (DeviceName) holding the addresses Addr4(i) (10.99.0.0/16)
// and Addr6(i) (fd00:99::/64), lo up, and default routes of both families
// through the device. A packet from host i to host j crosses host i's Up
// link, then host j's Down link; each direction of each link applies, in
// order, a drop-tail queue in front of a rate, random loss, and a delay
// with jitter (see Link). A queue left at zero holds the rate times the
// longest round trip through the link (the bandwidth x delay product), so
// that random loss is not turned into tail drops. Packets to any other
// address (the internet, multicast) are dropped: nothing leaves the
// machine.
//
// In a test:
//
//	l := linkem.Link{Delay: 50 * time.Millisecond, Loss: 0.01}
//	topo := linkem.Start(t, linkem.Pair("utp", l, l)) // cleaned up with t
//	cmd := topo.Command(0, "/usr/bin/python3", "ltpeer.py", ...) // runs in host 0
//	err := topo.Do(1, func() (err error) { ln, err = net.Listen("tcp", ":0"); return }) // a socket in host 1
//
// In a benchmark program: New, go Serve(ctx), <-Ready(), ..., Close().
//
// # The emulator process
//
// The data path runs in a child process: the calling program itself,
// started again with an environment variable that this package's init
// recognises (so any program or test binary importing linkem can be it).
// The parent makes the namespaces and devices with ip(8) and a thread that
// joins each namespace (setns) to open its TUN device, and hands the
// devices to the child as file descriptors. The child's threads are
// real-time (SCHED_FIFO, lowest priority), its one loop waits in
// epoll_pwait2 for a device or the next release time, one heap of release
// times serves all links, and packet buffers are reused and bounded
// (Config.Buffers; Config.Hold and the queues per link). child.go says why
// it is not goroutines in the caller's process.
//
// # Accuracy and cost
//
// Measured on a shared 2-core machine at 80-97 % CPU pressure, tests under
// -race: releases are 20-90 µs late on average, a few ms at worst; ICMP
// round trips through a 3-host star are 0.15-0.5 ms above the configured
// 45, 50 and 65 ms (never below); 20 Mbit/s carries TCP at 97-98.6 % of
// the payload rate, 100 Mbit/s at 99 %; loss matches the setting within
// the binomial spread. The emulator's CPU is 9.5 µs per packet when
// saturated (about 900 Mbit/s of TCP, most of a core) and 35-40 µs per
// packet at 100 Mbit/s (42 % of a core), most of it the kernel's TCP/IP
// work for the receiving hosts, which runs inside the emulator's writes to
// their devices; Stats reports the emulator's CPU time. Config.Slack
// trades accuracy for CPU: waking at most every 250 µs, 100 Mbit/s costs
// 28 % of a core instead of 43 %.
//
// Each namespace starts from the kernel's defaults for most network
// sysctls (tcp_wmem allows 4 MiB in flight: about 65 Mbit/s at 200 ms);
// Config.Sysctls changes them.
package linkem
