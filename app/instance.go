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
	"time"
)

// Instance is the running Swarmdrop's claim on the single-instance socket
// ($XDG_RUNTIME_DIR/swarmdrop.sock, a Unix socket only its user can use;
// on Windows an AF_UNIX socket in the user's local application data).
// A second process that finds it hands over its arguments (.torrent paths
// made absolute, magnet links), waits for the window's answer, and exits:
// 0 when they were added, 1 with the window's error otherwise.
type Instance struct {
	l    net.Listener
	path string
}

// Hand-over protocol, one line each way: the second process sends a
// handoverRequest as JSON; the instance answers "ok" or "error: TEXT"
// (TEXT on one line) once the window has added the arguments. Instances
// before the answer carried an error only ever said "ok" or "bad request".
type handoverRequest struct {
	Args []string `json:"args"`
}

// Timeouts of the hand-over: how long the instance waits for the window's
// answer, and how long the second process waits for the instance's (a
// little longer, so the instance's "did not answer" reaches it).
const (
	handoverAnswerWait = 10 * time.Second
	handoverDialWait   = 2 * time.Second
	handoverReplyWait  = handoverAnswerWait + 5*time.Second
)

// Handover is what a later `swarmdrop ARGS...` hands to the running
// window: its arguments (none means "show the window") and the way to
// answer it.
type Handover struct {
	Args  []string
	reply chan error // buffered, one slot
}

// NewHandover returns a Handover of args, to be answered with Reply.
func NewHandover(args []string) Handover {
	return Handover{Args: args, reply: make(chan error, 1)}
}

// Reply tells the process that handed the arguments over how adding them
// went: nil, or the error it prints before exiting 1. Only the first call
// counts; Reply never blocks, and does nothing on a zero Handover.
func (h Handover) Reply(err error) {
	select {
	case h.reply <- err:
	default:
	}
}

// Answer waits up to wait for Reply; it is an error if none comes, or if
// ctx ends first (a reply already given still counts then: the window
// may answer and quit at once).
func (h Handover) Answer(ctx context.Context, wait time.Duration) error {
	t := time.NewTimer(wait)
	defer t.Stop()
	var late error
	select {
	case err := <-h.reply:
		return err
	case <-t.C:
		late = fmt.Errorf("the running Swarmdrop did not answer within %v", wait)
	case <-ctx.Done():
		late = errors.New("the running Swarmdrop is quitting")
	}
	select {
	case err := <-h.reply:
		return err
	default:
		return late
	}
}

// RefusedError is the running instance's answer when it could not add
// what was handed over; Error is the window's message.
type RefusedError struct{ Msg string }

func (e *RefusedError) Error() string { return e.Msg }

// ClaimInstance makes this process the single instance, or hands args to
// the running one. It returns the claimed instance, or handed == true when
// another instance took the arguments; err is then a *RefusedError when
// the window could not add them. A stale socket left by a crashed
// instance (nobody answering) is replaced.
func ClaimInstance(path string, args []string) (inst *Instance, handed bool, err error) {
	args = absArgs(args)
	for range 3 {
		err := handOver(path, args)
		var refused *RefusedError
		switch {
		case err == nil:
			return nil, true, nil
		case errors.As(err, &refused):
			return nil, true, refused
		case !isNobodyThere(err):
			return nil, false, fmt.Errorf("handing over to the running Swarmdrop: %w", err)
		}
		os.Remove(path) // stale socket from a crashed instance
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, false, err
		}
		l, err := listenPrivate(path)
		if err == nil {
			return &Instance{l: l, path: path}, false, nil
		}
		if !isAddrInUse(err) {
			return nil, false, fmt.Errorf("claiming %s: %w", path, err)
		}
		// Another process won the race: hand over to it.
		time.Sleep(50 * time.Millisecond)
	}
	return nil, false, fmt.Errorf("could not claim or reach %s", path)
}

// handOver sends args to the running instance and waits for its answer.
func handOver(path string, args []string) error {
	c, err := net.DialTimeout("unix", path, handoverDialWait)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(handoverReplyWait))
	b, _ := json.Marshal(handoverRequest{Args: args})
	if _, err := c.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("sending: %w", err)
	}
	line, err := bufio.NewReader(&limitedReader{c, 64 << 10}).ReadString('\n')
	if err != nil {
		return fmt.Errorf("no answer: %w", err)
	}
	line = strings.TrimSpace(line)
	if line == "ok" {
		return nil
	}
	if msg, ok := strings.CutPrefix(line, "error: "); ok {
		return &RefusedError{Msg: msg}
	}
	return fmt.Errorf("refused: %s", line)
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

// Serve accepts hand-overs until ctx ends, one at a time. For each it
// calls handle with the process's arguments (possibly none: "raise the
// window") and sends back what handle returns.
func (i *Instance) Serve(ctx context.Context, handle func(args []string) error) error {
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

func (i *Instance) serveOne(c net.Conn, handle func([]string) error) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(&limitedReader{c, 1 << 20})
	line, err := r.ReadBytes('\n')
	if err != nil {
		return
	}
	var h handoverRequest
	if err := json.Unmarshal(line, &h); err != nil {
		c.Write([]byte("bad request\n"))
		return
	}
	answer := "ok\n"
	if err := handle(h.Args); err != nil {
		answer = "error: " + oneLine(strings.ReplaceAll(err.Error(), "\n", "; ")) + "\n"
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte(answer))
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
