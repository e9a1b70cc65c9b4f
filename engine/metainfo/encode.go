package metainfo

import (
	"crypto/sha1"
	"fmt"

	"github.com/anacrolix/torrent/bencode"
)

// wireFile is one entry of a multi-file info dictionary.
type wireFile struct {
	Attr        string   `bencode:"attr,omitempty"`
	Length      int64    `bencode:"length"`
	Path        []string `bencode:"path"`
	SymlinkPath []string `bencode:"symlink path,omitempty"`
}

// wireInfo is an info dictionary as written; the encoder sorts keys.
type wireInfo struct {
	Attr        string     `bencode:"attr,omitempty"`
	Files       []wireFile `bencode:"files,omitempty"`
	Length      *int64     `bencode:"length,omitempty"`
	Name        string     `bencode:"name"`
	PieceLength int64      `bencode:"piece length"`
	Pieces      []byte     `bencode:"pieces"`
	Private     int64      `bencode:"private,omitempty"`
}

// wireTorrent is a .torrent as written; Info is embedded unchanged.
type wireTorrent struct {
	Announce     string        `bencode:"announce,omitempty"`
	AnnounceList [][]string    `bencode:"announce-list,omitempty"`
	Comment      string        `bencode:"comment,omitempty"`
	CreatedBy    string        `bencode:"created by,omitempty"`
	CreationDate int64         `bencode:"creation date,omitempty"`
	Info         bencode.Bytes `bencode:"info"`
	Nodes        [][]any       `bencode:"nodes,omitempty"`
	URLList      any           `bencode:"url-list,omitempty"`
}

// Encode returns the info dictionary bencoded with sorted keys: length
// for a single-file torrent (its one file's length, or TotalLength when
// Files is empty), files with each length and path otherwise; private
// only when set. BEP 47 keys are written as files carry them: attr
// ("phxl") and symlink path. It does not validate i; New does.
func (i *Info) Encode() ([]byte, error) {
	w := wireInfo{Name: i.Name, PieceLength: i.PieceLength, Pieces: i.Pieces}
	if w.Pieces == nil {
		w.Pieces = []byte{}
	}
	if i.Private {
		w.Private = 1
	}
	if i.MultiFile {
		if len(i.Files) == 0 {
			return nil, fmt.Errorf("encoding info: %w: multi-file torrent without files", ErrInvalid)
		}
		w.Files = make([]wireFile, len(i.Files))
		for n, f := range i.Files {
			w.Files[n] = wireFile{Attr: f.attr(), Length: f.Length, Path: f.Path}
			if !f.Pad {
				w.Files[n].SymlinkPath = f.Symlink
			}
		}
	} else {
		n := i.TotalLength
		switch len(i.Files) {
		case 0:
		case 1:
			n = i.Files[0].Length
			w.Attr = i.Files[0].attr()
		default:
			return nil, fmt.Errorf("encoding info: %w: single-file torrent with %d files", ErrInvalid, len(i.Files))
		}
		w.Length = &n
	}
	b, err := bencode.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("encoding info: %w", err)
	}
	return b, nil
}

// New builds a MetaInfo around info: it encodes info, validates the
// result as Parse would, and sets InfoBytes and InfoHash. The returned
// Info is the validated one, with offsets and TotalLength filled in.
func New(info *Info) (*MetaInfo, error) {
	raw, err := info.Encode()
	if err != nil {
		return nil, err
	}
	checked, err := ParseInfo(raw)
	if err != nil {
		return nil, fmt.Errorf("new torrent: %w", err)
	}
	return &MetaInfo{Info: *checked, InfoBytes: raw, InfoHash: sha1.Sum(raw)}, nil
}

// Encode returns the whole .torrent bencoded with sorted keys, embedding
// InfoBytes unchanged (so the info hash is preserved); when InfoBytes is
// empty the Info is encoded. Nodes are written as [host, port] lists and
// the other keys only when set; a single web seed is written as a string,
// several as a list.
func (m *MetaInfo) Encode() ([]byte, error) {
	w := wireTorrent{
		Announce:     m.Announce,
		AnnounceList: m.AnnounceList,
		Comment:      m.Comment,
		CreatedBy:    m.CreatedBy,
		CreationDate: m.CreationDate,
		Info:         m.InfoBytes,
	}
	switch len(m.URLList) {
	case 0:
	case 1:
		w.URLList = m.URLList[0]
	default:
		w.URLList = m.URLList
	}
	if len(w.Info) == 0 {
		raw, err := m.Info.Encode()
		if err != nil {
			return nil, err
		}
		w.Info = raw
	}
	for _, n := range m.Nodes {
		w.Nodes = append(w.Nodes, []any{n.Host, int64(n.Port)})
	}
	b, err := bencode.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("encoding torrent: %w", err)
	}
	return b, nil
}

// Trackers returns the tracker tiers: announce-list when it holds a URL,
// otherwise [[announce]], otherwise nil. Empty URLs and tiers are dropped.
func (m *MetaInfo) Trackers() [][]string {
	var out [][]string
	for _, tier := range m.AnnounceList {
		var t []string
		for _, u := range tier {
			if u != "" {
				t = append(t, u)
			}
		}
		if len(t) > 0 {
			out = append(out, t)
		}
	}
	if len(out) > 0 {
		return out
	}
	if m.Announce != "" {
		return [][]string{{m.Announce}}
	}
	return nil
}
