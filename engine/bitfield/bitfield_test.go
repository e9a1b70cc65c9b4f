package bitfield

import "testing"

func TestBitfield(t *testing.T) {
	f := New(10)
	f.Set(0)
	f.Set(9)
	f.Set(10) // ignored
	if !f.Has(0) || !f.Has(9) || f.Has(1) || f.Has(10) || f.Has(-1) {
		t.Fatalf("bits wrong: %08b", f.Bytes())
	}
	if got := f.Bytes(); got[0] != 0x80 || got[1] != 0x40 {
		t.Fatalf("wire layout %08b", got)
	}
	if f.Count() != 2 || f.Full() {
		t.Fatal("count")
	}
	f.SetAll()
	if !f.Full() || f.Bytes()[1] != 0xc0 {
		t.Fatalf("SetAll: %08b", f.Bytes())
	}
	g := f.Clone()
	g.Clear(3)
	if !f.Has(3) || g.Has(3) {
		t.Fatal("clone shares storage")
	}
}

func TestFromBytes(t *testing.T) {
	for _, c := range []struct {
		b  []byte
		n  int
		ok bool
	}{
		{[]byte{0xff, 0xc0}, 10, true},
		{[]byte{0xff, 0xe0}, 10, false}, // spare bit
		{[]byte{0xff}, 10, false},       // short
		{[]byte{0xff, 0, 0}, 10, false}, // long
		{nil, 0, true},
		{[]byte{0xff}, 8, true},
	} {
		_, err := FromBytes(c.b, c.n)
		if (err == nil) != c.ok {
			t.Errorf("FromBytes(%x, %d): err %v, want ok=%v", c.b, c.n, err, c.ok)
		}
	}
}
