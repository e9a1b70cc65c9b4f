package metainfo

// This file declares the package's functions so that other packages can be
// written against them; each is being implemented in its own file, which
// replaces the declaration here.

import "errors"

var errTodo = errors.New("metainfo: not implemented yet")

// Parse decodes and validates a .torrent file.
func Parse(data []byte) (*MetaInfo, error) { return nil, errTodo }

// ParseInfo decodes and validates a bencoded info dictionary on its own
// (as fetched with BEP 9); the caller checks its hash.
func ParseInfo(raw []byte) (*Info, error) { return nil, errTodo }

// Encode returns the info dictionary bencoded with sorted keys.
func (i *Info) Encode() ([]byte, error) { return nil, errTodo }

// Encode returns the whole .torrent bencoded with sorted keys, embedding
// InfoBytes unchanged (so the info hash is preserved).
func (m *MetaInfo) Encode() ([]byte, error) { return nil, errTodo }

// Trackers returns the tracker tiers: announce-list when present,
// otherwise [[announce]], otherwise nil.
func (m *MetaInfo) Trackers() [][]string { return nil }

// Magnet returns the magnet link of m (xt, dn, and every tracker as tr).
func (m *MetaInfo) Magnet() *Magnet { return nil }

// ParseMagnet parses a magnet: URI.
func ParseMagnet(s string) (*Magnet, error) { return nil, errTodo }

// String formats the magnet link as a URI.
func (m *Magnet) String() string { return "" }

// SafePaths returns, for each entry of Files in order, a relative file
// system path (OS separators) that stays inside any folder it is joined
// to: every component sanitised, and duplicates made distinct.
func (i *Info) SafePaths() ([]string, error) { return nil, errTodo }
