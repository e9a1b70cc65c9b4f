package testpeers

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
	list := strings.Join(append(slices.Clone(hexHashes), probeHash), "\n") + "\n"
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
		// opentracker listens before its whitelist thread has read the
		// list: until then every hash is "not authorized". A stopped
		// announce of a hash of our own tells when the list is in,
		// without adding a peer to any torrent.
		err := probeOpentracker(addr)
		if err == nil {
			return port
		}
		if time.Now().After(deadline) {
			t.Fatalf("opentracker not serving on %s: %v\n%s", addr, err, out.String())
		}
	}
}

// TrackerURLs returns opentracker's HTTP and UDP announce URLs on port.
func TrackerURLs(port int) (httpURL, udpURL string) {
	return fmt.Sprintf("http://127.0.0.1:%d/announce", port), fmt.Sprintf("udp://127.0.0.1:%d/announce", port)
}

// probeHash is whitelisted in every opentracker the tests start, to learn
// when the whitelist has been read.
const probeHash = "5377617264726f702070726f62652068617368ff"

// probeOpentracker sends a stopped announce of probeHash and reports an
// error until opentracker answers it as a whitelisted hash.
func probeOpentracker(addr string) error {
	ih, _ := hex.DecodeString(probeHash)
	q := "info_hash=" + url.QueryEscape(string(ih)) + "&peer_id=" + url.QueryEscape("-SW0100-probe-probe-") +
		"&port=1&uploaded=0&downloaded=0&left=0&event=stopped&compact=1"
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + addr + "/announce?" + q)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return err
	}
	if bytes.Contains(body, []byte("not authorized")) {
		return errors.New("the whitelist is not read yet")
	}
	return nil
}
