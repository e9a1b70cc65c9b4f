package lsd

import (
	"slices"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func TestScheduleAnnouncesOnAddThenEveryInterval(t *testing.T) {
	s := newSchedule(AnnounceInterval, MinAnnounceGap)
	a := hashOf(1)
	if !s.next().IsZero() || len(s.take(t0, 10)) != 0 {
		t.Fatal("an empty schedule has something due")
	}
	s.add(a, t0)
	if got := s.take(t0, 10); !slices.Equal(got, []metainfo.Hash{a}) {
		t.Fatalf("at add: %v", got)
	}
	if got := s.take(t0.Add(time.Second), 10); len(got) != 0 {
		t.Fatalf("announced again a second later: %v", got)
	}
	s.add(a, t0.Add(2*time.Second)) // adding again changes nothing
	if next := s.next(); !next.Equal(t0.Add(AnnounceInterval)) {
		t.Fatalf("next = %v, want %v", next, t0.Add(AnnounceInterval))
	}
	if got := s.take(t0.Add(AnnounceInterval-time.Millisecond), 10); len(got) != 0 {
		t.Fatalf("early: %v", got)
	}
	if got := s.take(t0.Add(AnnounceInterval), 10); !slices.Equal(got, []metainfo.Hash{a}) {
		t.Fatalf("after the interval: %v", got)
	}
}

func TestScheduleNeverAnnouncesTwiceWithinAMinute(t *testing.T) {
	s := newSchedule(AnnounceInterval, MinAnnounceGap)
	a := hashOf(1)
	s.add(a, t0)
	s.take(t0, 10)
	// Removed and added again at once, and a new interface: still not
	// before a minute has passed.
	s.remove(a, t0.Add(time.Second))
	if s.has(a) || s.count() != 0 {
		t.Fatal("removed torrent still announced")
	}
	s.add(a, t0.Add(2*time.Second))
	s.soon(t0.Add(3 * time.Second))
	if got := s.take(t0.Add(59*time.Second), 10); len(got) != 0 {
		t.Fatalf("re-added torrent announced within a minute: %v", got)
	}
	if got := s.take(t0.Add(MinAnnounceGap), 10); !slices.Equal(got, []metainfo.Hash{a}) {
		t.Fatalf("after a minute: %v", got)
	}
	// soon brings the next announce forward to a minute after this one.
	s.soon(t0.Add(MinAnnounceGap + time.Second))
	if next := s.next(); !next.Equal(t0.Add(2 * MinAnnounceGap)) {
		t.Fatalf("next after soon = %v", next)
	}
}

func TestScheduleForgetsRemovedTorrents(t *testing.T) {
	s := newSchedule(AnnounceInterval, MinAnnounceGap)
	for i := range 100 {
		s.add(hashOf(byte(i)), t0)
	}
	s.take(t0, 100)
	for i := range 100 {
		s.remove(hashOf(byte(i)), t0)
	}
	s.take(t0.Add(MinAnnounceGap), 10)
	if len(s.torrents) != 0 {
		t.Fatalf("%d slots kept after removal", len(s.torrents))
	}
}

func TestScheduleBurstOldestFirst(t *testing.T) {
	s := newSchedule(AnnounceInterval, MinAnnounceGap)
	n := 2*MaxHashesPerMessage + 3
	for i := range n {
		s.add(hashOf(byte(i)), t0.Add(time.Duration(i)*time.Millisecond))
	}
	now := t0.Add(time.Second)
	var seen []metainfo.Hash
	for _, want := range []int{MaxHashesPerMessage, MaxHashesPerMessage, 3, 0} {
		got := s.take(now, MaxHashesPerMessage)
		if len(got) != want {
			t.Fatalf("took %d, want %d", len(got), want)
		}
		seen = append(seen, got...)
	}
	for i, h := range seen {
		if h != hashOf(byte(i)) {
			t.Fatalf("announce %d is %v, want the %dth added", i, h, i)
		}
	}
}
