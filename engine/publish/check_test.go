package publish

import (
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// TestCheck is the follower's rule on each kind of item: a newer valid
// version passes; a forged signature, a lower or equal seq, another
// key, another salt, an immutable item or a value without an info hash
// are refused with the error that says so.
func TestCheck(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	_, other, _ := ed25519.GenerateKey(nil)
	salt := []byte("pub")
	link := Link(key, salt, "pub")
	ih := [20]byte{1, 2, 3}
	sign := func(k ed25519.PrivateKey, salt []byte, seq int64, v []byte) krpc.Item {
		it, err := krpc.SignItem(k, salt, seq, v)
		if err != nil {
			t.Fatal(err)
		}
		it.Salt = nil // as it comes from a node
		return it
	}
	good := sign(key, salt, 5, krpc.InfoHashValue(ih))
	forged := good
	forged.V = krpc.InfoHashValue([20]byte{9})
	flipped := good
	flipped.Sig[0] ^= 1
	imm, _ := krpc.NewImmutableItem(krpc.InfoHashValue(ih))
	cases := []struct {
		name  string
		it    krpc.Item
		after int64
		want  error
	}{
		{"first version", good, NoVersion, nil},
		{"newer", good, 4, nil},
		{"same seq", good, 5, ErrNotNewer},
		{"lower seq", good, 6, ErrNotNewer},
		{"value changed", forged, NoVersion, krpc.ErrBadSig},
		{"signature flipped", flipped, NoVersion, krpc.ErrBadSig},
		{"other key", sign(other, salt, 9, krpc.InfoHashValue(ih)), NoVersion, ErrForeignItem},
		{"other salt", sign(key, []byte("x"), 9, krpc.InfoHashValue(ih)), NoVersion, krpc.ErrBadSig},
		{"no salt", sign(key, nil, 9, krpc.InfoHashValue(ih)), NoVersion, krpc.ErrBadSig},
		{"immutable", imm, NoVersion, ErrForeignItem},
		{"not an info hash", sign(key, salt, 9, []byte("5:hello")), NoVersion, krpc.ErrNotInfoHashValue},
	}
	for _, c := range cases {
		v, err := Check(c.it, link, c.after)
		if c.want == nil {
			if err != nil || v.Seq != 5 || v.InfoHash != metainfo.Hash(ih) || string(v.Item.Salt) != "pub" {
				t.Errorf("%s: %+v, %v", c.name, v, err)
			}
			continue
		}
		if !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.want)
		}
	}
}
