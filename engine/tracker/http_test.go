package tracker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// logCollector keeps what a Client logs.
type logCollector struct {
	mu    sync.Mutex
	lines []string
}

func (l *logCollector) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, strings.TrimSpace(fmt.Sprintf(format, args...)))
}

func (l *logCollector) contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}

// serveBody starts an HTTP tracker answering every request with body.
func serveBody(t *testing.T, status int, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/announce"
}

func announceOnce(t *testing.T, c *Client, u string) (*Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.Announce(ctx, u, Request{InfoHash: hashOf("ih"), PeerID: hashOf("me"), Port: 6881})
}

func TestHTTPHostileAnswers(t *testing.T) {
	good := "\x7f\x00\x00\x01\x1a\xe1" // 127.0.0.1:6881
	for _, tc := range []struct {
		name    string
		status  int
		body    string
		failure string // the FailureError text wanted
		errHas  string // a substring of the other error wanted
		peers   []string
		warning string
		logHas  string
	}{
		{name: "failure reason", status: 200, body: "d14:failure reason12:not allowed!e", failure: "not allowed!"},
		{name: "failure with 403", status: 403, body: "d14:failure reason6:banned8:intervali60ee", failure: "banned"},
		{name: "failure reason not a string", status: 200, body: "d14:failure reasoni1ee", errHas: "failure reason"},
		{name: "warning", status: 200, body: "d8:intervali1800e5:peers6:" + good + "15:warning message6:bewaree", warning: "beware", peers: []string{"127.0.0.1:6881"}},
		{name: "garbage", status: 200, body: "<html>hello</html>", errHas: "decoding"},
		{name: "empty", status: 200, body: "", errHas: "decoding"},
		{name: "not a dict", status: 200, body: "li1ee", errHas: "decoding"},
		{name: "status 500", status: 500, body: "oops", errHas: "500"},
		{name: "interval as string", status: 200, body: "d8:interval4:1800e", errHas: "interval"},
		{name: "negative interval", status: 200, body: "d8:intervali-5ee", errHas: "interval"},
		{name: "huge interval", status: 200, body: "d8:intervali99999999999999999999999ee", errHas: "interval"},
		{name: "complete as list", status: 200, body: "d8:completeli1ee8:intervali60ee", errHas: "complete"},
		{name: "peers as integer", status: 200, body: "d8:intervali60e5:peersi7ee", errHas: "peers"},
		{name: "peers length 7", status: 200, body: "d8:intervali60e5:peers7:" + good + "xe", logHas: "not a multiple of 6"},
		{name: "peers6 length 17", status: 200, body: "d8:intervali60e5:peers6:" + good + "6:peers617:" + strings.Repeat("\x01", 17) + "e", logHas: "peers6", peers: []string{"127.0.0.1:6881"}},
		{name: "unusable peers dropped", status: 200, body: "d8:intervali60e5:peers36:" +
			"\x7f\x00\x00\x01\x00\x00" + // port 0
			"\x00\x00\x00\x00\x1a\xe1" + // unspecified
			"\xe0\x00\x00\x01\x1a\xe1" + // multicast
			"\xff\xff\xff\xff\x1a\xe1" + // broadcast
			good + good + "e", // a repeat
			peers: []string{"127.0.0.1:6881"}},
		{name: "peers6", status: 200, body: "d8:intervali60e6:peers618:" + string(netip.MustParseAddr("2001:db8::1").AsSlice()) + "\x1a\xe1e", peers: []string{"[2001:db8::1]:6881"}},
		{name: "dict peers", status: 200, body: "d8:intervali60e5:peersl" +
			"d2:ip9:127.0.0.27:peer id20:aaaaaaaaaaaaaaaaaaaa4:porti6882ee" +
			"d4:porti6883e2:ip11:example.come" + // a host name: skipped
			"d2:ipi5e4:porti1ee" + // wrong types: skipped
			"i5e" + // not a dict: skipped
			"d2:ip3:::14:porti6884ee" +
			"d2:ip9:127.0.0.34:porti70000ee" + // port out of range
			"ee", peers: []string{"127.0.0.2:6882", "[::1]:6884"}, logHas: "4 malformed"},
		{name: "trailing newline", status: 200, body: "d8:intervali60e5:peers6:" + good + "e\n", peers: []string{"127.0.0.1:6881"}},
		{name: "unsorted keys", status: 200, body: "d5:peers6:" + good + "8:intervali60ee", peers: []string{"127.0.0.1:6881"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs logCollector
			c := NewClient(ClientConfig{Logf: logs.logf})
			resp, err := announceOnce(t, c, serveBody(t, tc.status, tc.body))
			switch {
			case tc.failure != "":
				var fe *FailureError
				if !errors.As(err, &fe) || err.Error() != tc.failure {
					t.Fatalf("err = %v, want failure %q", err, tc.failure)
				}
				return
			case tc.errHas != "":
				if err == nil || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.errHas)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			var got []string
			for _, p := range resp.Peers {
				got = append(got, p.String())
			}
			if !slices.Equal(got, tc.peers) {
				t.Errorf("peers %v, want %v", got, tc.peers)
			}
			if resp.Warning != tc.warning {
				t.Errorf("warning %q, want %q", resp.Warning, tc.warning)
			}
			if tc.logHas != "" && !logs.contains(tc.logHas) {
				t.Errorf("log %q lacks %q", logs.lines, tc.logHas)
			}
		})
	}
}

