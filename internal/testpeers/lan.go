//go:build linux

package testpeers

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// LAN is a private Ethernet segment for one test: a bridge in a network
// namespace of its own and hosts, each a network namespace joined to the
// bridge by a veth pair. Each host has eth0 with the IPv4 address
// 10.199.0.(i+1)/24 and the IPv6 address fd53:6d64:7264::(i+1)/64, and lo up.
// Nothing links the segment to the machine's own network, so multicast and
// broadcast stay on it. NewLAN removes it all when the test ends.
type LAN struct {
	Hosts  []*LANHost
	bridge string // the bridge's namespace
}

// LANHost is one host of a LAN: a network namespace and its address.
type LANHost struct {
	NS   string     // network namespace name (ip netns)
	IPv4 netip.Addr // on eth0, in LANPrefix4
	IPv6 netip.Addr // on eth0, in LANPrefix6
}

// The LAN's address ranges. They exist only inside the LAN's namespaces,
// so parallel tests may all use them.
var (
	LANPrefix4 = netip.MustParsePrefix("10.199.0.0/24")
	LANPrefix6 = netip.MustParsePrefix("fd53:6d64:7264::/64")
)

// LANIface is the name of each host's interface on the LAN.
const LANIface = "eth0"

// NewLAN makes a LAN of n hosts (1 to 200) for t. Its namespaces are
// named tag-PID-RANDOM-br and tag-PID-RANDOM-hI, so that tests of other
// packages and other processes running at the same time never clash; tag
// is a few letters naming the package. NewLAN first removes namespaces of
// the same tag left by processes that are gone (a test binary killed by
// its timeout runs no cleanup). It needs root: without it, or without
// network namespaces, the test ends with CannotRun.
func NewLAN(t testing.TB, tag string, n int) *LAN {
	t.Helper()
	RequireRoot(t, "making network namespaces")
	Require(t, "ip", "iproute2")
	if n < 1 || n > 200 || tag == "" || strings.Contains(tag, "-") {
		t.Fatalf("NewLAN: %d hosts, tag %q", n, tag)
	}
	removeStaleLANs(tag)
	b := make([]byte, 2)
	rand.Read(b)
	prefix := fmt.Sprintf("%s-%d-%s-", tag, os.Getpid(), hex.EncodeToString(b))
	lan := &LAN{bridge: prefix + "br"}
	var made []string
	t.Cleanup(func() {
		for _, ns := range made {
			if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
				t.Errorf("removing network namespace %s: %v: %s", ns, err, out)
			}
		}
	})
	addNS := func(ns string) {
		if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
			if len(made) == 0 {
				CannotRun(t, "cannot create a network namespace: %v: %s", err, out)
			}
			t.Fatalf("ip netns add %s: %v: %s", ns, err, out)
		}
		made = append(made, ns)
	}
	addNS(lan.bridge)
	// Snooping off: the bridge floods multicast to every port at once,
	// instead of waiting to learn members from their IGMP and MLD reports.
	lanIP(t, "-n", lan.bridge, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0")
	lanIP(t, "-n", lan.bridge, "link", "set", "br0", "up")
	for i := range n {
		h := &LANHost{
			NS:   fmt.Sprintf("%sh%d", prefix, i),
			IPv4: netip.AddrFrom4([4]byte{10, 199, 0, byte(i + 1)}),
		}
		a6 := LANPrefix6.Addr().As16()
		a6[15] = byte(i + 1)
		h.IPv6 = netip.AddrFrom16(a6)
		addNS(h.NS)
		// Addresses are usable at once: no duplicate address detection
		// for the link-local address eth0 gets when it comes up either.
		for _, k := range []string{"default", "all"} {
			if out, err := h.Command("sysctl", "-qw", "net.ipv6.conf."+k+".accept_dad=0").CombinedOutput(); err != nil {
				t.Fatalf("sysctl in %s: %v: %s", h.NS, err, out)
			}
		}
		port := fmt.Sprintf("p%d", i)
		lanIP(t, "link", "add", LANIface, "netns", h.NS, "type", "veth", "peer", "name", port, "netns", lan.bridge)
		lanIP(t, "-n", lan.bridge, "link", "set", port, "master", "br0", "up")
		lanIP(t, "-n", h.NS, "addr", "add", fmt.Sprintf("%s/%d", h.IPv4, LANPrefix4.Bits()), "dev", LANIface)
		lanIP(t, "-n", h.NS, "addr", "add", fmt.Sprintf("%s/%d", h.IPv6, LANPrefix6.Bits()), "dev", LANIface, "nodad")
		lanIP(t, "-n", h.NS, "link", "set", LANIface, "up")
		lanIP(t, "-n", h.NS, "link", "set", "lo", "up")
		lan.Hosts = append(lan.Hosts, h)
	}
	return lan
}

func lanIP(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// removeStaleLANs removes the namespaces named tag-PID-... whose process
// no longer exists.
func removeStaleLANs(tag string) {
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), tag+"-")
		if !ok {
			continue
		}
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 {
			continue
		}
		if err := unix.Kill(pid, 0); err == unix.ESRCH {
			exec.Command("ip", "netns", "del", e.Name()).Run()
		}
	}
}

// Command returns a command that runs a program inside the host's
// namespace (through ip netns exec).
func (h *LANHost) Command(program string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", h.NS, program}, args...)...)
}

// Start starts a program in the background inside the host's namespace,
// as Start does on the machine.
func (h *LANHost) Start(t testing.TB, program string, args ...string) *Proc {
	t.Helper()
	return Start(t, "ip", append([]string{"netns", "exec", h.NS, program}, args...)...)
}

// Do runs f on an operating-system thread that has entered the host's
// network namespace, and returns its error. Sockets f opens belong to the
// namespace and stay there, whichever goroutine uses them afterwards; so
// do the interfaces f lists. The thread is thrown away when f returns,
// so the namespace never leaks to other goroutines.
func (h *LANHost) Do(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		// Never unlocked: the runtime ends a locked thread with its
		// goroutine.
		runtime.LockOSThread()
		fd, err := unix.Open("/run/netns/"+h.NS, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("opening network namespace %s: %w", h.NS, err)
			return
		}
		err = unix.Setns(fd, unix.CLONE_NEWNET)
		unix.Close(fd)
		if err != nil {
			errc <- fmt.Errorf("entering network namespace %s: %w", h.NS, err)
			return
		}
		errc <- f()
	}()
	return <-errc
}
