package testpeers

import (
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Rtorrent is rtorrent (libtorrent-rakshasa, Debian's rtorrent) run
// headless for one test: daemon mode, its config, session and XML-RPC
// socket in a temporary folder, listening on one loopback address. The
// DHT, PEX, UDP trackers and encryption are off unless the extra config
// lines turn them on. It is stopped when the test ends.
type Rtorrent struct {
	Dir  string // the config, session and socket folder
	Data string // directory.default: where torrents' data is
	IP   string
	Port int
	sock string
}

// StartRtorrent runs rtorrent on ip with data in dataDir; extra are more
// lines of rtorrent.rc (for example "dht.mode.set = on").
func StartRtorrent(t testing.TB, ip, dataDir string, extra ...string) *Rtorrent {
	t.Helper()
	bin := Require(t, "rtorrent", "rtorrent")
	dir := t.TempDir()
	r := &Rtorrent{Dir: dir, Data: dataDir, IP: ip, Port: FreePort(t, ip), sock: filepath.Join(dir, "rpc.sock")}
	if err := os.MkdirAll(filepath.Join(dir, "session"), 0o755); err != nil {
		t.Fatal(err)
	}
	rc := []string{
		"directory.default.set = " + dataDir,
		"session.path.set = " + filepath.Join(dir, "session"),
		fmt.Sprintf("network.port_range.set = %d-%d", r.Port, r.Port),
		"network.port_random.set = no",
		"network.bind_address.set = " + ip,
		"network.local_address.set = " + ip,
		"dht.mode.set = disable",
		"protocol.pex.set = no",
		"trackers.use_udp.set = no",
		"protocol.encryption.set = none",
		"network.scgi.open_local = " + r.sock,
		"system.daemon.set = true",
		`log.open_file = "log", ` + filepath.Join(dir, "rtorrent.log"),
		`log.add_output = "info", "log"`,
	}
	rc = append(rc, extra...)
	rcFile := filepath.Join(dir, "rtorrent.rc")
	if err := os.WriteFile(rcFile, []byte(strings.Join(rc, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := Start(t, bin, "-n", "-o", "import="+rcFile)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := r.Call("system.client_version"); err == nil {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("rtorrent did not open its XML-RPC socket within 10 s; stderr:\n%s", p.Stderr())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Addr returns rtorrent's peer address, "ip:port".
func (r *Rtorrent) Addr() string { return net.JoinHostPort(r.IP, strconv.Itoa(r.Port)) }

// Load adds a .torrent file whose info hash is ih (hex) and starts it
// (seeding what is already in Data once rtorrent has checked it).
// rtorrent refuses a torrent without trackers unless its DHT is on: give
// trackerless tests an announce URL on a closed loopback port.
func (r *Rtorrent) Load(t testing.TB, torrentFile, ih string) {
	t.Helper()
	if _, err := r.Call("load.start_verbose", "", torrentFile); err != nil {
		t.Fatalf("rtorrent load.start %s: %v", torrentFile, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := r.Call("d.hash", strings.ToUpper(ih)); err == nil {
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(r.Dir, "rtorrent.log"))
			t.Fatalf("rtorrent did not load %s within 10 s; its log:\n%s", torrentFile, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Complete reports whether rtorrent has every piece of the torrent with
// info hash ih (hex).
func (r *Rtorrent) Complete(ih string) (bool, error) {
	v, err := r.Call("d.complete", strings.ToUpper(ih))
	return v == "1", err
}

// WaitComplete waits until rtorrent has every piece of ih.
func (r *Rtorrent) WaitComplete(t testing.TB, ih string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		done, err := r.Complete(ih)
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("rtorrent does not have all of %s after %v (%v)", ih, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Call makes one XML-RPC call over rtorrent's SCGI socket with string or
// int parameters, and returns the result's text (a number or a string).
func (r *Rtorrent) Call(method string, params ...any) (string, error) {
	var body strings.Builder
	body.WriteString(`<?xml version="1.0"?><methodCall><methodName>`)
	xml.EscapeText(&body, []byte(method))
	body.WriteString("</methodName><params>")
	for _, p := range params {
		switch v := p.(type) {
		case int:
			fmt.Fprintf(&body, "<param><value><i8>%d</i8></value></param>", v)
		case string:
			body.WriteString("<param><value><string>")
			xml.EscapeText(&body, []byte(v))
			body.WriteString("</string></value></param>")
		default:
			return "", fmt.Errorf("XML-RPC parameter of type %T", p)
		}
	}
	body.WriteString("</params></methodCall>")
	c, err := net.DialTimeout("unix", r.sock, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	headers := fmt.Sprintf("CONTENT_LENGTH\x00%d\x00SCGI\x001\x00", body.Len())
	if _, err := fmt.Fprintf(c, "%d:%s,%s", len(headers), headers, body.String()); err != nil {
		return "", err
	}
	resp, err := io.ReadAll(io.LimitReader(c, 1<<20))
	if err != nil {
		return "", err
	}
	_, xmlPart, ok := strings.Cut(string(resp), "\r\n\r\n")
	if !ok {
		return "", fmt.Errorf("XML-RPC answer without headers: %q", resp)
	}
	var mr struct {
		Value struct {
			Inner string `xml:",innerxml"`
		} `xml:"params>param>value"`
		Fault *struct {
			Inner string `xml:",innerxml"`
		} `xml:"fault"`
	}
	if err := xml.Unmarshal([]byte(xmlPart), &mr); err != nil {
		return "", fmt.Errorf("XML-RPC answer %q: %w", xmlPart, err)
	}
	if mr.Fault != nil {
		return "", fmt.Errorf("%s: fault %s", method, mr.Fault.Inner)
	}
	var v struct {
		Text string `xml:",chardata"`
		Any  []struct {
			Text string `xml:",chardata"`
		} `xml:",any"`
	}
	if err := xml.Unmarshal([]byte("<v>"+mr.Value.Inner+"</v>"), &v); err != nil {
		return "", err
	}
	if len(v.Any) > 0 {
		return strings.TrimSpace(v.Any[0].Text), nil
	}
	return strings.TrimSpace(v.Text), nil
}