func TestHTTPFieldsRead(t *testing.T) {
	c := NewClient(ClientConfig{Logf: t.Logf})
	resp, err := announceOnce(t, c, serveBody(t, 200, "d8:completei7e10:incompletei3e8:intervali1800e12:min intervali900e5:peers0:e"))
	if err != nil {
		t.Fatal(err)
	}
	want := Response{Interval: 30 * time.Minute, MinInterval: 15 * time.Minute, Seeders: 7, Leechers: 3}
	if resp.Interval != want.Interval || resp.MinInterval != want.MinInterval || resp.Seeders != 7 || resp.Leechers != 3 || len(resp.Peers) != 0 {
		t.Errorf("got %+v, want %+v", *resp, want)
	}
}

func TestHTTPOversizeBody(t *testing.T) {
	body := "d8:intervali60e5:peers1048600:" + strings.Repeat("\x7f\x00\x00\x01\x1a\xe1", 1048600/6) + "e"
	c := NewClient(ClientConfig{Logf: t.Logf})
	_, err := announceOnce(t, c, serveBody(t, 200, body))
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v, want a size error", err)
	}
}

func TestHTTPQuery(t *testing.T) {
	var got url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.Query()
		w.Write([]byte("d8:intervali60ee"))
	}))
	defer srv.Close()
	ih := hashOf("\x00\x01 %+&=?/\xff\xfeabcXYZ-._~")
	req := Request{InfoHash: ih, PeerID: hashOf("-SD0001-\x80\x81"), Port: 51413, Uploaded: 10, Downloaded: 20, Left: 30, Event: Completed, NumWant: 80, Key: 0xdeadbeef}
	c := NewClient(ClientConfig{})
	if _, err := c.Announce(context.Background(), srv.URL+"/announce?passkey=abc", req); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"passkey": "abc", "info_hash": string(ih[:]), "peer_id": string(req.PeerID[:]),
		"port": "51413", "uploaded": "10", "downloaded": "20", "left": "30",
		"event": "completed", "numwant": "80", "key": "deadbeef", "compact": "1",
	}
	for k, v := range want {
		if got.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, got.Get(k), v)
		}
	}
}

func TestHTTPRedirects(t *testing.T) {
	final := serveBody(t, 200, "d8:intervali60e5:peers6:\x7f\x00\x00\x01\x1a\xe1e")
	redirectTo := func(target string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target, http.StatusFound)
		}))
		t.Cleanup(srv.Close)
		return srv.URL + "/announce"
	}
	c := NewClient(ClientConfig{Logf: t.Logf})

	// Up to 3 http redirects are followed.
	u := final
	for range 3 {
		u = redirectTo(u)
	}
	if resp, err := announceOnce(t, c, u); err != nil || len(resp.Peers) != 1 {
		t.Fatalf("3 redirects: %v, %v", resp, err)
	}
	if _, err := announceOnce(t, c, redirectTo(u)); err == nil || !strings.Contains(err.Error(), "redirects") {
		t.Fatalf("4 redirects: err = %v", err)
	}
	for _, target := range []string{"file:///etc/passwd", "ftp://127.0.0.1/x", "udp://127.0.0.1:1/announce"} {
		_, err := announceOnce(t, c, redirectTo(target))
		if !errors.Is(err, ErrUnsupportedScheme) {
			t.Errorf("redirect to %s: err = %v, want ErrUnsupportedScheme", target, err)
		}
	}
}

func TestUnsupportedSchemes(t *testing.T) {
	c := NewClient(ClientConfig{})
	for _, u := range []string{"wss://tracker.example/announce", "file:///etc/passwd", "tracker.example:80", "::"} {
		_, err := c.Announce(context.Background(), u, Request{})
		if err == nil {
			t.Errorf("%s: no error", u)
		}
	}
	if _, err := c.Announce(context.Background(), "wss://x/announce", Request{}); !errors.Is(err, ErrUnsupportedScheme) || !strings.Contains(err.Error(), "wss") {
		t.Errorf("wss: err = %v", err)
	}
	if _, err := c.Announce(context.Background(), "http://127.0.0.1:1/", Request{Port: 70000}); err == nil {
		t.Error("port 70000 accepted")
	}
}

func TestHTTPSlowTracker(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	defer srv.Close()
	c := NewClient(ClientConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Announce(ctx, srv.URL, Request{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}

	// The client's own timeout applies too.
	c = NewClient(ClientConfig{Timeout: 200 * time.Millisecond})
	start = time.Now()
	if _, err := c.Announce(context.Background(), srv.URL, Request{}); err == nil || time.Since(start) > 3*time.Second {
		t.Errorf("client timeout: err = %v after %v", err, time.Since(start))
	}
}
