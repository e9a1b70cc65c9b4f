package lsd

import (
	"bytes"
	"slices"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// Announce timing (BEP 14): a torrent is announced when it is added, then
// every AnnounceInterval, and never twice within MinAnnounceGap, however
// often it is removed and added again. MessageGap spaces the messages of
// a burst (many torrents due at once) so that no more than four go out
// per second.
const (
	AnnounceInterval = 5 * time.Minute
	MinAnnounceGap   = time.Minute
	MessageGap       = 250 * time.Millisecond
)

// schedule says which torrents are due for an announce. It is a plain
// value: its owner serialises access and passes the time in.
type schedule struct {
	interval, minGap time.Duration
	torrents         map[metainfo.Hash]*slot
}

// slot is one torrent's place in the schedule. A removed torrent keeps its
// slot (inactive) until minGap has passed since its last announce, so that
// adding it again cannot announce it early.
type slot struct {
	active bool
	last   time.Time // last announce; zero if never
	due    time.Time // next announce, while active
}

func newSchedule(interval, minGap time.Duration) schedule {
	return schedule{interval: interval, minGap: minGap, torrents: make(map[metainfo.Hash]*slot)}
}

// add makes ih announced from now on: at once, or when minGap has passed
// since its last announce. Adding an active torrent changes nothing.
func (s *schedule) add(ih metainfo.Hash, now time.Time) {
	sl := s.torrents[ih]
	if sl == nil {
		sl = &slot{}
		s.torrents[ih] = sl
	}
	if sl.active {
		return
	}
	sl.active = true
	sl.due = s.earliest(sl, now)
}

// remove stops announcing ih.
func (s *schedule) remove(ih metainfo.Hash, now time.Time) {
	sl := s.torrents[ih]
	if sl == nil {
		return
	}
	sl.active = false
	s.forget(now)
}

// has reports whether ih is announced.
func (s *schedule) has(ih metainfo.Hash) bool {
	sl := s.torrents[ih]
	return sl != nil && sl.active
}

// count returns the number of torrents announced.
func (s *schedule) count() int {
	n := 0
	for _, sl := range s.torrents {
		if sl.active {
			n++
		}
	}
	return n
}

// soon makes every torrent due as early as minGap allows: a new interface
// joined should hear them all.
func (s *schedule) soon(now time.Time) {
	for _, sl := range s.torrents {
		if sl.active {
			sl.due = s.earliest(sl, now)
		}
	}
}

// take returns up to max torrents that are due at now, the longest
// overdue first, and records them as announced at now.
func (s *schedule) take(now time.Time, max int) []metainfo.Hash {
	var due []metainfo.Hash
	for ih, sl := range s.torrents {
		if sl.active && !sl.due.After(now) {
			due = append(due, ih)
		}
	}
	slices.SortFunc(due, func(a, b metainfo.Hash) int {
		if c := s.torrents[a].due.Compare(s.torrents[b].due); c != 0 {
			return c
		}
		return bytes.Compare(a[:], b[:])
	})
	if len(due) > max {
		due = due[:max]
	}
	for _, ih := range due {
		sl := s.torrents[ih]
		sl.last = now
		sl.due = now.Add(s.interval)
	}
	s.forget(now)
	return due
}

// next returns when the next torrent is due; zero if none is announced.
func (s *schedule) next() time.Time {
	var t time.Time
	for _, sl := range s.torrents {
		if sl.active && (t.IsZero() || sl.due.Before(t)) {
			t = sl.due
		}
	}
	return t
}

// earliest is the first time sl may be announced from now on.
func (s *schedule) earliest(sl *slot, now time.Time) time.Time {
	if sl.last.IsZero() {
		return now
	}
	if t := sl.last.Add(s.minGap); t.After(now) {
		return t
	}
	return now
}

// forget drops inactive slots whose minGap has passed.
func (s *schedule) forget(now time.Time) {
	for ih, sl := range s.torrents {
		if !sl.active && !sl.last.Add(s.minGap).After(now) {
			delete(s.torrents, ih)
		}
	}
}
