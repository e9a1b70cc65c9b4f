package linkem

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The emulator's loop on socket pairs instead of TUN devices: no root, no
// namespaces, the loop in this process. Routing, delay, the counts and
// stopping; the root tests measure the timing on real devices.

// socketDevices makes n devices, each one end of a packet socket pair, and
// returns them with the other ends (blocking, with a one-second timeout).
func socketDevices(t *testing.T, n int) ([]*device, []int) {
	t.Helper()
	var devs []*device
	var peers []int
	for range n {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		unix.SetNonblock(fds[0], true)
		tv := unix.NsecToTimeval(int64(time.Second))
		unix.SetsockoptTimeval(fds[1], unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
		devs = append(devs, newDevice(fds[0], 1500))
		peers = append(peers, fds[1])
		t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	}
	return devs, peers
}

// ipv4To is an IPv4 packet of size bytes to host dst, its payload filled
// with fill.
func ipv4To(dst, size int, fill byte) []byte {
	b := bytes.Repeat([]byte{fill}, size)
	b[0] = 0x45
	a := hostAddr(prefix4, dst).As4()
	copy(b[16:20], a[:])
	return b
}

func TestLoopRoutesAndDelays(t *testing.T) {
	cfg, err := Config{Hosts: []Host{
		{Up: Link{Delay: 20 * time.Millisecond}},
		{Down: Link{Delay: 10 * time.Millisecond}},
		{},
	}}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	devs, peers := socketDevices(t, 3)
	e := newEmulator(cfg, devs)
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- e.serve(ctx) }()

	pkt := ipv4To(1, 600, 7)
	start := time.Now()
	if _, err := unix.Write(peers[0], pkt); err != nil {
		t.Fatal(err)
	}
	// Packets that go nowhere: to nobody, to the sender, too long.
	unix.Write(peers[2], ipv4To(5, 100, 1))
	unix.Write(peers[2], ipv4To(2, 100, 1))
	unix.Write(peers[2], ipv4To(0, 1501, 1))
	// Host 2 to host 0: no delay on either link.
	unix.Write(peers[2], ipv4To(0, 100, 9))

	b := make([]byte, 2000)
	n, err := unix.Read(peers[0], b)
	if err != nil || !bytes.Equal(b[:n], ipv4To(0, 100, 9)) {
		t.Fatalf("host 0 got %d bytes (%v), want host 2's packet", n, err)
	}
	n, err = unix.Read(peers[1], b)
	elapsed := time.Since(start)
	if err != nil || !bytes.Equal(b[:n], pkt) {
		t.Fatalf("host 1 got %d bytes (%v), want host 0's packet", n, err)
	}
	// 20 ms up and 10 ms down; the upper bound is loose, as this process
	// is an ordinary one on a busy machine.
	if elapsed < 30*time.Millisecond || elapsed > 500*time.Millisecond {
		t.Errorf("host 0 to host 1 took %v, want 30 ms", elapsed)
	}
	s := e.stats()
	if s.Unroutable != 2 || s.TooLong != 1 || s.Up[0].Delivered != 1 || s.Down[1].Delivered != 1 || s.Released != 2 {
		t.Errorf("counts %+v, up %+v, down %+v", s.Counts, s.Up, s.Down)
	}
	cancel()
	if err := <-served; err != nil {
		t.Errorf("serve: %v", err)
	}
}

func TestLoopStopsWhenADeviceGoes(t *testing.T) {
	cfg, _ := Config{Hosts: make([]Host, 2)}.withDefaults()
	devs, peers := socketDevices(t, 2)
	e := newEmulator(cfg, devs)
	served := make(chan error, 1)
	go func() { served <- e.serve(t.Context()) }()
	unix.Shutdown(peers[1], unix.SHUT_RDWR) // the other end hangs up
	select {
	case err := <-served:
		if err == nil || !strings.Contains(err.Error(), "host 1") {
			t.Errorf("serve returned %v, want an error about host 1", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve went on without its device")
	}
}
