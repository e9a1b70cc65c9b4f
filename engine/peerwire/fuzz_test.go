package peerwire

import (
	"bytes"
	"testing"
)

// FuzzReadMessage checks that no byte stream makes the reader panic or
// return a message that does not re-encode to what was read.
func FuzzReadMessage(f *testing.F) {
	f.Add(AppendMessage(nil, Message{ID: Request, Index: 1, Begin: 2, Length: 3}), 4)
	f.Add(AppendMessage(nil, Message{ID: Bitfield, Bitfield: []byte{0xf0}}), 4)
	f.Add(AppendMessage(nil, Message{ID: Extended, ExtID: 1, ExtPayload: []byte("d8:msg_typei0e5:piecei0ee")}), 0)
	f.Add([]byte{0, 0, 0, 0}, 0)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		if n < 0 || n > 1<<20 {
			n = 0
		}
		r := NewReader(bytes.NewReader(b), n)
		for i := 0; i < 100; i++ {
			m, err := r.ReadMessage()
			if err != nil {
				return
			}
			if m.Keepalive || m.ID > Extended || (m.ID > Port && m.ID < Suggest) || (m.ID > AllowedFast && m.ID < Extended) {
				continue
			}
			again, err := ParseMessage(AppendMessage(nil, m)[4:], n)
			if err != nil {
				t.Fatalf("re-encoded %v does not parse: %v", m.ID, err)
			}
			if m.ID == Extended {
				ParseExtHandshake(m.ExtPayload)
				ParseMetadataMsg(m.ExtPayload)
				ParsePEX(m.ExtPayload)
			}
			_ = again
		}
	})
}

// FuzzExtended feeds extension payloads straight to their parsers.
func FuzzExtended(f *testing.F) {
	f.Add(ExtHandshake{M: map[string]int{"ut_pex": 2}, V: "x"}.Encode())
	f.Add(MetadataMsg{Type: 1, Piece: 0, TotalSize: 3, Data: []byte("abc")}.Encode())
	f.Add(PEX{}.Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		if h, err := ParseExtHandshake(b); err == nil {
			if _, err := ParseExtHandshake(h.Encode()); err != nil {
				t.Fatalf("re-encoded handshake fails: %v", err)
			}
		}
		if m, err := ParseMetadataMsg(b); err == nil {
			if _, err := ParseMetadataMsg(m.Encode()); err != nil {
				t.Fatalf("re-encoded metadata message fails: %v", err)
			}
		}
		if p, err := ParsePEX(b); err == nil {
			if _, err := ParsePEX(p.Encode()); err != nil {
				t.Fatalf("re-encoded PEX fails: %v", err)
			}
		}
	})
}
