package publish

import (
	"errors"
	"fmt"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// Errors of Check that a follower branches on.
var (
	// ErrNotNewer: the item is valid but not newer than the version the
	// follower has (its seq is not higher): it is ignored.
	ErrNotNewer = errors.New("not newer than the version we have")
	// ErrForeignItem: the item is not the publication's: not mutable,
	// or under another public key.
	ErrForeignItem = errors.New("not an item of this publication")
)

// Version is one version of a publication: the sequence number and the
// info hash of a mutable item that passed Check, and the item itself
// (which a follower puts again to keep it alive).
type Version struct {
	Seq      int64
	InfoHash metainfo.Hash
	Item     krpc.Item
}

// NoVersion is the "after" of Check for a follower that has none yet.
const NoVersion = -1

// Check applies a follower's rule to an item read from the DHT for the
// publication link: it must be a mutable item under the link's public
// key, signed over the link's salt (nodes do not send the salt back: it
// is taken from the link), with a seq higher than after (the seq of the
// version the follower has, NoVersion for none: sequence numbers only
// increase), and its value must be a BEP 46 {ih: <info hash>}. The error
// wraps ErrForeignItem, krpc.ErrBadSig (and Verify's other errors),
// ErrNotNewer or krpc.ErrNotInfoHashValue.
func Check(it krpc.Item, link *metainfo.MutableMagnet, after int64) (Version, error) {
	if !it.Mutable || it.Key != link.PublicKey {
		return Version{}, ErrForeignItem
	}
	it.Salt = link.Salt
	if len(it.Salt) == 0 {
		it.Salt = nil
	}
	if err := it.Verify(); err != nil {
		return Version{}, fmt.Errorf("item of seq %d: %w", it.Seq, err)
	}
	if it.Seq <= after {
		return Version{}, fmt.Errorf("item of seq %d, we have %d: %w", it.Seq, after, ErrNotNewer)
	}
	ih, err := krpc.ParseInfoHashValue(it.V)
	if err != nil {
		return Version{}, fmt.Errorf("item of seq %d: %w", it.Seq, err)
	}
	return Version{Seq: it.Seq, InfoHash: metainfo.Hash(ih), Item: it}, nil
}
