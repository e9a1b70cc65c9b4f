package metainfo

import (
	"crypto/sha1"
	"fmt"
	"strings"

	"github.com/anacrolix/torrent/bencode"
)

// maxTotalLength bounds a torrent's content at 2^53 bytes, which is far
// beyond any real torrent and keeps sizes exact as float64 (JSON).
const maxTotalLength = 1 << 53

// Parse decodes and validates a .torrent file. Every error that describes
// the data wraps ErrInvalid and names the problem. InfoBytes are the info
// dictionary exactly as it appears in data, and InfoHash their SHA-1.
func Parse(data []byte) (*MetaInfo, error) {
	if len(data) > MaxTorrentSize {
		return nil, fmt.Errorf("%w: %d bytes is over the %d byte limit of a .torrent file", ErrInvalid, len(data), MaxTorrentSize)
	}
	if err := checkBencode(data); err != nil {
		return nil, err
	}
	top, err := asDict(data, "torrent")
	if err != nil {
		return nil, err
	}
	raw, ok := top["info"]
	if !ok {
		return nil, fmt.Errorf("%w: no info dictionary", ErrInvalid)
	}
	info, err := parseInfo(raw)
	if err != nil {
		return nil, err
	}
	m := &MetaInfo{Info: *info, InfoBytes: []byte(raw), InfoHash: sha1.Sum(raw)}
	if err := parseOuter(top, m); err != nil {
		return nil, err
	}
	return m, nil
}

// ParseInfo decodes and validates a bencoded info dictionary on its own
// (as fetched with BEP 9), with the checks of Parse; the caller checks
// its hash.
func ParseInfo(raw []byte) (*Info, error) {
	if len(raw) > MaxTorrentSize {
		return nil, fmt.Errorf("%w: info dictionary of %d bytes is over the %d byte limit", ErrInvalid, len(raw), MaxTorrentSize)
	}
	if err := checkBencode(raw); err != nil {
		return nil, err
	}
	return parseInfo(raw)
}

// parseOuter reads the keys of the torrent around the info dictionary.
func parseOuter(top dict, m *MetaInfo) error {
	var err error
	if m.Announce, _, err = top.str("announce", "announce"); err != nil {
		return err
	}
	if raw, ok := top["announce-list"]; ok {
		if m.AnnounceList, err = parseAnnounceList(raw); err != nil {
			return err
		}
	}
	if l, ok, err := top.list("nodes", "nodes"); err != nil {
		return err
	} else if ok {
		m.Nodes = parseNodeList(l)
	}
	if raw, ok := top["url-list"]; ok {
		if m.URLList, err = parseURLList(raw); err != nil {
			return err
		}
	}
	if m.Comment, err = preferUTF8(top, "comment"); err != nil {
		return err
	}
	if m.CreatedBy, err = preferUTF8(top, "created by"); err != nil {
		return err
	}
	if m.CreationDate, _, err = top.integer("creation date", "creation date"); err != nil {
		return err
	}
	return nil
}

// parseAnnounceList reads BEP 12 tiers, dropping empty URLs and tiers.
func parseAnnounceList(raw []byte) ([][]string, error) {
	tiers, err := asList(raw, "announce-list")
	if err != nil {
		return nil, err
	}
	var out [][]string
	for i, t := range tiers {
		urls, err := stringList(t, fmt.Sprintf("announce-list[%d]", i))
		if err != nil {
			return nil, err
		}
		var tier []string
		for _, u := range urls {
			if u = strings.TrimSpace(u); u != "" {
				tier = append(tier, u)
			}
		}
		if len(tier) > 0 {
			out = append(out, tier)
		}
	}
	return out, nil
}

// parseNodeList reads BEP 5 [host, port] pairs, skipping malformed ones.
func parseNodeList(l []bencode.Bytes) []Node {
	var out []Node
	for _, item := range l {
		pair, err := asList(item, "nodes entry")
		if err != nil || len(pair) != 2 {
			continue
		}
		host, err := asString(pair[0], "node host")
		if err != nil || host == "" || strings.ContainsAny(host, " \t\r\n\x00/\\@?#") {
			continue
		}
		port, err := asInt(pair[1], "node port")
		if err != nil || port < 1 || port > 65535 {
			continue
		}
		out = append(out, Node{Host: host, Port: int(port)})
	}
	return out
}

// parseURLList reads BEP 19 web seeds: one string or a list of strings.
func parseURLList(raw []byte) ([]string, error) {
	var urls []string
	if len(raw) > 0 && raw[0] == 'l' {
		var err error
		if urls, err = stringList(raw, "url-list"); err != nil {
			return nil, err
		}
	} else {
		u, err := asString(raw, "url-list")
		if err != nil {
			return nil, err
		}
		urls = []string{u}
	}
	var out []string
	for _, u := range urls {
		if u != "" {
			out = append(out, u)
		}
	}
	return out, nil
}

// preferUTF8 returns the string under key+".utf-8" if present, else the
// one under key.
func preferUTF8(d dict, key string) (string, error) {
	if s, ok, err := d.str(key+".utf-8", key+".utf-8"); err != nil || ok {
		return s, err
	}
	s, _, err := d.str(key, key)
	return s, err
}
