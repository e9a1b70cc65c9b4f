package krpc

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/anacrolix/torrent/bencode"
)

// FuzzDecode checks that Decode never panics, and that whatever it accepts
// re-encodes to a message that decodes to the same value and re-encodes to
// the same bytes. Seeds: every sample message, the BEP 5 examples, BEP 32
// shapes (want, nodes6, 18-byte values, pad), BEP 44's get and put, and the
// packets captured from libtorrent in testdata/libtorrent (IPv4),
// testdata/libtorrent6 (IPv6) and testdata/libtorrent44 (BEP 44).
func FuzzDecode(f *testing.F) {
	for _, m := range sampleMsgs() {
		f.Add(m.Encode())
	}
	f.Add([]byte("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"))
	f.Add([]byte("d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee"))
	f.Add([]byte("d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re"))
	f.Add([]byte("d1:ad2:id20:abcdefghij01234567893:pad5:000006:target20:mnopqrstuvwxyz1234564:wantl2:n42:n6ee1:q9:find_node1:t2:aa1:y1:qe"))
	f.Add([]byte("d1:rd2:id20:abcdefghij01234567896:nodes638:mnopqrstuvwxyz123456\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x1a\xe16:valuesl18:\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x1a\xe16:axje.uee1:t2:aa1:y1:re"))
	files, _ := filepath.Glob("testdata/libtorrent*/*.bin")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		enc := m.Encode()
		m2, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-encoding of an accepted message does not decode: %v\nin  %q\nenc %q", err, b, enc)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip changed the message:\n%+v\n%+v", m, m2)
		}
		if enc2 := m2.Encode(); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable:\n%q\n%q", enc, enc2)
		}
	})
}

// FuzzItem checks the pure item functions on any input: CheckValue never
// panics and accepts only what the bencode decoder reads too;
// ParseInfoHashValue never panics and what it accepts holds the info hash
// InfoHashValue writes; an item made of the input (as a value, salt,
// sequence number and signature from a hostile node) verifies without
// panicking, and only if it was signed.
func FuzzItem(f *testing.F) {
	for _, s := range []string{"0:", "i42e", "d2:ih20:mnopqrstuvwxyz123456e", "d1:a0:1:b0:e", "l4:spami-3ee",
		"d2:ih20:mnopqrstuvwxyz1234561:xli1eee", "i-0e", "d1:b0:1:a0:e", "12:Hello World!"} {
		f.Add([]byte(s), []byte("salt"), int64(1))
	}
	good, _ := SignItem(testKey, []byte("salt"), 1, []byte("12:Hello World!"))
	f.Fuzz(func(t *testing.T, v, salt []byte, seq int64) {
		if CheckValue(v) == nil {
			var x any
			if err := bencode.Unmarshal(v, &x); err != nil {
				t.Fatalf("CheckValue accepts %q, bencode refuses it: %v", v, err)
			}
		}
		if ih, err := ParseInfoHashValue(v); err == nil {
			if again, err := ParseInfoHashValue(InfoHashValue(ih)); err != nil || again != ih {
				t.Fatalf("%q: ih %x does not round-trip: %x, %v", v, ih, again, err)
			}
		}
		it := good
		it.V, it.Salt, it.Seq = v, salt, seq
		err := it.Verify()
		signed := bytes.Equal(v, good.V) && seq == good.Seq && (bytes.Equal(salt, good.Salt))
		if (err == nil) != signed {
			t.Fatalf("v %q salt %q seq %d: Verify gives %v", v, salt, seq, err)
		}
	})
}
