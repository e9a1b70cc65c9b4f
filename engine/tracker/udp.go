package tracker

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"time"
)

// connIDLifetime is how long a UDP connection ID may be used (BEP 15).
const connIDLifetime = time.Minute

// errNoAnswer means a UDP tracker did not answer in time.
var errNoAnswer = errors.New("no answer")

// announceUDP announces to a UDP tracker (BEP 15). A request is sent up to
// c.udpAttempts times, waiting c.udpTimeout·2ⁿ for the answer to attempt n.
func (c *Client) announceUDP(ctx context.Context, u *url.URL, req Request) (*Response, error) {
	host := u.Host
	if u.Port() == "" {
		return nil, errors.New("UDP tracker URL without a port")
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "udp", host)
	if err != nil {
		return nil, err
	}
	conn := nc.(*net.UDPConn)
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()

	peerSize := 6
	if ra := conn.RemoteAddr().(*net.UDPAddr).AddrPort().Addr(); ra.Is6() && !ra.Is4In6() {
		peerSize = 18
	}
	buf := make([]byte, 64<<10)
	retried := false
	for attempt := 0; attempt < c.udpAttempts; attempt++ {
		deadline := time.Now().Add(c.udpTimeout << attempt)
		id, cached := c.connID(host)
		if !cached {
			tid := rand.Uint32()
			err := exchange(ctx, conn, buf, udpConnectPacket(tid), deadline, func(b []byte) (err error) {
				id, err = parseUDPConnect(b, tid)
				return err
			})
			if errors.Is(err, errNoAnswer) {
				continue
			}
			var fe *FailureError
			if errors.As(err, &fe) {
				return nil, err
			}
			if err != nil {
				return nil, fmt.Errorf("connecting: %w", err)
			}
			c.setConnID(host, id)
		}
		tid := rand.Uint32()
		var resp *Response
		err := exchange(ctx, conn, buf, udpAnnouncePacket(id, tid, req), deadline, func(b []byte) (err error) {
			resp, err = parseUDPAnnounce(b, tid, peerSize)
			return err
		})
		if err == nil {
			return resp, nil
		}
		c.forgetConnID(host)
		var fe *FailureError
		switch {
		case errors.Is(err, errNoAnswer):
		case errors.As(err, &fe) && cached && !retried:
			// The tracker may have forgotten our connection ID; try
			// once more with a fresh one.
			retried = true
			attempt--
		default:
			return nil, err
		}
	}
	return nil, fmt.Errorf("%w after %d attempts", errNoAnswer, c.udpAttempts)
}

// exchange sends pkt on conn and reads until parse accepts an answer or
// deadline passes. Answers parse rejects with errIgnored are skipped.
func exchange(ctx context.Context, conn *net.UDPConn, buf, pkt []byte, deadline time.Time, parse func([]byte) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := conn.Write(pkt); err != nil {
		return fmt.Errorf("sending: %w", err)
	}
	if err := conn.SetReadDeadline(deadline); err != nil {
		return err
	}
	for {
		n, err := conn.Read(buf)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return errNoAnswer
		}
		if err != nil {
			return fmt.Errorf("receiving: %w", err)
		}
		err = parse(buf[:n])
		if !errors.Is(err, errIgnored) {
			return err
		}
	}
}

// connID returns the cached, still valid connection ID for host.
func (c *Client) connID(host string) (uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.connIDs[host]
	if !ok || time.Now().After(e.expires) {
		delete(c.connIDs, host)
		return 0, false
	}
	return e.id, true
}

// setConnID caches a connection ID just received from host.
func (c *Client) setConnID(host string, id uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.connIDs[host] = udpConnID{id: id, expires: time.Now().Add(connIDLifetime)}
}

// forgetConnID drops host's cached connection ID.
func (c *Client) forgetConnID(host string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.connIDs, host)
}
