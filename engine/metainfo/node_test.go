package metainfo

import (
	"strings"
	"testing"
)

func TestParseNodes(t *testing.T) {
	good := []struct {
		in   string
		want string // FormatNodes of the result
	}{
		{"", ""},
		{"router.bittorrent.com:6881", "router.bittorrent.com:6881"},
		{" router.bittorrent.com:6881 , 127.0.0.1:8080 ", "router.bittorrent.com:6881, 127.0.0.1:8080"},
		{"a:1,,b:65535,", "a:1, b:65535"},
		{"[::1]:6881", "[::1]:6881"},
	}
	for _, c := range good {
		ns, err := ParseNodes(c.in)
		if err != nil {
			t.Errorf("ParseNodes(%q): %v", c.in, err)
			continue
		}
		if got := FormatNodes(ns); got != c.want {
			t.Errorf("ParseNodes(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	bad := []struct{ in, problem string }{
		{"router.bittorrent.com", "missing port"},
		{"router.bittorrent.com:", "missing port"},
		{":6881", "empty host"},
		{"host:0", "outside 1-65535"},
		{"host:65536", "outside 1-65535"},
		{"host:-1", "outside 1-65535"},
		{"host:http", "not a number"},
		{"::1:6881", "brackets"},
		{"a b:1", "characters"},
		{"good:1, bad", "missing port"},
	}
	for _, c := range bad {
		_, err := ParseNodes(c.in)
		if err == nil || !strings.Contains(err.Error(), c.problem) {
			t.Errorf("ParseNodes(%q) = %v, want an error about %q", c.in, err, c.problem)
		}
	}
}

func TestNodeLocal(t *testing.T) {
	for host, local := range map[string]bool{
		"127.0.0.1": true, "localhost": true, "10.1.2.3": true, "192.168.1.5": true, "fe80::1": true,
		"router.bittorrent.com": false, "8.8.8.8": false, "2001:db8::1": false,
	} {
		if got := (Node{Host: host, Port: 1}).Local(); got != local {
			t.Errorf("Local(%s) = %v", host, got)
		}
	}
}
