package app

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Instance is the running Swarmdrop's claim on the single-instance socket
// ($XDG_RUNTIME_DIR/swarmdrop.sock, a user-only Unix socket). A second
// process that finds it hands over its arguments (.torrent paths made
// absolute, magnet links) and exits.
type Instance struct {
	l    net.Listener
	path string
}

// handover is what a second process sends, one JSON object per line.
type handover struct {
	Args []string `json:"args"`
}

// ClaimInstance makes this process the single instance, or hands args to
// the running one. It returns the claimed instance, or handed == true when
// another instance took the arguments. A stale socket left by a crashed
// instance (nobody answering) is replaced.
func ClaimInstance(path string, args []string) (inst *Instance, handed bool, err error) {
	args = absArgs(args)
	for range 3 {
		if err := handOver(path, args); err == nil {
			return nil, true, nil
		} else if !isNobodyThere(err) {
			return nil, false, fmt.Errorf("handing over to the running Swarmdrop: %w", err)
		}
		os.Remove(path) // stale socket from a crashed instance
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, false, err
		}
		old := syscall.Umask(0o077)
		l, err := net.Listen("unix", path)
		syscall.Umask(old)
		if err == nil {
			os.Chmod(path, 0o600)
			l.(*net.UnixListener).SetUnlinkOnClose(true)
			return &Instance{l: l, path: path}, false, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, false, fmt.Errorf("claiming %s: %w", path, err)
		}
		// Another process won the race: hand over to it.
		time.Sleep(50 * time.Millisecond)
	}
	return nil, false, fmt.Errorf("could not claim or reach %s", path)
}

// isNobodyThere reports a dial error meaning no instance listens.
func isNobodyThere(err error) bool {
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED)
}

// handOver sends args to the running instance and waits for its "ok".
func handOver(path string, args []string) error {
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	b, _ := json.Marshal(handover{Args: args})
	if _, err := c.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("sending: %w", err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("no answer: %w", err)
	}
	if strings.TrimSpace(line) != "ok" {
		return fmt.Errorf("refused: %s", strings.TrimSpace(line))
	}
	return nil
}

// absArgs makes file arguments absolute, so the running instance (with
// another working folder) finds them; magnet links pass unchanged.
func absArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if !strings.HasPrefix(a, "magnet:") {
			if abs, err := filepath.Abs(a); err == nil {
				out[i] = abs
			}
		}
	}
	return out
}

// Serve accepts hand-overs until ctx ends, calling handle with each
// process's arguments (possibly none: "raise the window").
func (i *Instance) Serve(ctx context.Context, handle func(args []string)) error {
	go func() {
		<-ctx.Done()
		i.l.Close()
	}()
	for {
		c, err := i.l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		i.serveOne(c, handle)
	}
}

func (i *Instance) serveOne(c net.Conn, handle func([]string)) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(&limitedReader{c, 1 << 20})
	line, err := r.ReadBytes('\n')
	if err != nil {
		return
	}
	var h handover
	if err := json.Unmarshal(line, &h); err != nil {
		c.Write([]byte("bad request\n"))
		return
	}
	c.Write([]byte("ok\n"))
	handle(h.Args)
}

// Close gives up the claim and removes the socket.
func (i *Instance) Close() error { return i.l.Close() }

// limitedReader stops reading after n bytes.
type limitedReader struct {
	c net.Conn
	n int
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errors.New("hand-over too long")
	}
	if len(p) > l.n {
		p = p[:l.n]
	}
	n, err := l.c.Read(p)
	l.n -= n
	return n, err
}
