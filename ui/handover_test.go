package ui

import (
	"errors"
	"strings"
	"testing"
)

// TestIntakeReportsErrors: what the window cannot add comes back from
// intake (the hand-over answers the second process with it), one part per
// failed argument; nothing failed is nil.
func TestIntakeReportsErrors(t *testing.T) {
	be := newFakeBackend()
	m := newTestWindow(t, be)
	if err := m.intake([]string{"/x/a.torrent"}); err != nil {
		t.Fatalf("good intake: %v", err)
	}
	be.addErr = errors.New("not a torrent")
	err := m.intake([]string{"/x/bad.torrent", goodMagnet})
	if err == nil || strings.Count(err.Error(), "not a torrent") != 2 || !strings.Contains(err.Error(), "adding torrent") {
		t.Fatalf("intake of two bad items: %v", err)
	}
}
