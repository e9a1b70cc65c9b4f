package tracker

import (
	"encoding/binary"
	"errors"
	"testing"
)

// checkResponse checks what every parsed response must satisfy.
func checkResponse(t *testing.T, r *Response) {
	if r.Interval < 0 || r.MinInterval < 0 || r.Seeders < 0 || r.Leechers < 0 {
		t.Fatalf("negative field in %+v", *r)
	}
	seen := make(map[string]bool)
	for _, p := range r.Peers {
		if !usablePeer(p) || p.Addr().Is4In6() || seen[p.String()] {
			t.Fatalf("peer %v kept", p)
		}
		seen[p.String()] = true
	}
}

func FuzzParseHTTPResponse(f *testing.F) {
	for _, s := range []string{
		"d8:intervali1800e5:peers6:\x7f\x00\x00\x01\x1a\xe1e",
		"d14:failure reason4:nopee",
		"d8:completei1e10:incompletei2e8:intervali60e12:min intervali30e5:peers0:6:peers618:\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x1a\xe115:warning message2:hie",
		"d8:intervali60e5:peersld2:ip9:127.0.0.14:porti1eeee",
		"d8:interval4:1800e",
		"d5:peers7:1234567e",
		"li1ee",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := parseHTTPResponse(body)
		if err != nil {
			if r != nil {
				t.Fatal("response with an error")
			}
			var fe *FailureError
			if errors.As(err, &fe) && err.Error() != fe.Reason {
				t.Fatal("failure text changed")
			}
			return
		}
		checkResponse(t, r)
	})
}

func FuzzParseUDPAnnounce(f *testing.F) {
	ok := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 1), 42)
	ok = append(ok, 0, 0, 7, 8, 0, 0, 0, 1, 0, 0, 0, 2, 127, 0, 0, 1, 0x1a, 0xe1)
	f.Add(ok, uint32(42), false)
	f.Add(ok[:19], uint32(42), false)
	f.Add(append(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 3), 42), "nope"...), uint32(42), true)
	f.Fuzz(func(t *testing.T, b []byte, tid uint32, v6 bool) {
		size := 6
		if v6 {
			size = 18
		}
		r, err := parseUDPAnnounce(b, tid, size)
		if err != nil {
			if r != nil {
				t.Fatal("response with an error")
			}
			return
		}
		if len(b) < 20 || binary.BigEndian.Uint32(b[4:]) != tid {
			t.Fatal("accepted a short or foreign packet")
		}
		checkResponse(t, r)
		id, err := parseUDPConnect(b, tid)
		if err == nil || id != 0 {
			t.Fatal("announce answer accepted as connect answer")
		}
	})
}

func FuzzParseUDPConnect(f *testing.F) {
	f.Add(binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, 42), 99), uint32(42))
	f.Add([]byte{0, 0, 0, 3, 0, 0, 0, 42, 'x'}, uint32(42))
	f.Fuzz(func(t *testing.T, b []byte, tid uint32) {
		id, err := parseUDPConnect(b, tid)
		if err == nil && (len(b) < 16 || binary.BigEndian.Uint32(b) != 0 || binary.BigEndian.Uint32(b[4:]) != tid || id != binary.BigEndian.Uint64(b[8:])) {
			t.Fatalf("accepted % x", b)
		}
	})
}
