package linkem

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Measurements that a loaded machine does not bend. The machine these
// tests run on is shared (2 cores, often several runnable tasks each), so
// a test process may wait milliseconds for the CPU. Timings are therefore
// taken by the kernel when a packet arrives (SO_TIMESTAMPNS), and the
// far end is the kernel too (ICMP echo, TCP with buffers large enough
// for the whole transfer): only the emulator's own thread, which runs at
// a raised priority, stands between the two timestamps.

// icmpPinger sends ICMP echo requests from a raw socket in one namespace;
// the kernel of the other answers them.
type icmpPinger struct {
	fd int
	to [4]byte
	id uint16
}

func newICMPPinger(t *testing.T, topo *Topology, from, to int) *icmpPinger {
	t.Helper()
	p := &icmpPinger{to: topo.Addr4(to).As4(), id: uint16(from<<8 | to)}
	err := topo.Do(from, func() (err error) {
		p.fd, err = unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMP)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(p.fd) })
	if err := unix.SetsockoptInt(p.fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		t.Fatal(err)
	}
	tv := unix.NsecToTimeval(int64(time.Second))
	if err := unix.SetsockoptTimeval(p.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}
	return p
}

// rtts pings n times, one after the other, and returns the round trips
// sorted.
func (p *icmpPinger) rtts(n int) ([]time.Duration, error) {
	var out []time.Duration
	for seq := range n {
		d, err := p.ping(uint16(seq))
		if err != nil {
			return nil, fmt.Errorf("ping %d: %w", seq, err)
		}
		out = append(out, d)
	}
	slices.Sort(out)
	return out, nil
}

func (p *icmpPinger) ping(seq uint16) (time.Duration, error) {
	req := make([]byte, 16)
	req[0] = 8 // echo request
	binary.BigEndian.PutUint16(req[4:], p.id)
	binary.BigEndian.PutUint16(req[6:], seq)
	binary.BigEndian.PutUint16(req[2:], ^onesSum(req))
	sent := time.Now()
	for {
		err := unix.Sendto(p.fd, req, 0, &unix.SockaddrInet4{Addr: p.to})
		if err == nil {
			break
		}
		if err != unix.EINTR {
			return 0, err
		}
	}
	b, oob := make([]byte, 1500), make([]byte, 128)
	for time.Since(sent) < 2*time.Second { // other ICMP may arrive; ours, within 1 s
		n, oobn, _, _, err := unix.Recvmsg(p.fd, b, oob, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		ihl := int(b[0]&0xf) * 4
		if n < ihl+8 {
			continue
		}
		icmp := b[ihl:n]
		if icmp[0] != 0 || binary.BigEndian.Uint16(icmp[4:]) != p.id || binary.BigEndian.Uint16(icmp[6:]) != seq {
			continue
		}
		at, ok := receivedAt(oob[:oobn])
		if !ok {
			at = time.Now() // later than the kernel's time: never too short
		}
		return at.Sub(sent.Round(0)), nil
	}
	return 0, errors.New("no echo reply")
}

// onesSum is the Internet checksum's ones' complement sum of b.
func onesSum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

// receivedAt is the kernel's receive timestamp in a recvmsg's control
// messages. There may be none: the kernel starts stamping packets a
// moment after the first socket asks for it.
func receivedAt(oob []byte) (time.Time, bool) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return time.Time{}, false
	}
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS && len(m.Data) >= 16 {
			sec := int64(binary.NativeEndian.Uint64(m.Data))
			nsec := int64(binary.NativeEndian.Uint64(m.Data[8:]))
			return time.Unix(sec, nsec), true
		}
	}
	return time.Time{}, false
}

// timedReader reads a TCP or UDP socket and records when the kernel
// received what it read.
type timedReader struct {
	rc                    syscall.RawConn
	first, last           time.Time // receive times of the first and last stamped read
	firstBytes, lastBytes int       // bytes read up to and with those reads
	bytes                 int       // all bytes read
	reads                 int
}

func newTimedReader(c syscall.Conn) (*timedReader, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	var serr error
	rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
	})
	return &timedReader{rc: rc}, serr
}

// read reads once into b, waiting for data; 0 bytes and no error is the
// end of a stream.
func (r *timedReader) read(b []byte) (int, error) {
	oob := make([]byte, 128)
	var n, oobn int
	var rerr error
	err := r.rc.Read(func(fd uintptr) bool {
		n, oobn, _, _, rerr = unix.Recvmsg(int(fd), b, oob, 0)
		return rerr != unix.EAGAIN
	})
	if err == nil {
		err = rerr
	}
	if err != nil || n == 0 {
		return 0, err
	}
	r.bytes += n
	r.reads++
	if at, ok := receivedAt(oob[:oobn]); ok {
		if r.first.IsZero() {
			r.first, r.firstBytes = at, r.bytes
		}
		r.last, r.lastBytes = at, r.bytes
	}
	return n, nil
}

// rate is the bytes per second received between the first and the last
// stamped reads, by the kernel's clock.
func (r *timedReader) rate() float64 {
	return float64(r.lastBytes-r.firstBytes) / r.last.Sub(r.first).Seconds()
}

// udpAddr is c's local address.
func udpAddr(c *net.UDPConn) netip.AddrPort { return c.LocalAddr().(*net.UDPAddr).AddrPort() }
