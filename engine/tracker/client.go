// Package tracker announces to BitTorrent trackers: HTTP(S) trackers per
// BEP 3 and BEP 23, UDP trackers per BEP 15, and tiers of them per BEP 12.
package tracker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// ErrUnsupportedScheme is returned (wrapped) for a tracker URL whose scheme
// is neither http, https nor udp.
var ErrUnsupportedScheme = errors.New("unsupported tracker URL scheme")

// maxResponse is the largest HTTP tracker response body accepted.
const maxResponse = 1 << 20

// Event is the event reported with an announce.
type Event int

// The announce events of BEP 3.
const (
	None Event = iota
	Started
	Completed
	Stopped
)

// String returns the event as an HTTP tracker spells it ("" for None).
func (e Event) String() string {
	switch e {
	case Started:
		return "started"
	case Completed:
		return "completed"
	case Stopped:
		return "stopped"
	}
	return ""
}

// udpCode returns the event's number in a BEP 15 announce.
func (e Event) udpCode() uint32 {
	switch e {
	case Completed:
		return 1
	case Started:
		return 2
	case Stopped:
		return 3
	}
	return 0
}

// Request is what we tell a tracker about ourselves and one torrent.
type Request struct {
	InfoHash, PeerID metainfo.Hash
	Port             int
	Uploaded         int64
	Downloaded       int64
	Left             int64
	Event            Event
	NumWant          int // 0 lets the tracker choose
	Key              uint32
}

// Response is a tracker's answer to an announce.
type Response struct {
	Interval, MinInterval time.Duration // 0 when the tracker gave none
	Peers                 []netip.AddrPort
	Seeders, Leechers     int
	Warning               string

	// dropped describes parts of the answer that were ignored as malformed.
	dropped []string
}

// FailureError is a tracker's refusal ("failure reason" of an HTTP tracker,
// the error action of a UDP tracker). Its text is the tracker's message.
type FailureError struct {
	Reason string
}

// Error returns the tracker's message.
func (e *FailureError) Error() string { return e.Reason }

// ClientConfig configures a Client. The zero value is usable.
type ClientConfig struct {
	// Logf receives diagnostics; nil discards them.
	Logf func(format string, args ...any)
	// HTTP is the client used for HTTP(S) trackers; nil means a default
	// one. Its redirect policy is replaced by ours.
	HTTP *http.Client
	// Timeout bounds one HTTP announce; 0 means 15 s.
	Timeout time.Duration
	// UDPTimeout is the first wait for a UDP tracker's answer; later
	// attempts wait 2, 4... times as long (BEP 15). 0 means 15 s.
	UDPTimeout time.Duration
	// UDPAttempts is how many times a UDP request is sent before giving
	// up; 0 means 3.
	UDPAttempts int
}

// Client announces to trackers. It is safe for concurrent use.
type Client struct {
	logf        func(format string, args ...any)
	http        *http.Client
	timeout     time.Duration
	udpTimeout  time.Duration
	udpAttempts int

	mu sync.Mutex
	// connIDs caches UDP connection IDs by tracker host:port; guarded by mu.
	connIDs map[string]udpConnID
}

// udpConnID is a BEP 15 connection ID and when it stops being valid.
type udpConnID struct {
	id      uint64
	expires time.Time
}

// NewClient returns a client configured by cfg.
func NewClient(cfg ClientConfig) *Client {
	c := &Client{
		logf:        cfg.Logf,
		timeout:     cfg.Timeout,
		udpTimeout:  cfg.UDPTimeout,
		udpAttempts: cfg.UDPAttempts,
		connIDs:     make(map[string]udpConnID),
	}
	if c.logf == nil {
		c.logf = func(string, ...any) {}
	}
	if c.timeout <= 0 {
		c.timeout = 15 * time.Second
	}
	if c.udpTimeout <= 0 {
		c.udpTimeout = 15 * time.Second
	}
	if c.udpAttempts <= 0 {
		c.udpAttempts = 3
	}
	hc := http.Client{}
	if cfg.HTTP != nil {
		hc = *cfg.HTTP
	}
	hc.CheckRedirect = checkRedirect
	c.http = &hc
	return c
}

// checkRedirect follows at most 3 redirects, and only to http or https.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if s := req.URL.Scheme; s != "http" && s != "https" {
		return fmt.Errorf("redirect to %q: %w", s, ErrUnsupportedScheme)
	}
	if len(via) > 3 {
		return errors.New("more than 3 redirects")
	}
	return nil
}

// Announce tells the tracker at rawURL about req and returns its answer.
// A tracker's refusal is a *FailureError.
func (c *Client) Announce(ctx context.Context, rawURL string, req Request) (*Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("announcing to %q: %w", rawURL, err)
	}
	if req.Port < 0 || req.Port > 65535 {
		return nil, fmt.Errorf("announcing to %s: port %d out of range", u.Redacted(), req.Port)
	}
	var resp *Response
	switch u.Scheme {
	case "http", "https":
		resp, err = c.announceHTTP(ctx, u, req)
	case "udp":
		resp, err = c.announceUDP(ctx, u, req)
	default:
		return nil, fmt.Errorf("announcing to %s: %w %q", u.Redacted(), ErrUnsupportedScheme, u.Scheme)
	}
	if err != nil {
		var fe *FailureError
		if errors.As(err, &fe) {
			return nil, err
		}
		return nil, fmt.Errorf("announcing to %s: %w", u.Redacted(), err)
	}
	for _, d := range resp.dropped {
		c.logf("tracker %s: %s", u.Redacted(), d)
	}
	return resp, nil
}
