package app

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

var routerEntry = regexp.MustCompile(`^\s*\d+\s+(TCP|UDP)\s+(\d+)->([0-9.]+):(\d+)\s`)

// routerMappings lists, with upnpc from the LAN side, which protocols the
// router maps from port to our LAN address.
func routerMappings(t *testing.T, lan string, port int) map[string]bool {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", lan, "upnpc", "-u", "http://10.77.0.2:5000/rootDesc.xml", "-l").CombinedOutput()
	if err != nil {
		t.Fatalf("upnpc -l: %v: %s", err, out)
	}
	found := map[string]bool{}
	for _, l := range strings.Split(string(out), "\n") {
		if m := routerEntry.FindStringSubmatch(l); m != nil && m[2] == strconv.Itoa(port) && m[3] == "10.77.0.1" && m[4] == m[2] {
			found[m[1]] = true
		}
	}
	return found
}

// TestUPnPReachesSnapshot: `swarmdrop seed` in a LAN namespace behind a
// real miniupnpd router maps its port for TCP and UDP; the mapping state,
// the ports and the router's external address reach the engine snapshot
// (shown here in the --json lines); after Ctrl-C both mappings are gone.
func TestUPnPReachesSnapshot(t *testing.T) {
	testpeers.RequireRoot(t, "running a router in network namespaces")
	for _, c := range [][2]string{{"ip", "iproute2"}, {"nft", "nftables"}, {"miniupnpd", "miniupnpd"}, {"upnpc", "miniupnpc"}} {
		testpeers.Require(t, c[0], c[1])
	}
	b := make([]byte, 3)
	rand.Read(b)
	prefix := "sda" + hex.EncodeToString(b)
	lan := prefix + "lan"
	script, _ := filepath.Abs("../scripts/igd-netns.sh")
	env := append(os.Environ(), "IGD_NS_PREFIX="+prefix, "IGD_DIR="+filepath.Join(t.TempDir(), "igd"))
	igd := func(arg string) ([]byte, error) {
		c := exec.Command("sh", script, arg)
		c.Env = env
		return c.CombinedOutput()
	}
	t.Cleanup(func() { igd("down") })
	if out, err := igd("up"); err != nil {
		testpeers.CannotRun(t, "cannot start the router in network namespaces: %v: %s", err, out)
	}

	src, tf, _ := makeTorrent(t, "mapped", []int64{60_000}, 15)
	cmd := swarmdropCmd(t, "seed", "--json", "--port", "0", "--dir", src, tf)
	home := filepath.Dir(envValue(cmd.Env, "XDG_CONFIG_HOME"))
	testpeers.WriteSettings(t, filepath.Join(home, "config"), map[string]any{"download_dir": filepath.Join(home, "Downloads"), "upnp": true})
	seed := exec.Command("ip", append([]string{"netns", "exec", lan, cmd.Path}, cmd.Args[1:]...)...)
	seed.Env = cmd.Env
	out, err := seed.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	seed.Stderr = &stderr
	if err := seed.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- seed.Wait(); close(exited) }()
	defer func() { seed.Process.Kill(); <-exited }()

	var last progressLine
	mapped := false
	sc := bufio.NewScanner(out)
	for deadline := time.Now().Add(40 * time.Second); !mapped && time.Now().Before(deadline) && sc.Scan(); {
		if json.Unmarshal(sc.Bytes(), &last) == nil && last.UPnP == "mapped" {
			mapped = true
		}
	}
	if !mapped {
		t.Fatalf("no mapping reached the snapshot; last line %+v; stderr %s", last, stderr.String())
	}
	if last.Port == 0 || last.MappedTCP != last.Port || last.MappedUDP != last.Port || last.ExternalIP != "11.22.33.44" {
		t.Fatalf("snapshot says port %d, TCP %d, UDP %d, external %q", last.Port, last.MappedTCP, last.MappedUDP, last.ExternalIP)
	}
	if got := routerMappings(t, lan, last.Port); !got["TCP"] || !got["UDP"] {
		t.Fatalf("the router maps %v for port %d", got, last.Port)
	}
	go func() {
		for sc.Scan() {
		}
	}()
	seed.Process.Signal(syscall.SIGINT)
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("seed after Ctrl-C: %v: %s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("seed did not exit within 20 s of Ctrl-C")
	}
	if got := routerMappings(t, lan, last.Port); got["TCP"] || got["UDP"] {
		t.Fatalf("mappings left on the router after exit: %v", got)
	}
}
