package nat

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// The real-router test runs miniupnpd in two private network namespaces made
// by scripts/igd-netns.sh and a Service inside the LAN one: the test binary
// runs itself there in client mode (igdClientEnv set), driven over stdin.

const (
	igdClientEnv = "SWARMDROP_NAT_IGD_CLIENT"
	igdURL       = "http://10.77.0.2:5000/rootDesc.xml"
	igdLANIP     = "10.77.0.1"
	igdExternal  = "11.22.33.44"
)

func TestMain(m *testing.M) {
	if os.Getenv(igdClientEnv) == "1" {
		os.Exit(igdClientMain())
	}
	os.Exit(m.Run())
}

// igdClientMain runs a Service with real UPnP discovery. It prints
// "status <json>" on each change; stdin lines "off" and "on" switch it,
// end of stdin shuts it down, after which it prints "done".
func igdClientMain() int {
	port, _ := strconv.Atoi(os.Getenv("NAT_IGD_PORT"))
	lease, _ := time.ParseDuration(os.Getenv("NAT_IGD_LEASE"))
	var out sync.Mutex
	s := NewService(Config{
		Port:        port,
		Description: "swarmdrop igd test",
		Lease:       lease,
		OnChange: func(st Status) {
			b, _ := json.Marshal(st)
			out.Lock()
			fmt.Printf("status %s\n", b)
			out.Unlock()
		},
		Logf: func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) },
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer cancel()
		in := bufio.NewScanner(os.Stdin)
		for in.Scan() {
			s.SetEnabled(in.Text() == "on")
		}
	}()
	s.SetEnabled(true)
	if err := s.Serve(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "Serve:", err)
		return 1
	}
	out.Lock()
	fmt.Println("done")
	out.Unlock()
	return 0
}

func TestIGDRealRouter(t *testing.T) {
	testpeers.RequireRoot(t, "running a router in network namespaces")
	for _, c := range [][2]string{{"ip", "iproute2"}, {"nft", "nftables"}, {"miniupnpd", "miniupnpd"}, {"upnpc", "miniupnpc"}} {
		testpeers.Require(t, c[0], c[1])
	}
	probe := uniquePrefix(t) + "probe"
	if out, err := exec.Command("ip", "netns", "add", probe).CombinedOutput(); err != nil {
		testpeers.CannotRun(t, "cannot create a network namespace: %v: %s", err, out)
	}
	exec.Command("ip", "netns", "del", probe).Run()

	t.Run("IGDv2", func(t *testing.T) {
		t.Parallel()
		testIGD(t, false, "WANIPConnection:2")
	})
	t.Run("IGDv1", func(t *testing.T) {
		t.Parallel()
		testIGD(t, true, "WANIPConnection:1")
	})
}

func uniquePrefix(t *testing.T) string {
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "sdn" + hex.EncodeToString(b)
}

