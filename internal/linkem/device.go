package linkem

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// device is a non-blocking file descriptor that reads and writes one
// packet per call: a TUN device (or, in tests without root, one end of a
// socket pair). Reads wait in the Go poller, not on a thread of their own.
type device struct {
	f  *os.File
	rc syscall.RawConn
	fd int // for writes, which never wait; valid until f is closed
}

// newDevice takes ownership of fd, which must be non-blocking.
func newDevice(fd int, name string) (*device, error) {
	f := os.NewFile(uintptr(fd), name)
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("device %s: %w", name, err)
	}
	return &device{f: f, rc: rc, fd: fd}, nil
}

// readBatch reads packets into ps, as many as are ready (at least one,
// waiting for it), and sets their lengths. After interrupt it returns an
// error.
func (d *device) readBatch(ps []*packet) (int, error) {
	n := 0
	var rerr error
	err := d.rc.Read(func(fd uintptr) bool {
		for n < len(ps) {
			m, err := unix.Read(int(fd), ps[n].buf)
			switch {
			case err == unix.EINTR:
				continue
			case err == unix.EAGAIN:
				return n > 0
			case err != nil:
				rerr = err
				return true
			}
			ps[n].n = m
			n++
		}
		return true
	})
	if n > 0 {
		return n, nil
	}
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return 0, errStopped
		}
		return 0, err
	}
	if rerr != nil {
		return 0, fmt.Errorf("reading %s: %w", d.f.Name(), rerr)
	}
	return 0, nil
}

// write writes one packet. It never waits: a device that cannot take the
// packet now loses it, as a full interface queue would.
func (d *device) write(b []byte) error {
	for {
		_, err := unix.Write(d.fd, b)
		if err != unix.EINTR {
			return err
		}
	}
}

// interrupt ends a readBatch in progress, and every later one.
func (d *device) interrupt() {
	d.f.SetReadDeadline(time.Unix(1, 0))
}

// close releases the file descriptor; for a TUN device that removes the
// interface.
func (d *device) close() error { return d.f.Close() }
