package metainfo

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// MaxSaltLen is the longest salt of a BEP 46 link (BEP 44's limit).
const MaxSaltLen = 64

// ErrNoPublicKey is wrapped (with ErrInvalid) by ParseMutableMagnet's
// error when the link has no xs=urn:btpk: at all: it may still be an
// ordinary magnet link, for ParseMagnet.
var ErrNoPublicKey = errors.New("no xs=urn:btpk: public key")

// MutableMagnet is a BEP 46 link to an updatable torrent:
// magnet:?xs=urn:btpk:<public key hex>&s=<salt hex>. The publisher's
// ed25519 public key and the salt name a mutable DHT item (BEP 44) whose
// value holds the info hash of the torrent's current version.
type MutableMagnet struct {
	PublicKey [32]byte
	// Salt tells apart the publications of one key; nil for none, at
	// most MaxSaltLen bytes.
	Salt []byte
	// Name is the display name (`dn`), possibly empty.
	Name string
	// Peers are the `x.pe` parameters as host:port strings.
	Peers []string
}

// ParseMutableMagnet parses a BEP 46 link. It needs an xs of urn:btpk:
// with the public key as 64 hex digits (the first one counts); s, the
// salt in hex, is optional; dn and x.pe (repeatable) are read and other
// parameters ignored. Errors wrap ErrInvalid, and ErrNoPublicKey when the
// link names no public key.
func ParseMutableMagnet(s string) (*MutableMagnet, error) {
	q, err := magnetParams(s)
	if err != nil {
		return nil, err
	}
	m := &MutableMagnet{}
	found := false
	for _, xs := range q["xs"] {
		const btpk = "urn:btpk:"
		if len(xs) < len(btpk) || !strings.EqualFold(xs[:len(btpk)], btpk) {
			continue
		}
		key := xs[len(btpk):]
		if len(key) != 2*len(m.PublicKey) {
			return nil, fmt.Errorf("%w: public key %q has %d characters, want %d hex digits", ErrInvalid, key, len(key), 2*len(m.PublicKey))
		}
		if _, err := hex.Decode(m.PublicKey[:], []byte(key)); err != nil {
			return nil, fmt.Errorf("%w: public key %q is not hex", ErrInvalid, key)
		}
		found = true
		break
	}
	if !found {
		return nil, fmt.Errorf("%w: magnet link has %w", ErrInvalid, ErrNoPublicKey)
	}
	if salt := q["s"]; len(salt) > 0 && salt[0] != "" {
		if len(salt[0]) > 2*MaxSaltLen {
			return nil, fmt.Errorf("%w: salt of %d hex digits, more than %d bytes", ErrInvalid, len(salt[0]), MaxSaltLen)
		}
		if m.Salt, err = hex.DecodeString(salt[0]); err != nil {
			return nil, fmt.Errorf("%w: salt %q is not hex", ErrInvalid, salt[0])
		}
	}
	if dn := q["dn"]; len(dn) > 0 {
		m.Name = dn[0]
	}
	for _, pe := range q["x.pe"] {
		if pe = strings.TrimSpace(pe); pe != "" {
			m.Peers = append(m.Peers, pe)
		}
	}
	return m, nil
}

// String formats the link: xs with the public key in hex, then s with
// the salt in hex (if any), dn and each x.pe, escaped as Magnet.String
// does.
func (m *MutableMagnet) String() string {
	var b strings.Builder
	b.WriteString("magnet:?xs=urn:btpk:")
	b.WriteString(hex.EncodeToString(m.PublicKey[:]))
	if len(m.Salt) > 0 {
		b.WriteString("&s=")
		b.WriteString(hex.EncodeToString(m.Salt))
	}
	if m.Name != "" {
		b.WriteString("&dn=")
		b.WriteString(queryEscape(m.Name))
	}
	for _, pe := range m.Peers {
		b.WriteString("&x.pe=")
		b.WriteString(peerEscaper.Replace(queryEscape(pe)))
	}
	return b.String()
}

// magnetParams checks the magnet: scheme of s and returns its query
// parameters (a fragment is dropped). Errors wrap ErrInvalid.
func magnetParams(s string) (url.Values, error) {
	s = strings.TrimSpace(s)
	const scheme = "magnet:"
	if len(s) < len(scheme) || !strings.EqualFold(s[:len(scheme)], scheme) {
		return nil, fmt.Errorf("%w: not a magnet link (it must start with magnet:?)", ErrInvalid)
	}
	rest := strings.TrimPrefix(s[len(scheme):], "//")
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
	return q, nil
}
