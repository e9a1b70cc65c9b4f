package metainfo

import (
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
)

// Magnet returns the magnet link of m: its info hash, its name as dn, and
// every distinct tracker as tr, tier by tier.
func (m *MetaInfo) Magnet() *Magnet {
	mg := &Magnet{InfoHash: m.InfoHash, Name: m.Info.Name}
	seen := map[string]bool{}
	for _, tier := range m.Trackers() {
		for _, u := range tier {
			if !seen[u] {
				seen[u] = true
				mg.Trackers = append(mg.Trackers, u)
			}
		}
	}
	return mg
}

// ParseMagnet parses a magnet: URI. It needs an xt of urn:btih: with the
// info hash as 40 hex digits or 32 base32 characters; dn, tr (repeatable)
// and x.pe (repeatable) are read and other parameters ignored. Errors
// wrap ErrInvalid.
func ParseMagnet(s string) (*Magnet, error) {
	s = strings.TrimSpace(s)
	const scheme = "magnet:"
	if len(s) < len(scheme) || !strings.EqualFold(s[:len(scheme)], scheme) {
		return nil, fmt.Errorf("%w: not a magnet link (it must start with magnet:?)", ErrInvalid)
	}
	rest := s[len(scheme):]
	rest = strings.TrimPrefix(rest, "//")
	if !strings.HasPrefix(rest, "?") {
		return nil, fmt.Errorf("%w: magnet link has no parameters after magnet:?", ErrInvalid)
	}
	rest = rest[1:]
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest = rest[:i]
	}
	q, err := url.ParseQuery(rest)
	if err != nil {
		return nil, fmt.Errorf("%w: magnet link: %v", ErrInvalid, err)
	}
	m := &Magnet{}
	found, v2only := false, false
	for _, xt := range q["xt"] {
		const btih, btmh = "urn:btih:", "urn:btmh:"
		switch {
		case len(xt) >= len(btih) && strings.EqualFold(xt[:len(btih)], btih):
			if found {
				continue
			}
			if m.InfoHash, err = parseInfoHash(xt[len(btih):]); err != nil {
				return nil, err
			}
			found = true
		case len(xt) >= len(btmh) && strings.EqualFold(xt[:len(btmh)], btmh):
			v2only = true
		}
	}
	if !found {
		if v2only {
			return nil, fmt.Errorf("%w: magnet link has only a BitTorrent v2 hash (urn:btmh), which is not supported", ErrInvalid)
		}
		return nil, fmt.Errorf("%w: magnet link has no xt=urn:btih: info hash", ErrInvalid)
	}
	if dn := q["dn"]; len(dn) > 0 {
		m.Name = dn[0]
	}
	for _, tr := range q["tr"] {
		if tr = strings.TrimSpace(tr); tr != "" {
			m.Trackers = append(m.Trackers, tr)
		}
	}
	for _, pe := range q["x.pe"] {
		if pe = strings.TrimSpace(pe); pe != "" {
			m.Peers = append(m.Peers, pe)
		}
	}
	return m, nil
}

// parseInfoHash reads 40 hex digits or 32 base32 characters.
func parseInfoHash(s string) (Hash, error) {
	var h Hash
	switch len(s) {
	case 40:
		if _, err := hex.Decode(h[:], []byte(s)); err != nil {
			return Hash{}, fmt.Errorf("%w: magnet info hash %q is not hex", ErrInvalid, s)
		}
	case 32:
		b, err := base32.StdEncoding.DecodeString(strings.ToUpper(s))
		if err != nil || len(b) != 20 {
			return Hash{}, fmt.Errorf("%w: magnet info hash %q is not base32", ErrInvalid, s)
		}
		copy(h[:], b)
	default:
		return Hash{}, fmt.Errorf("%w: magnet info hash %q has %d characters, want 40 hex or 32 base32", ErrInvalid, s, len(s))
	}
	return h, nil
}

// String formats the magnet link as a URI: xt with the hex info hash,
// then dn, each tr and each x.pe, query-escaped (spaces as %20; the ':'
// and brackets of x.pe kept literal, as libtorrent expects).
func (m *Magnet) String() string {
	var b strings.Builder
	b.WriteString("magnet:?xt=urn:btih:")
	b.WriteString(m.InfoHash.String())
	add := func(key, v string) {
		b.WriteString("&" + key + "=")
		b.WriteString(queryEscape(v))
	}
	if m.Name != "" {
		add("dn", m.Name)
	}
	for _, tr := range m.Trackers {
		add("tr", tr)
	}
	for _, pe := range m.Peers {
		// libtorrent reads x.pe without unescaping, so the host:port
		// punctuation stays literal (it is valid in a query).
		b.WriteString("&x.pe=")
		b.WriteString(peerEscaper.Replace(queryEscape(pe)))
	}
	return b.String()
}

// peerEscaper undoes the escaping of ':', '[' and ']' in an x.pe value.
var peerEscaper = strings.NewReplacer("%3A", ":", "%5B", "[", "%5D", "]")

// queryEscape escapes v for a magnet query, writing spaces as %20 (some
// clients do not read '+' as a space).
func queryEscape(v string) string {
	return strings.ReplaceAll(url.QueryEscape(v), "+", "%20")
}
