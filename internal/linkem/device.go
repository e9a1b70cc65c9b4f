package linkem

import (
	"golang.org/x/sys/unix"
)

// device is a non-blocking file descriptor that reads and writes one
// packet per call: a TUN device (or, in tests without root, one end of a
// socket pair). The emulator's loop polls it.
type device struct {
	fd      int
	scratch []byte // where a packet without a buffer is read to be dropped
}

// newDevice takes ownership of fd, which must be non-blocking.
func newDevice(fd, mtu int) *device {
	return &device{fd: fd, scratch: make([]byte, mtu+1)}
}

// read reads one packet into b; unix.EAGAIN means none is ready.
func (d *device) read(b []byte) (int, error) {
	for {
		n, err := unix.Read(d.fd, b)
		if err != unix.EINTR {
			return n, err
		}
	}
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

// close releases the file descriptor; for a TUN device that removes the
// interface.
func (d *device) close() error { return unix.Close(d.fd) }
