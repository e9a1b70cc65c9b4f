package linkem

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The emulator runs in a child process: the program that uses linkem,
// started again with childEnv set, which this package's init turns into
// the emulator before main (or the test binary's TestMain) runs.
//
// Why not goroutines in the calling process: the packets' timing must
// not depend on what that process does, on a machine shared with other
// work. A test or benchmark process is busy with its own goroutines (an
// engine under -race, a flood of writes). Measured on this 2-core machine
// at 85-97 % CPU pressure, 20 Mbit/s of TCP: in the test process, with
// the loop's thread real-time, releases were late by 0.7-2 ms on average
// and up to 240 ms at worst, the thread waiting not for the CPU (a few ms
// in all in the run queue) but for a Go P, held by goroutines whose
// ordinary threads the kernel had set aside. In a process of its own
// with every thread real-time (raisePriority), more Ps than it needs
// (GOMAXPROCS=8) and no garbage collection to speak of (GOGC=off, with
// GOMEMLIMIT as a backstop; it allocates nothing per packet), releases
// are late by 20-40 µs on average and at most a few ms.
//
// The protocol: the child gets the TUN devices as file descriptors 3, 4,
// ... (host 0, 1, ...), and its configuration as one JSON line on stdin.
// It answers with one JSON line of Stats once packets move, and again
// for each byte it reads from stdin after that. At the end of stdin it
// stops, writes a last line of Stats and exits.

// childEnv marks the emulator's child process.
const childEnv = "LINKEM_EMULATOR_CHILD"

func init() {
	if os.Getenv(childEnv) != "1" {
		return
	}
	raisePriority()
	if err := childMain(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "linkem emulator:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// childMain is the emulator process.
func childMain(stdin io.Reader, stdout io.Writer) error {
	in := bufio.NewReader(stdin)
	line, err := in.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("reading the configuration: %w", err)
	}
	var cfg Config
	if err := json.Unmarshal(line, &cfg); err != nil {
		return fmt.Errorf("reading the configuration: %w", err)
	}
	var devs []*device
	for i := range cfg.Hosts {
		fd := 3 + i
		if err := unix.SetNonblock(fd, true); err != nil {
			return fmt.Errorf("device of host %d: %w", i, err)
		}
		devs = append(devs, newDevice(fd, cfg.MTU))
	}
	e := newEmulator(cfg, devs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- e.serve(ctx) }()
	out := json.NewEncoder(stdout)
	report := func() error {
		s := e.stats()
		var ru unix.Rusage
		if unix.Getrusage(unix.RUSAGE_SELF, &ru) == nil {
			s.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			s.UserCPU = time.Duration(ru.Utime.Nano())
		}
		return out.Encode(s)
	}
	if err := report(); err != nil {
		return err
	}
	requests := make(chan error, 1)
	go func() {
		for {
			if _, err := in.ReadByte(); err != nil {
				requests <- err
				return
			}
			if err := report(); err != nil {
				requests <- err
				return
			}
		}
	}()
	select {
	case err := <-served:
		return err
	case err := <-requests:
		cancel()
		if serr := <-served; serr != nil {
			return serr
		}
		if err != io.EOF {
			return err
		}
		return report()
	}
}

// childStartTimeout bounds how long the child takes to report it runs.
const childStartTimeout = 10 * time.Second

// childConn is the parent's end of the emulator process.
type childConn struct {
	cmd    *exec.Cmd
	stdin  *os.File // closing it stops the child
	out    *bufio.Reader
	stdout *os.File
	stderr *bytes.Buffer // read only once the process has exited
}

// startChild starts the emulator for cfg on the devices tuns and returns
// it with its first report.
func startChild(cfg Config, tuns []*os.File) (*childConn, Stats, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, Stats{}, fmt.Errorf("finding this program to run the emulator: %w", err)
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, Stats{}, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, Stats{}, err
	}
	c := &childConn{stdin: inW, stdout: outR, out: bufio.NewReader(outR), stderr: new(bytes.Buffer)}
	c.cmd = exec.Command(exe)
	// A race-detecting build would sleep a second at exit, for nothing.
	race := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	c.cmd.Env = append(os.Environ(), childEnv+"=1", "GOMAXPROCS=8", "GOGC=off", "GOMEMLIMIT=512MiB", "GORACE="+race)
	c.cmd.Dir = "/"
	c.cmd.Stdin, c.cmd.Stdout, c.cmd.Stderr = inR, outW, c.stderr
	c.cmd.ExtraFiles = tuns
	err = c.cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, Stats{}, fmt.Errorf("starting the emulator: %w", err)
	}
	line, _ := json.Marshal(cfg)
	inW.Write(append(line, '\n'))
	// The first report says the emulator runs; a child that cannot start
	// exits, which ends the read.
	timer := time.AfterFunc(childStartTimeout, func() { c.cmd.Process.Kill() })
	first, err := c.read()
	timer.Stop()
	if err != nil {
		c.stdin.Close()
		c.cmd.Process.Kill()
		c.cmd.Wait()
		c.stdout.Close()
		return nil, Stats{}, fmt.Errorf("starting the emulator: %w: %s", err, bytes.TrimSpace(c.stderr.Bytes()))
	}
	return c, first, nil
}

// read reads one report.
func (c *childConn) read() (Stats, error) {
	line, err := c.out.ReadBytes('\n')
	if err != nil {
		return Stats{}, err
	}
	var s Stats
	err = json.Unmarshal(line, &s)
	return s, err
}

// stats asks for a report and returns it.
func (c *childConn) stats() (Stats, error) {
	if _, err := c.stdin.Write([]byte{'s'}); err != nil {
		return Stats{}, fmt.Errorf("asking the emulator: %w", err)
	}
	s, err := c.read()
	if err != nil {
		return Stats{}, fmt.Errorf("reading the emulator's report: %w", err)
	}
	return s, nil
}

// stop ends the child and returns its last report; exited is closed when
// the process has ended (someone else waits for it).
func (c *childConn) stop(exited <-chan struct{}) (Stats, error) {
	c.stdin.Close()
	last, rerr := c.read()
	c.stdout.Close()
	timer := time.AfterFunc(childStartTimeout, func() { c.cmd.Process.Kill() })
	<-exited
	timer.Stop()
	if !c.cmd.ProcessState.Success() || rerr != nil {
		return last, fmt.Errorf("emulator %v: %s", c.cmd.ProcessState, bytes.TrimSpace(c.stderr.Bytes()))
	}
	return last, nil
}

// raisePriority puts every thread of this process ahead of the machine's
// ordinary work: real-time (SCHED_FIFO at the lowest priority) when
// allowed, else nice -10. Threads made later inherit it. Best effort.
//
// Every thread and not only the loop's: the Go scheduler moves the loop's
// goroutine between threads (after a long system call, or when it
// preempts it: it does so to any goroutine that has run 10 ms without
// blocking in the scheduler, and waiting in epoll does not count), and
// no thread it may land on should wait behind the machine's other work.
func raisePriority() {
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, task := range tasks {
		tid, err := strconv.Atoi(task.Name())
		if err != nil {
			continue
		}
		attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO, Priority: 1}
		if unix.SchedSetAttr(tid, &attr, 0) != nil {
			unix.Setpriority(unix.PRIO_PROCESS, tid, -10)
		}
	}
}
