package tracker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// announceHTTP announces to an HTTP(S) tracker (BEP 3, BEP 23).
func (c *Client) announceHTTP(ctx context.Context, u *url.URL, req Request) (*Response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	target := *u
	target.RawQuery = announceQuery(u.RawQuery, req)
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("building request: %w", err)
	}
	hresp, err := c.http.Do(hreq)
	if err != nil {
		return nil, err
	}
	defer hresp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(hresp.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("reading response: %w", err)
	}
	if len(body) > maxResponse {
		return nil, fmt.Errorf("response larger than %d bytes", maxResponse)
	}
	resp, err := parseHTTPResponse(body)
	if hresp.StatusCode != http.StatusOK {
		var fe *FailureError
		if errors.As(err, &fe) {
			return nil, err
		}
		return nil, fmt.Errorf("HTTP status %s", hresp.Status)
	}
	return resp, err
}

// announceQuery appends the announce parameters of req to the query an
// announce URL already has.
func announceQuery(query string, req Request) string {
	var b strings.Builder
	b.WriteString(query)
	if query != "" {
		b.WriteByte('&')
	}
	b.WriteString("info_hash=")
	b.WriteString(escapeBytes(req.InfoHash[:]))
	b.WriteString("&peer_id=")
	b.WriteString(escapeBytes(req.PeerID[:]))
	fmt.Fprintf(&b, "&port=%d&uploaded=%d&downloaded=%d&left=%d&compact=1",
		req.Port, max(req.Uploaded, 0), max(req.Downloaded, 0), max(req.Left, 0))
	if ev := req.Event.String(); ev != "" {
		b.WriteString("&event=" + ev)
	}
	if req.NumWant > 0 {
		fmt.Fprintf(&b, "&numwant=%d", req.NumWant)
	}
	fmt.Fprintf(&b, "&key=%08x", req.Key)
	return b.String()
}

// escapeBytes percent-encodes every byte of b that is not unreserved in
// RFC 3986, as trackers expect for info_hash and peer_id.
func escapeBytes(b []byte) string {
	const hex = "0123456789ABCDEF"
	var s strings.Builder
	for _, c := range b {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~':
			s.WriteByte(c)
		default:
			s.WriteByte('%')
			s.WriteByte(hex[c>>4])
			s.WriteByte(hex[c&15])
		}
	}
	return s.String()
}

// parseHTTPResponse decodes the bencoded body of an HTTP tracker's answer.
// A "failure reason" is returned as a *FailureError.
func parseHTTPResponse(body []byte) (*Response, error) {
	var d dict
	if err := unmarshal(body, &d); err != nil {
		return nil, fmt.Errorf("decoding tracker response: %w", err)
	}
	if _, ok := d["failure reason"]; ok {
		reason, err := d.str("failure reason")
		if err != nil {
			return nil, err
		}
		return nil, &FailureError{Reason: reason}
	}
	var r Response
	var err error
	if r.Warning, err = d.str("warning message"); err != nil {
		return nil, err
	}
	if r.Interval, err = d.seconds("interval"); err != nil {
		return nil, err
	}
	if r.MinInterval, err = d.seconds("min interval"); err != nil {
		return nil, err
	}
	if r.Seeders, err = d.count("complete"); err != nil {
		return nil, err
	}
	if r.Leechers, err = d.count("incomplete"); err != nil {
		return nil, err
	}
	var peers peerList
	if raw, ok := d["peers"]; ok {
		if len(raw) > 0 && raw[0] == 'l' {
			r.dropped = addPeerDicts(&peers, raw)
		} else {
			b, err := d.str("peers")
			if err != nil {
				return nil, err
			}
			if note := peers.addCompact([]byte(b), 6, "peers"); note != "" {
				r.dropped = append(r.dropped, note)
			}
		}
	}
	if _, ok := d["peers6"]; ok {
		b, err := d.str("peers6")
		if err != nil {
			return nil, err
		}
		if note := peers.addCompact([]byte(b), 18, "peers6"); note != "" {
			r.dropped = append(r.dropped, note)
		}
	}
	r.Peers = peers.peers
	return &r, nil
}

// addPeerDicts adds the peers of a non-compact list (dictionaries with "ip"
// and "port"). Entries that are not such dictionaries, or whose "ip" is a
// host name, are skipped; the returned notes say how many.
func addPeerDicts(peers *peerList, raw []byte) (notes []string) {
	var list []rawValue
	if err := unmarshal(raw, &list); err != nil {
		return []string{fmt.Sprintf("peers: %v, list dropped", err)}
	}
	bad := 0
	for _, e := range list {
		var d dict
		if unmarshal(e, &d) != nil {
			bad++
			continue
		}
		ip, err1 := d.str("ip")
		port, err2 := d.integer("port")
		addr, err3 := netip.ParseAddr(ip)
		if err1 != nil || err2 != nil || err3 != nil || port < 0 || port > 65535 {
			bad++
			continue
		}
		peers.add(netip.AddrPortFrom(addr, uint16(port)))
	}
	if bad > 0 {
		notes = append(notes, fmt.Sprintf("peers: %d malformed entries skipped", bad))
	}
	return notes
}

// seconds reads a non-negative number of seconds; a missing key is 0.
func (d dict) seconds(key string) (time.Duration, error) {
	n, err := d.integer(key)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, fmt.Errorf("%s: negative value %d", key, n)
	}
	return time.Duration(min(n, maxSeconds)) * time.Second, nil
}

// count reads a non-negative count; a missing key is 0.
func (d dict) count(key string) (int, error) {
	n, err := d.integer(key)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, fmt.Errorf("%s: negative value %d", key, n)
	}
	return int(min(n, 1<<31-1)), nil
}
