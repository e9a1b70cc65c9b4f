package peerwire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"reflect"
	"testing"
)

func TestHandshakeRoundTrip(t *testing.T) {
	var ih [20]byte
	var id [20]byte
	copy(ih[:], "0123456789abcdefghij")
	copy(id[:], "-SD0001-abcdefghijkl")
	h := NewHandshake(ih, id)
	if !h.DHT() || !h.Fast() || !h.Extended() {
		t.Fatalf("NewHandshake reserved bits %x", h.Reserved)
	}
	b := AppendHandshake(nil, h)
	if len(b) != HandshakeLen || b[0] != 19 || string(b[1:20]) != Protocol {
		t.Fatalf("encoded handshake %q", b)
	}
	got, err := ReadHandshake(bytes.NewReader(b))
	if err != nil || got != h {
		t.Fatalf("ReadHandshake = %+v, %v", got, err)
	}
	if _, err := ReadHandshake(bytes.NewReader(b[:30])); err == nil {
		t.Fatal("short handshake accepted")
	}
	bad := append([]byte(nil), b...)
	bad[3] = 'x'
	if _, err := ReadHandshake(bytes.NewReader(bad)); !errors.Is(err, ErrProtocol) {
		t.Fatalf("wrong protocol string: %v", err)
	}
	var zero Handshake
	if zero.DHT() || zero.Fast() || zero.Extended() {
		t.Fatal("zero handshake claims extensions")
	}
}

func TestMessageRoundTrip(t *testing.T) {
	msgs := []Message{
		{Keepalive: true},
		{ID: Choke}, {ID: Unchoke}, {ID: Interested}, {ID: NotInterested},
		{ID: HaveAll}, {ID: HaveNone},
		{ID: Have, Index: 7}, {ID: Suggest, Index: 3}, {ID: AllowedFast, Index: 9},
		{ID: Request, Index: 1, Begin: 16384, Length: 16384},
		{ID: Cancel, Index: 1, Begin: 0, Length: 100},
		{ID: Reject, Index: 2, Begin: 32768, Length: 16384},
		{ID: Bitfield, Bitfield: []byte{0xff, 0xc0}},
		{ID: Piece, Index: 4, Begin: 16384, Block: bytes.Repeat([]byte{7}, 1000)},
		{ID: Port, Port: 6881},
		{ID: Extended, ExtID: 3, ExtPayload: []byte("d1:ai1ee")},
		// Larger than the reader's reusable buffer: read into one of its own.
		{ID: Extended, ExtID: 1, ExtPayload: bytes.Repeat([]byte{'x'}, 100_000)},
		{ID: Piece, Index: 5, Begin: 0, Block: bytes.Repeat([]byte{9}, 16384)},
	}
	var stream []byte
	for _, m := range msgs {
		before := len(stream)
		stream = AppendMessage(stream, m)
		if n := EncodedLen(m); n != len(stream)-before {
			t.Fatalf("EncodedLen(%v) = %d, AppendMessage wrote %d", m.ID, n, len(stream)-before)
		}
	}
	r := NewReader(bytes.NewReader(stream), 10)
	for _, want := range msgs {
		got, err := r.ReadMessage()
		if err != nil {
			t.Fatalf("reading %v: %v", want.ID, err)
		}
		if !reflect.DeepEqual(norm(got), norm(want)) {
			t.Fatalf("got %+v, want %+v", got, want)
		}
	}
	if _, err := r.ReadMessage(); err != io.EOF {
		t.Fatalf("after the stream: %v, want EOF", err)
	}
}

// norm makes empty slices nil so messages compare equal.
func norm(m Message) Message {
	if len(m.Block) == 0 {
		m.Block = nil
	}
	if len(m.Bitfield) == 0 {
		m.Bitfield = nil
	}
	if len(m.ExtPayload) == 0 {
		m.ExtPayload = nil
	}
	return m
}

func frame(id byte, payload []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(1+len(payload)))
	return append(append(b, id), payload...)
}

