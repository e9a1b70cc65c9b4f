// Package testpeers runs real counterparts for tests: libtorrent through
// ltpeer.py (Debian's python3-libtorrent, under /usr/bin/python3),
// mktorrent, aria2 and opentracker. Everything binds to loopback.
//
// A missing counterpart fails the test with the package to install (make
// deps installs them all); it never skips, since a skipped test proves
// nothing.
package testpeers

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Python is the interpreter that can import libtorrent.
const Python = "/usr/bin/python3"

// LTPeer returns the path of ltpeer.py.
func LTPeer() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "ltpeer.py")
}

// Require fails t unless the program is on PATH (or in /usr/sbin, which
// a user's PATH may lack); pkg names the Debian package that provides it.
func Require(t testing.TB, program, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(program)
	if err != nil {
		p, err = exec.LookPath(filepath.Join("/usr/sbin", program))
	}
	if err != nil {
		t.Fatalf("%s not found: install the Debian package %s (make deps)", program, pkg)
	}
	return p
}

var libtorrentOK struct {
	once sync.Once
	err  error
}

// RequireLibtorrent fails t unless /usr/bin/python3 can import libtorrent.
func RequireLibtorrent(t testing.TB) {
	t.Helper()
	libtorrentOK.once.Do(func() {
		out, err := exec.Command(Python, "-c", "import libtorrent").CombinedOutput()
		if err != nil {
			libtorrentOK.err = fmt.Errorf("%v: %s", err, out)
		}
	})
	if libtorrentOK.err != nil {
		t.Fatalf("libtorrent for %s is missing: install the Debian package python3-libtorrent (make deps): %v", Python, libtorrentOK.err)
	}
}

// LT runs ltpeer.py with args to completion and returns its standard
// output; it fails t on a non-zero exit.
func LT(t testing.TB, args ...string) string {
	t.Helper()
	RequireLibtorrent(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, Python, append([]string{LTPeer()}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ltpeer.py %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// Proc is a counterpart running in the background; it is killed when the
// test ends. Lines holds its standard output, line by line.
type Proc struct {
	Cmd   *exec.Cmd
	Lines chan string
	mu    sync.Mutex
	log   strings.Builder
}

// StartLT starts ltpeer.py with args in the background.
func StartLT(t testing.TB, args ...string) *Proc {
	t.Helper()
	RequireLibtorrent(t)
	return Start(t, Python, append([]string{LTPeer()}, args...)...)
}

// Start starts a program in the background; its standard output is read
// line by line into Lines, its standard error kept for failure messages.
func Start(t testing.TB, program string, args ...string) *Proc {
	t.Helper()
	cmd := exec.Command(program, args...)
	p := &Proc{Cmd: cmd, Lines: make(chan string, 1024)}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = writerFunc(func(b []byte) (int, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.log.Len() < 64<<10 {
			p.log.Write(b)
		}
		return len(b), nil
	})
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", program, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case p.Lines <- sc.Text():
			default: // nobody is reading; drop
			}
		}
		close(p.Lines)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		cmd.Wait()
	})
	return p
}

// Stderr returns what the process has written to standard error so far.
func (p *Proc) Stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// Wait reads lines until one starts with prefix and returns it; it fails t
// after timeout or when the process ends first.
func (p *Proc) Wait(t testing.TB, prefix string, timeout time.Duration) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-p.Lines:
			if !ok {
				t.Fatalf("%s ended before printing %q; stderr:\n%s", p.Cmd.Path, prefix, p.Stderr())
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-deadline:
			t.Fatalf("%s printed no %q within %v; stderr:\n%s", p.Cmd.Path, prefix, timeout, p.Stderr())
		}
	}
}

// Port returns the port from a "LISTENING <port>" line of ltpeer.py.
func (p *Proc) Port(t testing.TB) int {
	t.Helper()
	var port int
	l := p.Wait(t, "LISTENING ", 20*time.Second)
	if _, err := fmt.Sscanf(l, "LISTENING %d", &port); err != nil {
		t.Fatalf("bad line %q", l)
	}
	return port
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// FreePort returns a port number free for both TCP and UDP on ip
// (a loopback address such as "127.0.0.1" or "::1").
func FreePort(t testing.TB, ip string) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", net.JoinHostPort(ip, strconv.Itoa(port)))
		l.Close()
		if err == nil {
			u.Close()
			return port
		}
	}
	t.Fatal("no free TCP+UDP port")
	return 0
}

// RandomFile writes size pseudo-random bytes (seeded, so reproducible) to
// path, creating its folder.
func RandomFile(t testing.TB, path string, size int64, seed uint64) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	x := seed*0x9E3779B97F4A7C15 + 1
	var b [8]byte
	for i := int64(0); i < size; i += 8 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		for j := range b {
			b[j] = byte(x >> (8 * j))
		}
		n := int64(8)
		if size-i < 8 {
			n = size - i
		}
		w.Write(b[:n])
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}

// SeedLT starts a libtorrent seeder of torrent with its data in dir (on
// 127.0.0.1 and any free port unless extra says otherwise) and returns it
// with its port once it seeds.
func SeedLT(t testing.TB, torrent, dir string, extra ...string) (*Proc, int) {
	t.Helper()
	p := StartLT(t, append([]string{"seed", torrent, dir, "--port", "0", "--seconds", "180"}, extra...)...)
	port := p.Port(t)
	p.Wait(t, "SEEDING", 30*time.Second)
	return p, port
}

// Mktorrent makes a torrent of path with the real mktorrent (Debian's
// mktorrent), pieces of 2^pieceLog bytes, extra flags before the path, and
// returns the .torrent file's path and bytes.
func Mktorrent(t testing.TB, path string, pieceLog int, extra ...string) (string, []byte) {
	t.Helper()
	bin := Require(t, "mktorrent", "mktorrent")
	out := filepath.Join(t.TempDir(), filepath.Base(path)+".torrent")
	args := append([]string{"-l", fmt.Sprint(pieceLog), "-o", out}, extra...)
	if b, err := exec.Command(bin, append(args, path)...).CombinedOutput(); err != nil {
		t.Fatalf("mktorrent: %v\n%s", err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return out, data
}
