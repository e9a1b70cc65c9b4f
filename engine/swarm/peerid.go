package swarm

import (
	"crypto/rand"
	"fmt"
	"strconv"
	"strings"
)

// ClientCode is our two-letter code in Azureus-style peer IDs
// ("-SW0100-..." for version 0.1.0). It is in none of the client tables
// of libtorrent (identify_client.cpp), Transmission (clients.cc),
// BiglyBT/Vuze or WebTorrent's bittorrent-peerid, nor in the usual
// anti-leech ban lists; "-SD", which we used before, is Xunlei Thunder's.
const ClientCode = "SW"

// peerIDAlphabet is what the random part of our peer ID is drawn from:
// digits and lower-case letters, so that no upper-case signature that
// some tables look for at fixed offsets (BitSpirit "BS" at 2, BTGetit "BG"
// at 10, ...) can appear by chance.
const peerIDAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

// NewPeerID returns a fresh peer ID for version ("major.minor.patch",
// each 0-9; extra parts are ignored): "-SW" and four version digits
// (major, minor, patch, 0), "-", and 12 random characters.
func NewPeerID(version string) ([20]byte, error) {
	var id [20]byte
	digits := [4]byte{'0', '0', '0', '0'}
	parts := strings.Split(version, ".")
	for i := 0; i < 3 && i < len(parts); i++ {
		n, err := strconv.Atoi(parts[i])
		if err != nil || n < 0 || n > 9 {
			return id, fmt.Errorf("peer ID: version %q is not major.minor.patch with digits 0-9", version)
		}
		digits[i] = byte('0' + n)
	}
	copy(id[:], "-"+ClientCode+string(digits[:])+"-")
	var r [12]byte
	if _, err := rand.Read(r[:]); err != nil {
		return id, err
	}
	for i, b := range r {
		id[8+i] = peerIDAlphabet[int(b)%len(peerIDAlphabet)]
	}
	return id, nil
}
