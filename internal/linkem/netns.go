package linkem

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// Namespaces are made and configured with iproute2's ip; only opening a
// TUN device inside one needs a system call of our own.

// netnsDir is where ip keeps named network namespaces.
const netnsDir = "/run/netns"

// ipCommand runs ip with args, feeding it stdin when not empty (for -batch).
func ipCommand(stdin string, args ...string) error {
	cmd := exec.Command("ip", args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}

func addNamespace(name string) error { return ipCommand("", "netns", "add", name) }

func deleteNamespace(name string) error { return ipCommand("", "netns", "delete", name) }

// inNamespace runs f on an OS thread that has joined the network namespace
// ns. The thread is never given back to the Go scheduler: it ends with f's
// goroutine, so no other goroutine ever runs in ns by accident. Sockets
// and devices f opens stay in ns; goroutines f starts do not run there.
func inNamespace(ns string, f func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with us
		fd, err := unix.Open(filepath.Join(netnsDir, ns), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			done <- fmt.Errorf("opening namespace %s: %w", ns, err)
			return
		}
		err = unix.Setns(fd, unix.CLONE_NEWNET)
		unix.Close(fd)
		if err != nil {
			done <- fmt.Errorf("joining namespace %s: %w", ns, err)
			return
		}
		done <- f()
	}()
	return <-done
}

// openTUN creates the TUN device name in namespace ns and returns it
// (blocking: the emulator makes it non-blocking). The device lives as long as a descriptor of it is open.
func openTUN(ns, name string) (*os.File, error) {
	var tun *os.File
	err := inNamespace(ns, func() error {
		// The device belongs to the namespace of the thread that opens
		// /dev/net/tun; it keeps working from any thread afterwards.
		fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("opening /dev/net/tun: %w", err)
		}
		ifr, err := unix.NewIfreq(name)
		if err == nil {
			ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
			err = unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr)
		}
		if err != nil {
			unix.Close(fd)
			return fmt.Errorf("creating TUN device %s in %s: %w", name, ns, err)
		}
		tun = os.NewFile(uintptr(fd), ns+"/"+name)
		return nil
	})
	return tun, err
}

// configureHost brings up lo and the TUN device dev in namespace ns with
// host i's addresses, and routes everything through dev.
func configureHost(ns, dev string, i, mtu int) error {
	a4 := hostAddr(prefix4, i)
	a6 := hostAddr(prefix6, i)
	script := fmt.Sprintf(`link set lo up
link set %[1]s mtu %[2]d up
addr add %[3]s/%[4]d dev %[1]s
addr add %[5]s/%[6]d dev %[1]s nodad
route add default dev %[1]s
route add ::/0 dev %[1]s
`, dev, mtu, a4, prefix4.Bits(), a6, prefix6.Bits())
	return ipCommand(script, "-n", ns, "-batch", "-")
}

// setSysctls writes each value to its file under /proc/sys (net/...) in
// namespace ns; those files are the namespace's own.
func setSysctls(ns string, sysctls map[string]string) error {
	if len(sysctls) == 0 {
		return nil
	}
	return inNamespace(ns, func() error {
		for k, v := range sysctls {
			if err := os.WriteFile(filepath.Join("/proc/sys", k), []byte(v), 0); err != nil {
				return fmt.Errorf("sysctl %s in %s: %w", k, ns, err)
			}
		}
		return nil
	})
}
