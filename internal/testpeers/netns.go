package testpeers

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Netns is a network namespace made for one test, joined to this one by a
// veth pair on a /30 of 10.213.0.0/16 chosen at random: HostIP is our end
// (in the test's own namespace), NSIP the end inside. For counterparts
// that ignore loopback peers (Transmission). Both ends and the namespace
// are removed when the test ends.
type Netns struct {
	Name           string
	HostIP, NSIP   string
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