func testIGD(t *testing.T, v1 bool, service string) {
	script, err := filepath.Abs("../scripts/igd-netns.sh")
	if err != nil {
		t.Fatal(err)
	}
	prefix := uniquePrefix(t)
	lan := prefix + "lan"
	env := append(os.Environ(), "IGD_NS_PREFIX="+prefix, "IGD_DIR="+filepath.Join(t.TempDir(), "igd"))
	if v1 {
		env = append(env, "IGD_V1=1")
	}
	igd := func(arg string) (string, error) {
		cmd := exec.Command("sh", script, arg)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	t.Cleanup(func() {
		if out, err := igd("down"); err != nil {
			t.Errorf("igd-netns.sh down: %v: %s", err, out)
		}
	})
	if out, err := igd("up"); err != nil {
		t.Fatalf("igd-netns.sh up: %v: %s", err, out)
	}

	const lease = 4 * time.Second
	port := 20000 + int(time.Now().UnixNano()%20000)
	c := startIGDClient(t, lan, port, lease)

	first := c.waitStatus("mapped", 20*time.Second, func(st Status) bool { return st.State == StateMapped })
	if first.TCP.ExternalPort != port || first.UDP.ExternalPort != port {
		t.Errorf("external ports %d/%d, want %d", first.TCP.ExternalPort, first.UDP.ExternalPort, port)
	}
	if first.LocalIP.String() != igdLANIP || first.ExternalIP.String() != igdExternal {
		t.Errorf("local %v external %v, want %s %s", first.LocalIP, first.ExternalIP, igdLANIP, igdExternal)
	}
	if !strings.Contains(first.Gateway, service) || !strings.Contains(first.Gateway, igdURL) {
		t.Errorf("gateway %q, want %s at %s", first.Gateway, service, igdURL)
	}
	if first.TCP.Lease != lease || first.UDP.Lease != lease {
		t.Errorf("leases %v/%v, want %v", first.TCP.Lease, first.UDP.Lease, lease)
	}
	checkRouter(t, lan, port, true)

	// Renewal: a later expiry is reported, and the router still holds
	// both mappings after the first lease has run out.
	c.waitStatus("renewal", 2*lease, func(st Status) bool {
		return st.State == StateMapped && st.TCP.Expires.After(first.TCP.Expires) && st.UDP.Expires.After(first.UDP.Expires)
	})
	time.Sleep(time.Until(first.TCP.Expires.Add(1500 * time.Millisecond)))
	checkRouter(t, lan, port, true)

	c.send("off")
	c.waitStatus("off", 10*time.Second, func(st Status) bool { return st.State == StateOff })
	checkRouter(t, lan, port, false)

	c.send("on")
	c.waitStatus("mapped again", 20*time.Second, func(st Status) bool { return st.State == StateMapped })
	checkRouter(t, lan, port, true)

	c.shutdown()
	checkRouter(t, lan, port, false)
}

// igdClient is the test binary running igdClientMain in the LAN namespace.
type igdClient struct {
	t        *testing.T
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	statuses chan Status
	done     chan struct{} // closed when the client printed "done"
	stderr   *syncBuffer
}

func startIGDClient(t *testing.T, lan string, port int, lease time.Duration) *igdClient {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := &igdClient{t: t, statuses: make(chan Status, 100), done: make(chan struct{}), stderr: &syncBuffer{}}
	c.cmd = exec.Command("ip", "netns", "exec", lan, exe, "-test.run=^$")
	c.cmd.Env = append(os.Environ(), igdClientEnv+"=1",
		"NAT_IGD_PORT="+strconv.Itoa(port), "NAT_IGD_LEASE="+lease.String())
	c.cmd.Stderr = c.stderr
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.stdin.Close()
		c.cmd.Process.Kill()
		c.cmd.Wait()
		if t.Failed() {
			t.Logf("client log:\n%s", c.stderr.String())
		}
	})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if line == "done" {
				close(c.done)
				continue
			}
			js, ok := strings.CutPrefix(line, "status ")
			if !ok {
				continue
			}
			var st Status
			if err := json.Unmarshal([]byte(js), &st); err == nil {
				c.statuses <- st
			}
		}
		close(c.statuses)
	}()
	return c
}

func (c *igdClient) waitStatus(what string, timeout time.Duration, ok func(Status) bool) Status {
	c.t.Helper()
	deadline := time.After(timeout)
	var last Status
	for {
		select {
		case st, open := <-c.statuses:
			if !open {
				c.t.Fatalf("client ended while waiting for %s; last status %+v", what, last)
			}
			last = st
			if ok(st) {
				return st
			}
		case <-deadline:
			c.t.Fatalf("waiting for %s: last status %+v", what, last)
		}
	}
}

func (c *igdClient) send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.stdin, line+"\n"); err != nil {
		c.t.Fatalf("telling the client %q: %v", line, err)
	}
}

// shutdown ends the client's input, which cancels its Serve context.
func (c *igdClient) shutdown() {
	c.t.Helper()
	c.stdin.Close()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		c.t.Fatal("client did not finish after its context ended")
	}
	if err := c.cmd.Wait(); err != nil {
		c.t.Fatalf("client: %v", err)
	}
}

var upnpcEntry = regexp.MustCompile(`^\s*\d+\s+(TCP|UDP)\s+(\d+)->([0-9.]+):(\d+)\s+'([^']*)'\s+'[^']*'\s+(\d+)`)

// checkRouter lists the router's mappings with upnpc from the LAN side and
// checks that both of ours are there (to our LAN address), or that neither
// is.
func checkRouter(t *testing.T, lan string, port int, want bool) {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", lan, "upnpc", "-u", igdURL, "-l").CombinedOutput()
	if err != nil {
		t.Fatalf("upnpc -l: %v: %s", err, out)
	}
	found := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		m := upnpcEntry.FindStringSubmatch(line)
		if m == nil || m[2] != strconv.Itoa(port) {
			continue
		}
		if m[3] != igdLANIP || m[4] != strconv.Itoa(port) || m[5] != "swarmdrop igd test" {
			t.Errorf("router entry %q: want %s:%d 'swarmdrop igd test'", line, igdLANIP, port)
		}
		if l, _ := strconv.Atoi(m[6]); l > 4 {
			t.Errorf("router entry %q: lease over 4 s", line)
		}
		found[m[1]] = true
	}
	if want && (!found["TCP"] || !found["UDP"]) {
		t.Errorf("router holds TCP %v UDP %v for port %d, want both:\n%s", found["TCP"], found["UDP"], port, out)
	}
	if !want && len(found) > 0 {
		t.Errorf("router still holds %v for port %d:\n%s", found, port, out)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
