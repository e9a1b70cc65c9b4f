package krpc

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzDecode checks that Decode never panics, and that whatever it accepts
// re-encodes to a message that decodes to the same value and re-encodes to
// the same bytes. Seeds: every sample message, the BEP 5 examples, BEP 32
// shapes (want, nodes6, 18-byte values, pad) and the packets captured from
// libtorrent in testdata/libtorrent (IPv4) and testdata/libtorrent6 (IPv6).
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
