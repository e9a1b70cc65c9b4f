package testpeers

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// QBTrackerPort is the port of the tracker StartQBittorrentTracker runs
// (in a namespace of the test's own, so any fixed port is free).
const QBTrackerPort = 9000

// StartQBittorrentTracker runs qbittorrent-nox (Debian's, 4.5) inside ns
// for its embedded HTTP tracker, on QBTrackerPort of every address of
// the namespace: a tracker that answers with BEP 7's compact "peers6"
// for the peers that announced over IPv6 (Debian's opentracker is built
// for IPv4 only). qBittorrent's own peer port stays on the namespace's
// loopback, with no torrent, no DHT, LSD, PeX or UPnP; its web UI (it
// always has one) listens on the namespace's 127.0.0.1. It returns once
// the tracker answers an announce from this namespace, over IPv6 when ns
// has it (AddIPv6), and is stopped when the test ends.
func StartQBittorrentTracker(t testing.TB, ns *Netns) {
	t.Helper()
	bin := Require(t, "qbittorrent-nox", "qbittorrent-nox")
	profile := t.TempDir()
	conf := filepath.Join(profile, "qBittorrent", "config")
	if err := os.MkdirAll(conf, 0o700); err != nil {
		t.Fatal(err)
	}
	settings := fmt.Sprintf(`[LegalNotice]
Accepted=true

[BitTorrent]
Session\DHTEnabled=false
Session\LSDEnabled=false
Session\PeXEnabled=false
Session\Interface=lo
Session\InterfaceName=lo
Session\Port=9001
Session\QueueingSystemEnabled=false

[Preferences]
Advanced\trackerEnabled=true
Advanced\trackerPort=%d
Advanced\trackerPortForwarding=false
Connection\UPnP=false
WebUI\Address=127.0.0.1
WebUI\Port=9002
WebUI\UseUPnP=false
`, QBTrackerPort)
	if err := os.WriteFile(filepath.Join(conf, "qBittorrent.conf"), []byte(settings), 0o600); err != nil {
		t.Fatal(err)
	}
	p := ns.Start(t, bin, "--profile="+profile)
	host := ns.NSIP
	if ns.NSIP6 != "" {
		host = ns.NSIP6
	}
	url := QBTrackerURL(host)
	c := http.Client{Timeout: 2 * time.Second}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		// A stopped announce registers nobody.
		resp, err := c.Get(url + "?info_hash=" + strings.Repeat("%01", 20) + "&peer_id=" + strings.Repeat("p", 20) + "&port=1&left=0&event=stopped&compact=1")
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(string(body), "8:interval") {
				return
			}
			err = fmt.Errorf("%s: %q", resp.Status, body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("qBittorrent's tracker does not answer on %s within 20 s: %v; stdout and stderr:\n%s", url, err, p.Stderr())
		}
	}
}

// QBTrackerURL returns the announce URL of the tracker of
// StartQBittorrentTracker at ip (an address of its namespace).
func QBTrackerURL(ip string) string {
	return "http://" + net.JoinHostPort(ip, strconv.Itoa(QBTrackerPort)) + "/announce"
}
