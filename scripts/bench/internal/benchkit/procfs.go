package benchkit

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Pid returns the process ID of the running process.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Interrupt sends SIGINT to the process alone (not its group), as Ctrl-C
// in a terminal would, so that it can shut down cleanly.
func (p *Proc) Interrupt() error { return syscall.Kill(p.Pid(), syscall.SIGINT) }

// Usage is what /proc says of a running process.
type Usage struct {
	// RSS and PeakRSS are the resident set size now and its peak since
	// the start or the last ResetPeakRSS (VmRSS, VmHWM), in KiB.
	RSS, PeakRSS int64
	// CPU is the user plus system time of all its threads so far.
	CPU time.Duration
}

// clockTick is USER_HZ, the unit of /proc/PID/stat's times: 100 on every
// Linux architecture Go supports.
const clockTick = 100

// ReadUsage reads /proc/PID/status and /proc/PID/stat.
func ReadUsage(pid int) (Usage, error) {
	var u Usage
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, err
	}
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *int64
		switch k {
		case "VmRSS":
			dst = &u.RSS
		case "VmHWM":
			dst = &u.PeakRSS
		default:
			continue
		}
		*dst, _ = strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return u, err
	}
	// The command name (field 2) may hold spaces; the fields after its
	// closing parenthesis start with field 3.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return u, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return u, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, _ := strconv.ParseInt(f[12], 10, 64) // field 15
	u.CPU = time.Duration(utime+stime) * time.Second / clockTick
	return u, nil
}

// ResetPeakRSS sets the process's VmHWM back to its current RSS (Linux
// 4.0 and later, for a process we may trace), so that the next ReadUsage
// gives the peak since now.
func ResetPeakRSS(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}
