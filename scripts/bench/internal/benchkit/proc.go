// Package benchkit holds what Swarmdrop's benchmark programs share:
// child processes whose output lines are time-stamped, the cached 1 GiB
// content, the swarmdrop binary, fresh XDG folders and small statistics.
// Benchmarks print figures; they are not tests.
package benchkit

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Line is one line a child process wrote on standard output, with the time
// it was read.
type Line struct {
	Text string
	At   time.Time
}

// Proc is a running child process in its own process group, killed by
// KillAll at the latest. Its standard output is read into a list of lines
// that WaitFor and Lines search; the last bytes of standard error are kept
// for error messages. A Proc is safe for concurrent use.
type Proc struct {
	Name    string
	Started time.Time

	cmd    *exec.Cmd
	stderr *tail
	exited chan struct{}

	mu      sync.Mutex // protects the fields below
	lines   []Line
	cursor  int           // next line WaitFor looks at
	changed chan struct{} // closed when a line arrives or output ends
	waitErr error
	endedAt time.Time
}

// Ended describes a process that has exited.
type Ended struct {
	// At is when the exit was noticed.
	At time.Time
	// MaxRSS is the peak resident set size in KiB (getrusage's ru_maxrss).
	MaxRSS int64
	// CPU is the user plus system CPU time used.
	CPU time.Duration
}

// running holds every started Proc until it exits, for KillAll.
var running = struct {
	sync.Mutex
	procs map[*Proc]bool
}{procs: map[*Proc]bool{}}

// Start runs name with args and the extra environment variables env (on
// top of this process's), in a new process group that dies with us.
func Start(label string, env []string, name string, args ...string) (*Proc, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &Proc{Name: label, cmd: cmd, stderr: &tail{max: 4096}, exited: make(chan struct{}), changed: make(chan struct{})}
	cmd.Stderr = p.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", label, err)
	}
	p.Started = time.Now()
	onStarterThread(func() { err = cmd.Start() })
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", label, err)
	}
	running.Lock()
	running.procs[p] = true
	running.Unlock()
	go p.read(bufio.NewScanner(out))
	return p, nil
}

// starter is a goroutine locked to an OS thread that never ends, on
// which Start starts every child. The parent-death signal (Pdeathsig)
// fires when the thread that forked the child ends, not the process, and
// Go ends a thread when a goroutine locked to it returns (as linkem's
// namespace helpers do): a child forked from such a thread earlier would
// be killed at that moment.
var starter struct {
	once sync.Once
	run  chan func()
}

// onStarterThread runs f on the starter's thread and waits for it.
func onStarterThread(f func()) {
	starter.once.Do(func() {
		starter.run = make(chan func())
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives as long as the process
			for g := range starter.run {
				g()
			}
		}()
	})
	done := make(chan struct{})
	starter.run <- func() { f(); close(done) }
	<-done
}

// read collects output lines until the pipe closes, then reaps the child.
func (p *Proc) read(sc *bufio.Scanner) {
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		p.mu.Lock()
		p.lines = append(p.lines, Line{Text: sc.Text(), At: time.Now()})
		p.signalLocked()
		p.mu.Unlock()
	}
	err := p.cmd.Wait()
	p.mu.Lock()
	p.waitErr, p.endedAt = err, time.Now()
	p.signalLocked()
	p.mu.Unlock()
	running.Lock()
	delete(running.procs, p)
	running.Unlock()
	close(p.exited)
}

// signalLocked wakes the waiters of WaitFor (p.mu held).
func (p *Proc) signalLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// ErrExited is returned by WaitFor when the process ended first.
var ErrExited = errors.New("process exited")

// WaitFor returns the first line from the cursor on for which match is
// true, and moves the cursor past it. It fails when ctx ends, after
// timeout, or when the process exits first.
func (p *Proc) WaitFor(ctx context.Context, timeout time.Duration, match func(string) bool) (Line, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		for p.cursor < len(p.lines) {
			l := p.lines[p.cursor]
			p.cursor++
			if match(l.Text) {
				p.mu.Unlock()
				return l, nil
			}
		}
		changed := p.changed
		p.mu.Unlock()
		select {
		case <-changed:
			continue
		case <-p.exited:
			if p.pending() {
				continue
			}
			return Line{}, fmt.Errorf("%s: %w (%v) before the awaited line; stderr: %s", p.Name, ErrExited, p.waitErr, p.stderr)
		case <-deadline.C:
			return Line{}, fmt.Errorf("%s: no awaited line after %v; stderr: %s", p.Name, timeout, p.stderr)
		case <-ctx.Done():
			return Line{}, ctx.Err()
		}
	}
}

// WaitPrefix is WaitFor a line starting with prefix.
func (p *Proc) WaitPrefix(ctx context.Context, timeout time.Duration, prefix string) (Line, error) {
	return p.WaitFor(ctx, timeout, func(s string) bool { return strings.HasPrefix(s, prefix) })
}

// pending reports whether lines remain past the cursor.
func (p *Proc) pending() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cursor < len(p.lines)
}

// Lines returns a copy of every line read so far.
func (p *Proc) Lines() []Line {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Line(nil), p.lines...)
}

// Exit waits up to timeout for the process to end by itself, killing it
// after that, and returns when it ended, its peak memory and its wait
// error.
func (p *Proc) Exit(ctx context.Context, timeout time.Duration) (Ended, error) {
	var err error
	select {
	case <-p.exited:
	case <-time.After(timeout):
		p.Kill()
		err = fmt.Errorf("%s did not exit within %v; killed", p.Name, timeout)
	case <-ctx.Done():
		p.Kill()
		err = ctx.Err()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil && p.waitErr != nil {
		err = fmt.Errorf("%s: %w; stderr: %s", p.Name, p.waitErr, p.stderr)
	}
	e := Ended{At: p.endedAt, MaxRSS: p.maxRSS()}
	if ps := p.cmd.ProcessState; ps != nil {
		e.CPU = ps.UserTime() + ps.SystemTime()
	}
	return e, err
}

// maxRSS is the peak resident set size of the ended process in KiB.
func (p *Proc) maxRSS() int64 {
	if p.cmd.ProcessState == nil {
		return 0
	}
	if ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss
	}
	return 0
}

// Kill ends the process group with SIGKILL and waits for the process.
func (p *Proc) Kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.exited
}

// KillAll kills every process started with Start that is still running.
func KillAll() {
	running.Lock()
	procs := make([]*Proc, 0, len(running.procs))
	for p := range running.procs {
		procs = append(procs, p)
	}
	running.Unlock()
	for _, p := range procs {
		p.Kill()
	}
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}
