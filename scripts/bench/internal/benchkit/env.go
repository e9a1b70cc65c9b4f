package benchkit

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ContentSize is the size of the benchmark content file, 1 GiB.
const ContentSize = 1 << 30

// Python is the interpreter that has libtorrent (Debian's python3-libtorrent).
const Python = "/usr/bin/python3"

// CacheDir is ${TMPDIR:-/tmp}/swarmdrop-bench, created if needed: the
// content and the built binary live there between runs.
func CacheDir() (string, error) {
	dir := filepath.Join(os.TempDir(), "swarmdrop-bench")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("cache folder: %w", err)
	}
	return dir, nil
}

// ModuleRoot is the folder of Swarmdrop's go.mod, found from the working
// directory upwards.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// LTPeer is the path of libtorrent's reference peer script.
func LTPeer(root string) string {
	return filepath.Join(root, "internal", "testpeers", "ltpeer.py")
}

// BuildSwarmdrop builds the command-line swarmdrop (no window) into dir.
func BuildSwarmdrop(ctx context.Context, root, dir string) (string, error) {
	out := filepath.Join(dir, "swarmdrop-bench-bin")
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "nogui", "-o", out, ".")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building swarmdrop: %w\n%s", err, b)
	}
	return out, nil
}

// EnsureContent returns dir/1GiB.bin, made of random bytes the first time,
// and reads it once so that it is in the page cache.
func EnsureContent(dir string) (string, error) {
	path := filepath.Join(dir, "1GiB.bin")
	if fi, err := os.Stat(path); err != nil || fi.Size() != ContentSize {
		fmt.Printf("making %s (once)\n", path)
		if err := writeRandom(path, ContentSize); err != nil {
			return "", err
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := io.Copy(io.Discard, f); err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	return path, nil
}

// writeRandom writes n random bytes to path through a temporary file.
func writeRandom(path string, n int64) error {
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return err
	}
	if _, err := io.CopyN(f, rand.Reader, n); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

// SwarmdropEnv makes empty XDG folders under dir for one swarmdrop process
// and returns the environment that points it at them. The settings file
// holds no bootstrap contacts, so only the torrent's nodes and the command
// line's contacts are used (nothing outside loopback is asked), and
// local peer discovery is off (no multicast on the machine's network).
func SwarmdropEnv(dir string) ([]string, error) {
	vars := map[string]string{
		"XDG_CONFIG_HOME":  filepath.Join(dir, "config"),
		"XDG_STATE_HOME":   filepath.Join(dir, "state"),
		"XDG_RUNTIME_DIR":  filepath.Join(dir, "runtime"),
		"XDG_DOWNLOAD_DIR": filepath.Join(dir, "downloads"),
	}
	var env []string
	for k, v := range vars {
		if err := os.MkdirAll(v, 0o700); err != nil {
			return nil, err
		}
		env = append(env, k+"="+v)
	}
	settings := filepath.Join(vars["XDG_CONFIG_HOME"], "swarmdrop", "settings.json")
	if err := os.MkdirAll(filepath.Dir(settings), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(settings, []byte(`{"bootstrap": "", "upnp": false, "lsd": false}`+"\n"), 0o600); err != nil {
		return nil, err
	}
	return env, nil
}

// FreePort returns a TCP port on ip that is free for both TCP and UDP at
// the time of the call.
func FreePort(ip string) (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", net.JoinHostPort(ip, strconv.Itoa(port)))
		l.Close()
		if err == nil {
			u.Close()
			return port, nil
		}
	}
	return 0, fmt.Errorf("no free port on %s", ip)
}

// Uptime is the output of uptime(1): the machine's load while benchmarking.
func Uptime() string {
	b, err := exec.Command("uptime").Output()
	if err != nil {
		b, _ = os.ReadFile("/proc/loadavg")
	}
	return strings.TrimSpace(string(b))
}

// FirstWrite polls path every interval until it has a data block on disk
// (the clients create files sparse, so that is their first write) and
// returns when it saw it, or the zero time once ctx ends.
func FirstWrite(ctx context.Context, path string, interval time.Duration) time.Time {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if fi, err := os.Stat(path); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Blocks > 0 {
				return time.Now()
			}
		}
		select {
		case <-ctx.Done():
			return time.Time{}
		case <-tick.C:
		}
	}
}

// Main is a benchmark's main: it parses -runs, runs run with a context
// that ends on Ctrl-C or SIGTERM, kills every child process and exits 1
// with one line on error.
func Main(name string, run func(ctx context.Context, runs int) error) {
	runs := flag.Int("runs", 3, "runs of each case (median printed)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := func() error {
		if *runs < 1 {
			return fmt.Errorf("-runs must be at least 1")
		}
		fmt.Println("load before:", Uptime())
		return run(ctx, *runs)
	}()
	stop()
	KillAll()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}
