package swarm

import (
	"strings"
	"testing"
)

func TestNewPeerID(t *testing.T) {
	a, err := NewPeerID("0.1.0")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewPeerID("0.1.0")
	if string(a[:8]) != "-SW0100-" || a == b {
		t.Fatalf("peer IDs %q and %q: want -SW0100- and a random rest", a, b)
	}
	for _, c := range a[8:] {
		if !strings.ContainsRune(peerIDAlphabet, rune(c)) {
			t.Fatalf("peer ID %q has %q outside digits and lower-case letters", a, c)
		}
	}
	if id, _ := NewPeerID("1.2.3.4"); string(id[:8]) != "-SW1230-" {
		t.Fatalf("1.2.3.4 gives %q", id[:8])
	}
	for _, bad := range []string{"10.0.0", "x.1.0", "-1.0.0"} {
		if _, err := NewPeerID(bad); err == nil {
			t.Errorf("version %q accepted", bad)
		}
	}
}
