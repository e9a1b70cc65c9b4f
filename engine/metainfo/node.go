package metainfo

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Node is a DHT contact as written in a torrent's `nodes` key and in the
// settings: a host name or IP address and a UDP port. Host names are kept
// as names; they are resolved only when used.
type Node struct {
	Host string
	Port int
}

// String formats n as host:port, bracketing IPv6 addresses.
func (n Node) String() string { return net.JoinHostPort(n.Host, strconv.Itoa(n.Port)) }

// Local reports whether n names a loopback, private or link-local address,
// or "localhost": such a contact only works on this machine or network.
func (n Node) Local() bool {
	h := strings.ToLower(strings.TrimSuffix(n.Host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	a, err := netip.ParseAddr(n.Host)
	if err != nil {
		return false
	}
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsUnspecified()
}

// ParseNode parses one contact in the form host:port, [v6addr]:port or
// v6addr:port is refused as ambiguous. The error names the problem.
func ParseNode(s string) (Node, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Node{}, fmt.Errorf("empty contact")
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		if !strings.Contains(s, ":") {
			return Node{}, fmt.Errorf("contact %q: missing port (write host:port)", s)
		}
		if strings.Count(s, ":") > 1 && !strings.HasPrefix(s, "[") {
			return Node{}, fmt.Errorf("contact %q: put an IPv6 address in brackets, as [addr]:port", s)
		}
		return Node{}, fmt.Errorf("contact %q: not host:port", s)
	}
	if host == "" {
		return Node{}, fmt.Errorf("contact %q: empty host", s)
	}
	if strings.ContainsAny(host, " \t/\\@?#") {
		return Node{}, fmt.Errorf("contact %q: host %q has characters a host name cannot have", s, host)
	}
	if port == "" {
		return Node{}, fmt.Errorf("contact %q: missing port (write host:port)", s)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return Node{}, fmt.Errorf("contact %q: port %q is not a number", s, port)
	}
	if p < 1 || p > 65535 {
		return Node{}, fmt.Errorf("contact %q: port %d is outside 1-65535", s, p)
	}
	return Node{Host: host, Port: p}, nil
}

// ParseNodes parses a comma-separated list of contacts, "host:port,
// host:port" (the settings format). Empty input gives no contacts; empty
// items between commas are ignored. The first bad item's error is returned.
func ParseNodes(s string) ([]Node, error) {
	var out []Node
	for _, item := range strings.Split(s, ",") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		n, err := ParseNode(item)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// FormatNodes writes contacts in the settings format, "host:port, host:port".
func FormatNodes(nodes []Node) string {
	parts := make([]string, len(nodes))
	for i, n := range nodes {
		parts[i] = n.String()
	}
	return strings.Join(parts, ", ")
}

// NodeOf returns the contact for an address.
func NodeOf(a netip.AddrPort) Node { return Node{Host: a.Addr().String(), Port: int(a.Port())} }

// AppendNodes appends to dst those of more that it does not hold yet
// (compared as host:port).
func AppendNodes(dst []Node, more ...Node) []Node {
	for _, n := range more {
		if !slices.Contains(dst, n) {
			dst = append(dst, n)
		}
	}
	return dst
}
