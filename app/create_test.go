package app

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

func TestCreateCommandErrors(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "data.bin")
	testpeers.RandomFile(t, f, 50_000, 1)
	out := filepath.Join(dir, "out.torrent")
	os.WriteFile(out, []byte("keep me"), 0o644)
	usage := map[string][]string{
		"missing port":    {"--nodes", "router.example.org", f},
		"outside 1-65535": {"--nodes", "a:1, b:70000", f},
		"empty host":      {"--nodes", ":6881", f},
		"power of two":    {"--piece-length", "48K", f},
		"not a size":      {"--piece-length", "big", f},
		"not a URL":       {"--tracker", "example.org", f},
	}
	for want, args := range usage {
		r := runSwarmdrop(t, append([]string{"create", "-o", out}, args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("create %v: exit %d, stderr %q; want exit 2 naming %q", args, r.code, r.stderr, want)
		}
	}
	r := runSwarmdrop(t, "create", "--nodes", "127.0.0.1:6881", "-o", out, f)
	if r.code != 1 || !strings.Contains(r.stderr, "--force") {
		t.Fatalf("overwrite without --force: exit %d %q", r.code, r.stderr)
	}
	if b, _ := os.ReadFile(out); string(b) != "keep me" {
		t.Fatal("existing file overwritten without --force")
	}
	r = runSwarmdrop(t, "create", "--nodes", "127.0.0.1:6881", "-o", out, filepath.Join(dir, "missing"))
	if r.code != 1 || !strings.Contains(r.stderr, "missing") {
		t.Fatalf("missing input: exit %d %q", r.code, r.stderr)
	}
	r = runSwarmdrop(t, "create", "--quiet", "--nodes", "127.0.0.1:6881", "-o", out, "--force", f)
	if r.code != 0 || !strings.Contains(r.stderr, "only works on this machine") || !strings.Contains(r.stdout, "magnet:?xt=urn:btih:") {
		t.Fatalf("create --force: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestCreateInterrupted: Ctrl-C while hashing leaves no output file.
func TestCreateInterrupted(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "big.bin")
	// 32 GiB of holes: instant to make, seconds to hash.
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(f, 32<<30); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "big.torrent")
	cmd := swarmdropCmd(t, "create", "--nodes", "127.0.0.1:6881", "--piece-length", "16K", "-o", out, f)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if err == nil {
		t.Fatal("hashing 32 GiB finished within 300 ms, before the interrupt: the test proves nothing")
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("interrupted create left %s (%v)", out, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 { // big.bin only
		t.Fatalf("interrupted create left files: %v", entries)
	}
}
