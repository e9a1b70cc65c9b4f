package utp

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHeaderRoundTrip(t *testing.T) {
	for _, h := range []Header{
		{Type: TypeSyn, ConnID: 0xbeef, Timestamp: 1, Wnd: 1 << 20, Seq: 1},
		{Type: TypeData, ConnID: 7, Timestamp: 0xffffffff, TimestampDiff: 12345, Wnd: 0, Seq: 0xffff, Ack: 0},
		{Type: TypeState, ConnID: 1, Seq: 9, Ack: 8, SACK: []byte{0x05, 0, 0, 0x80}},
		{Type: TypeFin, Seq: 3, Ack: 2, CloseReason: 7},
		{Type: TypeState, SACK: []byte{1, 2, 3, 4, 5, 6, 7, 8}, CloseReason: 2},
		{Type: TypeReset, ConnID: 2, Ack: 77},
	} {
		b := append(h.Append(nil), "payload"...)
		if len(b) != h.Len()+len("payload") {
			t.Fatalf("%+v: Len %d, encoded %d", h, h.Len(), len(b)-len("payload"))
		}
		got, payload, err := Parse(b)
		if err != nil {
			t.Fatalf("%+v: %v", h, err)
		}
		if string(payload) != "payload" || got.Type != h.Type || got.ConnID != h.ConnID || got.Timestamp != h.Timestamp ||
			got.TimestampDiff != h.TimestampDiff || got.Wnd != h.Wnd || got.Seq != h.Seq || got.Ack != h.Ack ||
			!bytes.Equal(got.SACK, h.SACK) || got.CloseReason != h.CloseReason {
			t.Fatalf("round trip of %+v gave %+v, payload %q", h, got, payload)
		}
		if !Looks(b) {
			t.Fatalf("%+v: Looks is false", h)
		}
	}
}

// TestParseLibtorrent decodes packets libtorrent 2.0 sent to our socket
// in the tests against it (captured with UTP_CAPTURE, see tap_test.go):
// a SYN, the STATE answering ours, DATA, FIN, and acknowledgements with
// selective ACKs whose length is not always a multiple of 4, also carried
// on DATA packets. Each re-encodes to what it was.
func TestParseLibtorrent(t *testing.T) {
	files, err := filepath.Glob("testdata/libtorrent/*.bin")
	if err != nil || len(files) < 10 {
		t.Fatalf("%d captures: %v", len(files), err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		h, payload, err := Parse(b)
		if err != nil || !Looks(b) {
			t.Fatalf("%s: %v", f, err)
		}
		name := strings.TrimSuffix(filepath.Base(f), ".bin")
		kind, sack, _ := strings.Cut(name, "-")
		if strings.ToLower(h.Type.String()) != kind {
			t.Fatalf("%s: a %v packet", f, h.Type)
		}
		if (sack != "") != (h.SACK != nil) || sack != "" && sack != fmt.Sprintf("sack%d", len(h.SACK)%4) {
			t.Fatalf("%s: selective ACK %x", f, h.SACK)
		}
		if h.Type == TypeSyn && (h.Ack != 0 || h.Wnd != 0 || len(payload) != 0) {
			t.Fatalf("%s: a SYN with %+v and %d bytes", f, h, len(payload))
		}
		if again := append(h.Append(nil), payload...); !bytes.Equal(again, b) {
			t.Fatalf("%s: re-encoded as %x, was %x", f, again, b)
		}
	}
}

// TestParseBad: every malformed packet gives one error of the right kind.
func TestParseBad(t *testing.T) {
	good := Header{Type: TypeData}.Append(nil)
	for _, c := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrShort},
		{"19 bytes", good[:19], ErrShort},
		{"version 2", append([]byte{0x02}, good[1:]...), ErrVersion},
		{"version 0", append([]byte{0x10}, good[1:]...), ErrVersion},
		{"type 5", append([]byte{0x51}, good[1:]...), ErrType},
		{"type 15", append([]byte{0xf1}, good[1:]...), ErrType},
		{"bencoded dictionary", []byte("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"), ErrVersion},
		{"extension without its header", append([]byte{0x01, 1}, good[2:]...), ErrExtension},
		{"extension longer than the packet", append(append([]byte{0x01, 1}, good[2:]...), 0, 10, 1, 2), ErrExtension},
		{"second extension cut", append(append([]byte{0x01, 1}, good[2:]...), 2, 4, 0, 0, 0, 0, 0), ErrExtension},
	} {
		_, _, err := Parse(c.b)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if c.want != ErrExtension && Looks(c.b) {
			t.Errorf("%s: Looks is true", c.name)
		}
	}
	// Unknown extensions are skipped; an empty SACK counts as none.
	b := append(append([]byte{0x01, 9}, good[2:]...), 1, 2, 0xaa, 0xbb, 0, 0, 'x')
	h, payload, err := Parse(b)
	if err != nil || h.SACK != nil || string(payload) != "x" {
		t.Fatalf("unknown then empty SACK: %+v %q %v", h, payload, err)
	}
}

func TestSeqOrder(t *testing.T) {
	for _, c := range []struct {
		a, b uint16
		less bool
	}{{1, 2, true}, {2, 1, false}, {0xffff, 0, true}, {0, 0xffff, false}, {5, 5, false}, {0xfff0, 10, true}} {
		if seqLess(c.a, c.b) != c.less {
			t.Errorf("seqLess(%d, %d) != %v", c.a, c.b, c.less)
		}
	}
	if seqDiff(2, 0xffff) != 3 || seqDiff(0xffff, 2) != -3 {
		t.Fatal("seqDiff wraps wrong")
	}
}

// FuzzParse checks that no packet makes Parse panic, that whatever parses
// re-encodes to something that parses the same, and that Looks agrees
// with Parse on the fixed header.
func FuzzParse(f *testing.F) {
	f.Add(Header{Type: TypeSyn, ConnID: 1, Seq: 1}.Append(nil))
	f.Add(Header{Type: TypeState, SACK: []byte{1, 0, 0, 0}, CloseReason: 3}.Append(nil))
	f.Add(append(Header{Type: TypeData}.Append(nil), "abc"...))
	f.Add([]byte("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"))
	files, _ := filepath.Glob("testdata/libtorrent/*.bin")
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, payload, err := Parse(b)
		if err != nil {
			if errors.Is(err, ErrExtension) != (Looks(b) && err != nil) {
				t.Fatalf("Looks %v but Parse: %v", Looks(b), err)
			}
			return
		}
		if !Looks(b) {
			t.Fatal("Parse succeeded where Looks is false")
		}
		again, p2, err := Parse(append(h.Append(nil), payload...))
		if err != nil {
			t.Fatalf("re-encoded %+v does not parse: %v", h, err)
		}
		if again.Seq != h.Seq || again.Ack != h.Ack || !bytes.Equal(again.SACK, h.SACK) || again.CloseReason != h.CloseReason || !bytes.Equal(p2, payload) {
			t.Fatalf("re-encoding changed %+v into %+v", h, again)
		}
	})
}
