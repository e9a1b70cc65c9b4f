package testpeers

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Transmission is transmission-daemon (Debian's, 3.00) run for one test in
// the foreground with its config folder in a temporary folder, listening
// for peers and for RPC on ip. It ignores loopback peers it learns of, so
// tests run it in a Netns. The DHT, LPD, PEX, uTP and port forwarding are
// off unless settings say otherwise. It is stopped when the test ends.
type Transmission struct {
	IP       string
	Port     int // peer port
	RPCPort  int
	Dir      string // config folder
	client   http.Client
	session  string
	settings map[string]any
}

// StartTransmission runs transmission-daemon inside ns (on ns.NSIP),
// downloading into dataDir; settings override its settings.json.
func StartTransmission(t testing.TB, ns *Netns, dataDir string, settings map[string]any) *Transmission {
	t.Helper()
	return StartTransmissionDHT(t, ns, dataDir, settings, nil)
}

// StartTransmissionDHT is StartTransmission with Transmission's DHT on and
// nodes written to its saved DHT state (dht.dat), where it bootstraps
// from: it pings them one every second or so. Transmission searches the
// DHT for a torrent only once it knows 4 good nodes and 9 in all, and
// then every 25 minutes; it ignores loopback nodes.
func StartTransmissionDHT(t testing.TB, ns *Netns, dataDir string, settings map[string]any, nodes []netip.AddrPort) *Transmission {
	t.Helper()
	bin := Require(t, "transmission-daemon", "transmission-daemon")
	dir := t.TempDir()
	if nodes != nil {
		settings = maps.Clone(settings)
		if settings == nil {
			settings = map[string]any{}
		}
		settings["dht-enabled"] = true
		if err := os.WriteFile(filepath.Join(dir, "dht.dat"), transmissionDHTState(nodes), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tr := &Transmission{IP: ns.NSIP, Port: 51413, RPCPort: 9091, Dir: dir, client: http.Client{Timeout: 10 * time.Second}}
	s := map[string]any{
		"download-dir":                dataDir,
		"incomplete-dir-enabled":      false,
		"bind-address-ipv4":           ns.NSIP,
		"bind-address-ipv6":           "::1",
		"peer-port":                   tr.Port,
		"peer-port-random-on-start":   false,
		"port-forwarding-enabled":     false,
		"dht-enabled":                 false,
		"lpd-enabled":                 false,
		"pex-enabled":                 false,
		"utp-enabled":                 false,
		"encryption":                  0, // allow plain connections
		"rpc-enabled":                 true,
		"rpc-bind-address":            ns.NSIP,
		"rpc-port":                    tr.RPCPort,
		"rpc-authentication-required": false,
		"rpc-whitelist-enabled":       false,
		"rpc-host-whitelist-enabled":  false,
		"ratio-limit-enabled":         false,
		"speed-limit-up-enabled":      false,
		"speed-limit-down-enabled":    false,
		"start-added-torrents":        true,
		"message-level":               2,
		"cache-size-mb":               4,
	}
	for k, v := range settings {
		s[k] = v
	}
	tr.settings = s
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "settings.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	p := ns.Start(t, bin, "-f", "-g", dir, "--log-error")
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := tr.Call("session-get", nil); err == nil {
			return tr
		}
		if time.Now().After(deadline) {
			t.Fatalf("transmission-daemon answers no RPC within 15 s; stderr:\n%s", p.Stderr())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Addr returns Transmission's peer address, "ip:port".
func (tr *Transmission) Addr() string { return net.JoinHostPort(tr.IP, strconv.Itoa(tr.Port)) }

// Call makes one RPC call and returns its "arguments".
func (tr *Transmission) Call(method string, args map[string]any) (json.RawMessage, error) {
	body, err := json.Marshal(map[string]any{"method": method, "arguments": args})
	if err != nil {
		return nil, err
	}
	url := fmt.Sprintf("http://%s/transmission/rpc", net.JoinHostPort(tr.IP, strconv.Itoa(tr.RPCPort)))
	for range 2 {
		req, err := http.NewRequest("POST", url, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("X-Transmission-Session-Id", tr.session)
		resp, err := tr.client.Do(req)
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		if resp.StatusCode == http.StatusConflict { // the CSRF token dance
			tr.session = resp.Header.Get("X-Transmission-Session-Id")
			continue
		}
		var r struct {
			Result    string          `json:"result"`
			Arguments json.RawMessage `json:"arguments"`
		}
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", method, data, err)
		}
		if r.Result != "success" {
			return nil, fmt.Errorf("%s: %s", method, r.Result)
		}
		return r.Arguments, nil
	}
	return nil, fmt.Errorf("%s: no session id", method)
}

// Add adds a .torrent file (its bytes) and makes Transmission check the
// data already in its download folder.
func (tr *Transmission) Add(t testing.TB, torrent []byte, ih string) {
	t.Helper()
	if _, err := tr.Call("torrent-add", map[string]any{"metainfo": base64.StdEncoding.EncodeToString(torrent)}); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Call("torrent-verify", map[string]any{"ids": []string{strings.ToLower(ih)}}); err != nil {
		t.Fatal(err)
	}
}

// AddMagnet adds a magnet link; Transmission fetches the metadata from
// the peers that connect to it.
func (tr *Transmission) AddMagnet(t testing.TB, uri string) {
	t.Helper()
	if _, err := tr.Call("torrent-add", map[string]any{"filename": uri}); err != nil {
		t.Fatal(err)
	}
}

// WaitDone waits until Transmission has every piece of ih.
func (tr *Transmission) WaitDone(t testing.TB, ih string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st, err := tr.Torrent(ih)
		if err == nil && st.PercentDone == 1 && st.Status != 2 { // 2: checking
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Transmission does not have all of %s after %v: %+v %v", ih, timeout, st, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TransmissionTorrent is what torrent-get says of a torrent.
type TransmissionTorrent struct {
	HashString  string  `json:"hashString"`
	PercentDone float64 `json:"percentDone"`
	Status      int     `json:"status"`
	Error       int     `json:"error"`
	ErrorString string  `json:"errorString"`
	Peers       []struct {
		Address    string `json:"address"`
		Port       int    `json:"port"`
		ClientName string `json:"clientName"`
	} `json:"peers"`
}

// Torrent returns the state of the torrent with info hash ih.
func (tr *Transmission) Torrent(ih string) (TransmissionTorrent, error) {
	raw, err := tr.Call("torrent-get", map[string]any{
		"ids":    []string{strings.ToLower(ih)},
		"fields": []string{"hashString", "percentDone", "status", "error", "errorString", "peers"},
	})
	if err != nil {
		return TransmissionTorrent{}, err
	}
	var r struct {
		Torrents []TransmissionTorrent `json:"torrents"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return TransmissionTorrent{}, err
	}
	if len(r.Torrents) != 1 {
		return TransmissionTorrent{}, fmt.Errorf("torrent %s: %d answers", ih, len(r.Torrents))
	}
	return r.Torrents[0], nil
}

// WaitSeeding waits until Transmission has all of ih and seeds it
// (status 6).
func (tr *Transmission) WaitSeeding(t testing.TB, ih string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st, err := tr.Torrent(ih)
		if err == nil && st.PercentDone == 1 && st.Status == 6 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Transmission does not seed %s after %v: %+v %v", ih, timeout, st, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// transmissionDHTState is a dht.dat for Transmission 3.00 holding nodes
// (bencoded: a random id, compact IPv4 "nodes" and IPv6 "nodes6").
func transmissionDHTState(nodes []netip.AddrPort) []byte {
	var v4, v6 []byte
	for _, n := range nodes {
		a := n.Addr().Unmap()
		if a.Is4() {
			b := a.As4()
			v4 = append(append(v4, b[:]...), byte(n.Port()>>8), byte(n.Port()))
		} else {
			b := a.As16()
			v6 = append(append(v6, b[:]...), byte(n.Port()>>8), byte(n.Port()))
		}
	}
	id := make([]byte, 20)
	for i := range id {
		id[i] = byte(rand.IntN(256))
	}
	out := fmt.Appendf(nil, "d2:id20:%s5:nodes%d:%s", id, len(v4), v4)
	if len(v6) > 0 {
		out = fmt.Appendf(out, "6:nodes6%d:%s", len(v6), v6)
	}
	return append(out, 'e')
}
