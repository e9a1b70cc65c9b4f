package krpc

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha1"
	"errors"
	"fmt"
	"strconv"
)

// Limits of BEP 44 items.
const (
	MaxValueLen = 1000 // bytes of a bencoded `v` that a node stores
	MaxSaltLen  = 64   // bytes of a `salt`
	KeyLen      = ed25519.PublicKeySize
	SigLen      = ed25519.SignatureSize
)

// Errors of item checks, each matching a BEP 44 error code (see
// ItemErrorCode). They are wrapped with details.
var (
	ErrValueTooBig = errors.New("value too big")     // 205
	ErrBadSig      = errors.New("invalid signature") // 206
	ErrSaltTooBig  = errors.New("salt too big")      // 207
	ErrBadSeq      = errors.New("negative sequence number")
)

// Item is a BEP 44 item: a value stored in the DHT. An immutable item is
// its value alone, stored under the SHA-1 of V. A mutable item (Mutable
// set) is signed with an ed25519 key and stored under the SHA-1 of Key
// and Salt; a newer version has a higher Seq. Build one with
// NewImmutableItem or SignItem; an item from the network is checked with
// Verify (and Target against what was asked for). Items are plain
// values; V and Salt are not modified by this package once set.
type Item struct {
	// V is the value, one bencoded value kept verbatim (its hash and
	// signature are over these exact bytes), at most MaxValueLen bytes.
	V       []byte
	Mutable bool
	Key     [KeyLen]byte // ed25519 public key (mutable items)
	Seq     int64        // sequence number (mutable items), 0 or more
	Salt    []byte       // (mutable items) nil or up to MaxSaltLen bytes; empty is the same as none
	Sig     [SigLen]byte // ed25519 signature of SignedBytes (mutable items)
}

// ImmutableTarget returns the target of the immutable item with value v:
// the SHA-1 of its bencoded form.
func ImmutableTarget(v []byte) ID { return sha1.Sum(v) }

// MutableTarget returns the target of the mutable items of key and salt:
// the SHA-1 of the key followed by the salt (BEP 44, BEP 46).
func MutableTarget(key [KeyLen]byte, salt []byte) ID {
	h := sha1.New()
	h.Write(key[:])
	h.Write(salt)
	return ID(h.Sum(nil))
}

// Target returns the target the item is stored under.
func (it Item) Target() ID {
	if it.Mutable {
		return MutableTarget(it.Key, it.Salt)
	}
	return ImmutableTarget(it.V)
}

// SignedBytes returns what a mutable item's signature covers: the salt
// (if not empty), the sequence number and the value, bencoded as BEP 44
// says: "4:salt<len>:<salt>3:seqi<seq>e1:v<v>".
func SignedBytes(salt []byte, seq int64, v []byte) []byte {
	b := make([]byte, 0, len(salt)+len(v)+40)
	if len(salt) > 0 {
		b = append(b, "4:salt"...)
		b = appendBytes(b, salt)
	}
	b = append(b, "3:seqi"...)
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, "e1:v"...)
	return append(b, v...)
}

// NewImmutableItem returns the immutable item of the bencoded value v
// (kept, not copied). It fails if v is not one bencoded value or is
// longer than MaxValueLen.
func NewImmutableItem(v []byte) (Item, error) {
	it := Item{V: v}
	return it, it.Verify()
}

// SignItem returns the mutable item of v (one bencoded value, kept, not
// copied) under key's public key and salt, with sequence number seq,
// signed with key. It fails on an invalid value, a value or salt over
// its limit, a negative seq or a key of the wrong size.
func SignItem(key ed25519.PrivateKey, salt []byte, seq int64, v []byte) (Item, error) {
	if len(key) != ed25519.PrivateKeySize {
		return Item{}, fmt.Errorf("signing an item: private key of %d bytes", len(key))
	}
	if len(salt) == 0 {
		salt = nil
	}
	it := Item{V: v, Mutable: true, Seq: seq, Salt: salt}
	copy(it.Key[:], key.Public().(ed25519.PublicKey))
	if err := it.checkFields(); err != nil {
		return Item{}, err
	}
	copy(it.Sig[:], ed25519.Sign(key, SignedBytes(salt, seq, v)))
	return it, nil
}

// Verify checks the item as a storing or requesting node must: V is one
// bencoded value of at most MaxValueLen bytes, and for a mutable item
// the salt is at most MaxSaltLen bytes, Seq is not negative and Sig is
// Key's signature of SignedBytes. The error wraps ErrValueTooBig,
// ErrSaltTooBig, ErrBadSig, ErrBadSeq or ErrBadValue.
func (it Item) Verify() error {
	if err := it.checkFields(); err != nil {
		return err
	}
	if it.Mutable && !ed25519.Verify(it.Key[:], SignedBytes(it.Salt, it.Seq, it.V), it.Sig[:]) {
		return fmt.Errorf("item %x: %w", it.Target(), ErrBadSig)
	}
	return nil
}

// checkFields checks all but the signature.
func (it Item) checkFields() error {
	switch {
	case len(it.V) > MaxValueLen:
		return fmt.Errorf("item value of %d bytes: %w (at most %d)", len(it.V), ErrValueTooBig, MaxValueLen)
	case it.Mutable && len(it.Salt) > MaxSaltLen:
		return fmt.Errorf("item salt of %d bytes: %w (at most %d)", len(it.Salt), ErrSaltTooBig, MaxSaltLen)
	case it.Mutable && it.Seq < 0:
		return fmt.Errorf("item: %w %d", ErrBadSeq, it.Seq)
	}
	if err := CheckValue(it.V); err != nil {
		return fmt.Errorf("item value: %w", err)
	}
	return nil
}

// Same reports whether two items are the same version: the same kind,
// value, key, salt, sequence number and signature.
func (it Item) Same(o Item) bool {
	return it.Mutable == o.Mutable && bytes.Equal(it.V, o.V) && it.Key == o.Key && it.Seq == o.Seq &&
		bytes.Equal(it.Salt, o.Salt) && it.Sig == o.Sig
}

// ItemErrorCode returns the BEP 44 error code for an error of Verify:
// 205 for a value too big, 206 for a bad signature, 207 for a salt too
// big, and 203 (a protocol error) for the rest.
func ItemErrorCode(err error) int {
	switch {
	case errors.Is(err, ErrValueTooBig):
		return CodeValueTooBig
	case errors.Is(err, ErrBadSig):
		return CodeBadSignature
	case errors.Is(err, ErrSaltTooBig):
		return CodeSaltTooBig
	}
	return CodeProtocol
}
