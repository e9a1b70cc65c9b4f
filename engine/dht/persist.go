package dht

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/anacrolix/torrent/bencode"
	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
	"github.com/swarmdrop/swarmdrop/internal/atomicfile"
)

// tableFile is the bencoded form of the saved tables (the same as before
// BEP 32 support, whose files had an empty or absent nodes6).
type tableFile struct {
	ID     []byte `bencode:"id"`
	Nodes  []byte `bencode:"nodes"`            // compact IPv4 contacts, good ones first
	Nodes6 []byte `bencode:"nodes6,omitempty"` // compact IPv6 contacts, good ones first
	IP     []byte `bencode:"ip,omitempty"`     // our external address, 4 or 16 bytes
	Saved  int64  `bencode:"saved"`            // Unix seconds
}

// savedTable is what loadTable found.
type savedTable struct {
	ok    bool
	id    ID
	ip    netip.Addr
	nodes [2][]krpc.NodeInfo // by family
}

// maxSavedNodes bounds what is read back from a state file, per family.
const maxSavedNodes = 2000

// loadTable reads the table saved at path. A missing file (or path "")
// gives an empty result and no error.
func loadTable(path string) (savedTable, error) {
	if path == "" {
		return savedTable{}, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return savedTable{}, nil
	}
	if err != nil {
		return savedTable{}, fmt.Errorf("loading the DHT table: %w", err)
	}
	s, err := parseTable(b)
	if err != nil {
		return savedTable{}, fmt.Errorf("loading the DHT table from %s: %w", path, err)
	}
	return s, nil
}

// parseTable decodes a saved table.
func parseTable(b []byte) (savedTable, error) {
	var f tableFile
	if err := bencode.Unmarshal(b, &f); err != nil {
		return savedTable{}, err
	}
	if len(f.ID) != 20 {
		return savedTable{}, fmt.Errorf("node ID of %d bytes", len(f.ID))
	}
	nodes, err := krpc.ParseCompactNodes(f.Nodes)
	if err != nil {
		return savedTable{}, err
	}
	nodes6, err := krpc.ParseCompactNodes6(f.Nodes6)
	if err != nil {
		return savedTable{}, err
	}
	s := savedTable{ok: true, id: ID(f.ID), nodes: [2][]krpc.NodeInfo{
		nodes[:min(len(nodes), maxSavedNodes)], nodes6[:min(len(nodes6), maxSavedNodes)]}}
	if ip, ok := netip.AddrFromSlice(f.IP); ok {
		s.ip = ip.Unmap()
	}
	return s, nil
}

// save writes the table to the state file, atomically.
func (n *Node) save() error {
	path := n.cfg.StateFile
	if path == "" {
		return nil
	}
	now := time.Now()
	var nodes [2][]krpc.NodeInfo
	for _, f := range families {
		nodes[f] = n.unserved[f]
		if t := n.tables[f]; t != nil {
			nodes[f] = t.All(now)
		}
	}
	self := n.ID()
	f := tableFile{
		ID:     self[:],
		Nodes:  krpc.AppendCompactNodes([]byte{}, nodes[ipv4]),
		Nodes6: krpc.AppendCompactNodes6(nil, nodes[ipv6]),
		Saved:  now.Unix(),
	}
	n.mu.Lock()
	if n.externalIP.IsValid() {
		f.IP = n.externalIP.AsSlice()
	}
	n.mu.Unlock()
	b, err := bencode.Marshal(f)
	if err != nil {
		return fmt.Errorf("saving the DHT table: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("saving the DHT table: %w", err)
	}
	if err := atomicfile.Write(path, b, 0o600); err != nil {
		return fmt.Errorf("saving the DHT table: %w", err)
	}
	n.mu.Lock()
	n.savedAt = now
	n.mu.Unlock()
	return nil
}

// SavedContacts returns up to k contacts from the tables saved at path,
// good ones first, alternating IPv4 and IPv6 while both have some, without
// running a node: what `swarmdrop create` puts in a torrent's `nodes` when
// the client is not running. A missing or unreadable file gives none.
func SavedContacts(path string, k int) []netip.AddrPort {
	s, err := loadTable(path)
	if err != nil || !s.ok {
		return nil
	}
	var out []netip.AddrPort
	for i := 0; len(out) < k && (i < len(s.nodes[ipv4]) || i < len(s.nodes[ipv6])); i++ {
		for _, f := range families {
			if i < len(s.nodes[f]) && len(out) < k {
				out = append(out, s.nodes[f][i].Addr)
			}
		}
	}
	return out
}
