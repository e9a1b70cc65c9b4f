package lsd

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// The BEP 14 multicast groups, both on port 6771.
const (
	Port      = 6771
	Group4    = "239.192.152.143" // organisation-local IPv4 scope
	Group6    = "ff15::efc0:988f" // site-local IPv6 scope
	HostIPv4  = "239.192.152.143:6771"
	HostIPv6  = "[ff15::efc0:988f]:6771"
	hostMaxLn = len(HostIPv6)
)

// Bounds on messages. A received packet longer than MaxPacketSize is not
// read; one that names more than MaxInfoHashes info hashes is refused
// (29 fit in MaxPacketSize with the shortest header lines).
// What we send stays within MaxMessageSize (the BEP's limit against
// fragmentation), which fits MaxHashesPerMessage info hashes.
const (
	MaxPacketSize       = 1500
	MaxInfoHashes       = 28
	MaxMessageSize      = 1400
	MaxHashesPerMessage = (MaxMessageSize - fixedLen) / hashLineLen
	maxCookieLen        = 64
)

const (
	requestLine = "BT-SEARCH * HTTP/1.1\r\n"
	hashLineLen = len("Infohash: \r\n") + 40
	// fixedLen is the longest a message is without its Infohash lines: the
	// request line, the longer Host, a five-digit Port, our eight-digit
	// cookie and the two empty lines that end it.
	fixedLen = len(requestLine) + len("Host: \r\n") + hostMaxLn + len("Port: 65535\r\n") +
		len("cookie: 01234567\r\n") + len("\r\n\r\n")
)

// Errors ParseAnnounce wraps, so that callers can count what they drop.
var (
	ErrTooLarge          = errors.New("lsd: packet too large")
	ErrNotAnnounce       = errors.New("lsd: not a BT-SEARCH announce")
	ErrMalformed         = errors.New("lsd: malformed header")
	ErrBadPort           = errors.New("lsd: missing or bad port")
	ErrNoInfoHash        = errors.New("lsd: no valid info hash")
	ErrTooManyInfoHashes = errors.New("lsd: too many info hashes")
)

// Announce is one BT-SEARCH message: the sender listens for BitTorrent
// connections on Port and takes part in the torrents InfoHashes names.
// Cookie, which may be empty, lets a sender recognise its own messages.
type Announce struct {
	Port       uint16
	InfoHashes []metainfo.Hash
	Cookie     string
}

// ParseAnnounce reads one announce from a packet's bytes. It accepts
// header names in any case, lines ended by CRLF or LF alone, and the end
// of the packet in place of the empty line; it skips Infohash values that
// are not 40 hex digits or are all zero, and repeated ones; it ignores
// headers it does not know (Host among them). It refuses a packet over
// MaxPacketSize, another method, a missing, repeated or out-of-range
// Port, no usable info hash, or more than MaxInfoHashes of them. It does
// not keep b.
func ParseAnnounce(b []byte) (Announce, error) {
	var a Announce
	if len(b) > MaxPacketSize {
		return a, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(b))
	}
	line, rest := nextLine(b)
	method, afterMethod, _ := bytes.Cut(line, []byte(" "))
	target, version, _ := bytes.Cut(afterMethod, []byte(" "))
	if !bytes.EqualFold(method, []byte("BT-SEARCH")) || string(target) != "*" || !bytes.HasPrefix(version, []byte("HTTP/1.")) {
		return a, fmt.Errorf("%w: request line %s", ErrNotAnnounce, quote(line))
	}
	havePort := false
	for len(rest) > 0 {
		line, rest = nextLine(rest)
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return a, fmt.Errorf("%w: %s", ErrMalformed, quote(line))
		}
		name, value = bytes.TrimSpace(name), bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("port")):
			p, err := parsePort(value)
			if err != nil || havePort {
				return a, fmt.Errorf("%w: %s", ErrBadPort, quote(line))
			}
			a.Port, havePort = p, true
		case bytes.EqualFold(name, []byte("infohash")):
			var ih metainfo.Hash
			if len(value) != 2*len(ih) {
				continue
			}
			if _, err := hex.Decode(ih[:], value); err != nil || ih.IsZero() || slices.Contains(a.InfoHashes, ih) {
				continue
			}
			if len(a.InfoHashes) == MaxInfoHashes {
				return a, fmt.Errorf("%w: more than %d", ErrTooManyInfoHashes, MaxInfoHashes)
			}
			a.InfoHashes = append(a.InfoHashes, ih)
		case bytes.EqualFold(name, []byte("cookie")):
			if len(value) <= maxCookieLen {
				a.Cookie = string(value)
			}
		}
	}
	if !havePort {
		return a, ErrBadPort
	}
	if len(a.InfoHashes) == 0 {
		return a, ErrNoInfoHash
	}
	return a, nil
}

// AppendAnnounce appends the message announcing a to dst, addressed to
// host (HostIPv4 or HostIPv6), and returns the extended buffer. It writes
// info hashes in lower-case hex and the cookie only when there is one. The
// caller keeps the message within MaxMessageSize by giving at most
// MaxHashesPerMessage info hashes and a cookie of at most eight bytes.
func AppendAnnounce(dst []byte, host string, a Announce) []byte {
	dst = append(dst, requestLine...)
	dst = append(dst, "Host: "...)
	dst = append(dst, host...)
	dst = append(dst, "\r\nPort: "...)
	dst = strconv.AppendUint(dst, uint64(a.Port), 10)
	dst = append(dst, "\r\n"...)
	for _, ih := range a.InfoHashes {
		dst = append(dst, "Infohash: "...)
		dst = hex.AppendEncode(dst, ih[:])
		dst = append(dst, "\r\n"...)
	}
	if a.Cookie != "" {
		dst = append(dst, "cookie: "...)
		dst = append(dst, a.Cookie...)
		dst = append(dst, "\r\n"...)
	}
	return append(dst, "\r\n\r\n"...)
}

// nextLine splits b after its first line, dropping the line's CRLF or LF.
func nextLine(b []byte) (line, rest []byte) {
	line, rest, _ = bytes.Cut(b, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r")), rest
}

// parsePort reads a decimal port from 1 to 65535.
func parsePort(b []byte) (uint16, error) {
	if len(b) == 0 || len(b) > 5 {
		return 0, ErrBadPort
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, ErrBadPort
		}
		n = n*10 + int(c-'0')
	}
	if n == 0 || n > 65535 {
		return 0, ErrBadPort
	}
	return uint16(n), nil
}

// quote returns b quoted for an error message, cut to 40 bytes.
func quote(b []byte) string {
	if len(b) > 40 {
		return strconv.Quote(string(b[:40])) + "..."
	}
	return strconv.Quote(string(b))
}
