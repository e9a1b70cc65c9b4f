package testpeers

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Netns is a network namespace made for one test, joined to this one by a
// veth pair on a /30 of 10.213.0.0/16 chosen at random: HostIP is our end
// (in the test's own namespace), NSIP the end inside. For counterparts
// that ignore loopback peers (Transmission). Both ends and the namespace
// are removed when the test ends.
type Netns struct {
	Name           string
	HostIP, NSIP   string
	HostIP6, NSIP6 string // set by AddIPv6
	hostIf, nsIf   string
	hostPfx, nsPfx netip.Prefix
}

// NewNetns creates the namespace; tag (a few letters) and the process id
// make its names unique among the tests of other agents on this machine.
// It needs root: without it, it ends the test with CannotRun.
func NewNetns(t testing.TB, tag string) *Netns {
	t.Helper()
	RequireRoot(t, "a network namespace")
	Require(t, "ip", "iproute2")
	id := fmt.Sprintf("%s%d%02d", tag, os.Getpid()%100000, rand.IntN(100))
	if len(id) > 13 {
		id = id[len(id)-13:]
	}
	b := rand.IntN(64) * 4 // a /30 in 10.213.x.0/24
	x := rand.IntN(256)
	n := &Netns{
		Name:   "sd" + id,
		HostIP: fmt.Sprintf("10.213.%d.%d", x, b+1),
		NSIP:   fmt.Sprintf("10.213.%d.%d", x, b+2),
		hostIf: id + "h",
		nsIf:   id + "n",
	}
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if out, err := exec.Command("ip", "netns", "add", n.Name).CombinedOutput(); err != nil {
		CannotRun(t, "creating a network namespace: %v %s", err, out)
	}
	t.Cleanup(func() {
		exec.Command("ip", "link", "del", n.hostIf).Run()
		exec.Command("ip", "netns", "del", n.Name).Run()
	})
	run("link", "add", n.hostIf, "type", "veth", "peer", "name", n.nsIf, "netns", n.Name)
	run("addr", "add", n.HostIP+"/30", "dev", n.hostIf)
	run("link", "set", n.hostIf, "up")
	run("-n", n.Name, "addr", "add", n.NSIP+"/30", "dev", n.nsIf)
	run("-n", n.Name, "link", "set", n.nsIf, "up")
	run("-n", n.Name, "link", "set", "lo", "up")
	return n
}

// Command returns a command that runs inside the namespace.
func (n *Netns) Command(program string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", n.Name, program}, args...)...)
}

// Start runs a program inside the namespace in the background, like
// Start; it is killed when the test ends.
func (n *Netns) Start(t testing.TB, program string, args ...string) *Proc {
	t.Helper()
	return Start(t, "ip", append([]string{"netns", "exec", n.Name, program}, args...)...)
}

// AddIPv6 gives both ends of the veth pair an IPv6 address in a /64 of
// fd5d::/16 (a unique local range) chosen at random, HostIP6 ending in
// ::1 and NSIP6 in ::2, without duplicate address detection, so that
// both are usable at once (it waits until no address of either end is
// tentative).
func (n *Netns) AddIPv6(t testing.TB) {
	t.Helper()
	n.addIPv6(t, fmt.Sprintf("fd5d:%x:%x:%x", rand.IntN(1<<16), rand.IntN(1<<16), rand.IntN(1<<16)))
}

// AddGlobalIPv6 is AddIPv6 with addresses that look global: a /64 of
// 2001:db8::/32 (the documentation range, never routed) chosen at random,
// and inside the namespace a default IPv6 route into its loopback
// interface, where packets to other addresses are dropped (the namespace
// forwards nothing). Programs that open IPv6 sockets only when the
// route to a public address has a global source address (Transmission's
// IPv6 UDP socket, for uTP and its DHT) then open them; nothing reaches
// any network but the veth pair.
func (n *Netns) AddGlobalIPv6(t testing.TB) {
	t.Helper()
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	n.addIPv6(t, fmt.Sprintf("2001:db8:%x:%x", rand.IntN(1<<16), rand.IntN(1<<16)))
	run("-n", n.Name, "-6", "route", "add", "default", "dev", "lo")
}

func (n *Netns) addIPv6(t testing.TB, pfx string) {
	t.Helper()
	n.HostIP6, n.NSIP6 = pfx+"::1", pfx+"::2"
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	// No duplicate address detection for the link-local addresses either.
	run("sysctl", "-qw", "net.ipv6.conf."+n.hostIf+".accept_dad=0")
	run("ip", "netns", "exec", n.Name, "sysctl", "-qw", "net.ipv6.conf."+n.nsIf+".accept_dad=0")
	run("ip", "addr", "add", n.HostIP6+"/64", "dev", n.hostIf, "nodad")
	run("ip", "-n", n.Name, "addr", "add", n.NSIP6+"/64", "dev", n.nsIf, "nodad")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		h, _ := exec.Command("ip", "-6", "addr", "show", "dev", n.hostIf).CombinedOutput()
		i, _ := exec.Command("ip", "-n", n.Name, "-6", "addr", "show", "dev", n.nsIf).CombinedOutput()
		if !strings.Contains(string(h)+string(i), "tentative") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("IPv6 addresses still tentative after 10 s:\n%s%s", h, i)
		}
	}
}

// StartLT starts ltpeer.py with args inside the namespace, like StartLT.
func (n *Netns) StartLT(t testing.TB, args ...string) *Proc {
	t.Helper()
	RequireLibtorrent(t)
	return n.Start(t, Python, append([]string{LTPeer()}, args...)...)
}
