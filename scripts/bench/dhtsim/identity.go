package main

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/anacrolix/torrent/bencode"
	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// secureID returns a node ID that BEP 42 accepts for the IPv4 address ip:
// its first 21 bits are those of the CRC-32C of the address masked with
// 03.0f.3f.ff, with the low 3 bits of the ID's last byte in its top bits.
func secureID(ip netip.Addr, rng *rand.Rand) krpc.ID {
	var id krpc.ID
	for i := range id {
		id[i] = byte(rng.Uint32())
	}
	a := ip.As4()
	masked := binary.BigEndian.Uint32(a[:])&0x030f3fff | uint32(id[19]&7)<<29
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], masked)
	crc := crc32.Checksum(b[:], crc32.MakeTable(crc32.Castagnoli))
	id[0] = byte(crc >> 24)
	id[1] = byte(crc >> 16)
	id[2] = byte(crc>>8)&0xf8 | id[2]&7
	return id
}

// stateFile is the node's own saved-state format (engine/dht/persist.go):
// its ID, its external address and its routing table.
type stateFile struct {
	ID    []byte `bencode:"id"`
	Nodes []byte `bencode:"nodes"`
	IP    []byte `bencode:"ip,omitempty"`
	Saved int64  `bencode:"saved"`
}

// writeIdentity writes a state file that gives a node a BEP 42 ID for its
// address and no routing table: it starts as a node that knew its address
// (from UPnP or a previous run) before it made its ID, so that the votes of
// the nodes it meets change nothing and it bootstraps once. Without it a
// node would join, learn its address from the `ip` of the answers, take a
// new ID and bootstrap again, which at 10,000 nodes costs minutes of CPU.
func writeIdentity(dir string, addr netip.AddrPort, id krpc.ID) (string, error) {
	ip := addr.Addr().As4()
	b, err := bencode.Marshal(stateFile{ID: id[:], Nodes: []byte{}, IP: ip[:], Saved: time.Now().Unix()})
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-%d.dat", addr.Addr(), addr.Port()))
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return "", fmt.Errorf("writing a node's state: %w", err)
	}
	return path, nil
}

// stateDir makes the folder of the nodes' state files: in /dev/shm where
// there is one, since every node saves its table (with an fsync) when it
// leaves.
func stateDir() (string, error) {
	parent := os.TempDir()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		parent = "/dev/shm"
	}
	return os.MkdirTemp(parent, "swarmdrop-dhtsim-")
}
