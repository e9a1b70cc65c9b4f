package testpeers

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// StartOpentracker runs opentracker on 127.0.0.1 with TCP (HTTP) and UDP
// on the same free port, serving the given info hashes (hex), and returns
// the port. Debian's build serves only whitelisted hashes and changes root
// into its -d folder, so the whitelist is named relative to that folder,
// which user nobody must be able to read.
func StartOpentracker(t testing.TB, hexHashes ...string) int {
	t.Helper()
	bin := Require(t, "opentracker", "opentracker")
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	list := strings.Join(hexHashes, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "whitelist"), []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	port := FreePort(t, "127.0.0.1")
	var out bytes.Buffer
	cmd := exec.Command(bin, "-i", "127.0.0.1", "-p", strconv.Itoa(port), "-P", strconv.Itoa(port), "-d", dir, "-w", "whitelist")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting opentracker: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("opentracker output:\n%s", out.String())
		}
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return port
		}
		if time.Now().After(deadline) {
			t.Fatalf("opentracker not listening on %s: %v\n%s", addr, err, out.String())
		}
	}
}

// TrackerURLs returns opentracker's HTTP and UDP announce URLs on port.
func TrackerURLs(port int) (httpURL, udpURL string) {
	return fmt.Sprintf("http://127.0.0.1:%d/announce", port), fmt.Sprintf("udp://127.0.0.1:%d/announce", port)
}