func TestHostileMessages(t *testing.T) {
	huge := binary.BigEndian.AppendUint32(nil, 1<<31)
	huge = append(huge, byte(Piece))
	cases := map[string][]byte{
		"piece over the block limit":   huge,
		"bitfield too long":            frame(byte(Bitfield), make([]byte, 3)),
		"bitfield too short":           frame(byte(Bitfield), make([]byte, 1)),
		"bitfield spare bits":          frame(byte(Bitfield), []byte{0, 0x01}),
		"have with 3 bytes":            frame(byte(Have), []byte{1, 2, 3}),
		"choke with payload":           frame(byte(Choke), []byte{1}),
		"request of length 0":          frame(byte(Request), make([]byte, 12)),
		"request over 128 KiB":         frame(byte(Request), []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1}),
		"request with 11 bytes":        frame(byte(Request), make([]byte, 11)),
		"piece without header":         frame(byte(Piece), make([]byte, 7)),
		"port with 3 bytes":            frame(byte(Port), []byte{1, 2, 3}),
		"extended without id":          frame(byte(Extended), nil),
		"extended over 1 MiB":          append(binary.BigEndian.AppendUint32(nil, 2<<20), byte(Extended)),
		"unknown type over its limit":  append(binary.BigEndian.AppendUint32(nil, 1<<20), 99),
		"have longer than its maximum": append(binary.BigEndian.AppendUint32(nil, 100), byte(Have)),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			r := NewReader(bytes.NewReader(b), 10)
			_, err := r.ReadMessage()
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("err = %v, want a protocol error", err)
			}
		})
	}
	// A truncated message is an unexpected EOF, not a clean end.
	r := NewReader(bytes.NewReader(frame(byte(Have), []byte{0, 0, 0, 1})[:6]), 10)
	if _, err := r.ReadMessage(); err != io.ErrUnexpectedEOF {
		t.Fatalf("truncated: %v", err)
	}
	// Unknown types within limits are passed on to be ignored.
	r = NewReader(bytes.NewReader(frame(42, []byte("xyz"))), 10)
	if m, err := r.ReadMessage(); err != nil || m.ID != 42 {
		t.Fatalf("unknown type: %+v %v", m, err)
	}
}

func TestBitfieldBeforePieceCountKnown(t *testing.T) {
	r := NewReader(bytes.NewReader(frame(byte(Bitfield), make([]byte, 300))), 0)
	m, err := r.ReadMessage()
	if err != nil || len(m.Bitfield) != 300 {
		t.Fatalf("%v %d", err, len(m.Bitfield))
	}
}

func TestExtHandshake(t *testing.T) {
	h := ExtHandshake{M: map[string]int{"ut_metadata": 1, "ut_pex": 2}, V: "Swarmdrop 0.1.0", P: 51413, Reqq: 500, MetadataSize: 12345, YourIP: []byte{127, 0, 0, 1}}
	got, err := ParseExtHandshake(h.Encode())
	if err != nil || !reflect.DeepEqual(got, h) {
		t.Fatalf("got %+v, %v", got, err)
	}
	// Out-of-range values are dropped; wrong types in m are skipped.
	got, err = ParseExtHandshake([]byte("d1:md11:ut_metadatai300e6:ut_pexi2e1:x3:abce1:pi70000e13:metadata_sizei-5ee"))
	if err != nil || got.M["ut_metadata"] != 0 || got.M["ut_pex"] != 2 || got.P != 0 || got.MetadataSize != 0 {
		t.Fatalf("hostile handshake parsed as %+v, %v", got, err)
	}
	for _, bad := range []string{"", "i5e", "d1:mi5ee", "l1:me", "d1:m"} {
		if _, err := ParseExtHandshake([]byte(bad)); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
}

func TestMetadataMsg(t *testing.T) {
	data := bytes.Repeat([]byte("x"), 100)
	for _, m := range []MetadataMsg{
		{Type: MetadataRequest, Piece: 2},
		{Type: MetadataData, Piece: 0, TotalSize: 100, Data: data},
		{Type: MetadataReject, Piece: 1},
	} {
		got, err := ParseMetadataMsg(m.Encode())
		if err != nil || !reflect.DeepEqual(norMeta(got), norMeta(m)) {
			t.Fatalf("got %+v, %v, want %+v", got, err, m)
		}
	}
	for _, bad := range []string{
		"d8:msg_typei0ee", "d5:piecei0ee", "d8:msg_typei7e5:piecei0ee",
		"d8:msg_typei0e5:piecei-1ee", "d8:msg_typei0e5:piecei0eexyz",
		"d8:msg_type1:a5:piecei0ee", "d8:msg_typei1e5:piecei0e10:total_sizei99999999999ee",
	} {
		if _, err := ParseMetadataMsg([]byte(bad)); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
}

func norMeta(m MetadataMsg) MetadataMsg {
	if len(m.Data) == 0 {
		m.Data = nil
	}
	return m
}

func TestPEX(t *testing.T) {
	p := PEX{
		Added:      []netip.AddrPort{netip.MustParseAddrPort("127.0.0.2:6881"), netip.MustParseAddrPort("[::1]:7000")},
		AddedFlags: []byte{0x10, 0x02},
		Dropped:    []netip.AddrPort{netip.MustParseAddrPort("10.1.2.3:51413")},
	}
	got, err := ParsePEX(p.Encode())
	if err != nil || !reflect.DeepEqual(got, p) {
		t.Fatalf("got %+v, %v", got, err)
	}
	// Port 0 and unspecified addresses are dropped; odd lengths refused.
	got, err = ParsePEX([]byte("d5:added12:\x7f\x00\x00\x01\x00\x00\x00\x00\x00\x00\x1a\xe1e"))
	if err != nil || len(got.Added) != 0 {
		t.Fatalf("junk peers kept: %+v %v", got, err)
	}
	if _, err := ParsePEX([]byte("d5:added7:abcdefge")); err == nil {
		t.Fatal("7-byte list accepted")
	}
}
