package dht

import (
	"bytes"
	"container/list"
	"net/netip"
	"sync"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// Limits of the item store (BEP 44).
const (
	maxItems        = 1000 // items stored, all sources together
	maxItemsPerHost = 64   // items one IP address (an IPv6 /64) may have created
	maxPutters      = 8    // distinct putters remembered per item (for eviction)
	// itemOverhead is what an item costs beyond its value and salt: key,
	// signature, the entry and its putters (an estimate, for Stats).
	itemOverhead = krpc.KeyLen + krpc.SigLen + 20 + 160 + maxPutters*24
	// maxItemBytes is the store's bound in bytes: about 1.5 MB.
	maxItemBytes = maxItems * (krpc.MaxValueLen + krpc.MaxSaltLen + itemOverhead)
)

// Refusals of a put, beyond those of Item.Verify.
var (
	errOtherKind = &krpc.Error{Code: krpc.CodeGeneric, Msg: "an item of the other kind is stored under this target"}
	errHostFull  = &krpc.Error{Code: krpc.CodeGeneric, Msg: "too many items stored from your address"}
	errCAS       = &krpc.Error{Code: krpc.CodeCASMismatch, Msg: "CAS mismatch: read the item again"}
	errSeq       = &krpc.Error{Code: krpc.CodeSeqTooLow, Msg: "sequence number less than current"}
)

// itemStore keeps the BEP 44 items put to us, within limits: at most
// maxItems items; a host (an IP address, an IPv6 /64) may create at most
// perHost of them, later ones are refused (it may still re-put and
// update items, its own or others'); an item is forgotten ttl after its
// last put. When full, a new item takes the place of the item put by the
// fewest distinct hosts (we count as one for our own puts), the least
// recently put among those, so that items many nodes keep alive outlast
// a flood. Items are checked (signature, sizes) before they come here.
// Safe for concurrent use.
type itemStore struct {
	max, perHost int
	ttl          time.Duration

	// mu guards the fields below.
	mu    sync.Mutex
	items map[ID]*storedItem
	// byPutters[i] lists the items put by i distinct hosts, least
	// recently put first: where eviction looks.
	byPutters [maxPutters + 1]list.List
	hosts     map[netip.Addr]int // items created by each host
	bytes     int                // sum of itemCost
}

type storedItem struct {
	target  ID
	item    krpc.Item
	creator netip.Addr    // host of the put that created the entry; invalid for ours
	putters []netip.Addr  // distinct hosts that put it (selfHost for us), up to maxPutters
	last    time.Time     // last put
	elem    *list.Element // in byPutters[len(putters)]
}

// selfHost stands for our own puts among an item's putters.
var selfHost = netip.IPv6Unspecified()

func newItemStore(max, perHost int, ttl time.Duration) *itemStore {
	return &itemStore{max: max, perHost: perHost, ttl: ttl, items: map[ID]*storedItem{}, hosts: map[netip.Addr]int{}}
}

func itemCost(it krpc.Item) int { return len(it.V) + len(it.Salt) + itemOverhead }

// Put stores it, a checked item, put by the host at from (invalid for our
// own puts, which no per-host limit holds), with BEP 44's compare and
// swap when cas is not nil. It returns nil, or the refusal: 301 when cas is not the stored seq, 302 when a mutable
// item's seq is below the stored one's (or equal, with another value),
// 201 when the host has created its share of items.
func (s *itemStore) Put(it krpc.Item, cas *int64, from netip.Addr, now time.Time) *krpc.Error {
	target := it.Target()
	host := selfHost
	if from.IsValid() {
		host = hostKey(from)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur := s.liveLocked(target, now); cur != nil {
		if cur.item.Mutable != it.Mutable {
			return errOtherKind
		}
		if it.Mutable {
			old := cur.item
			switch {
			case cas != nil && *cas != old.Seq:
				return errCAS
			case it.Seq < old.Seq, it.Seq == old.Seq && !bytes.Equal(it.V, old.V):
				return errSeq
			case it.Seq > old.Seq:
				s.bytes += itemCost(it) - itemCost(old)
				cur.item = it
			}
		}
		s.touchLocked(cur, host, now)
		return nil
	}
	if host != selfHost && s.hosts[host] >= s.perHost {
		return errHostFull
	}
	if len(s.items) >= s.max {
		s.evictLocked(now)
	}
	e := &storedItem{target: target, item: it}
	if host != selfHost {
		e.creator = host
		s.hosts[host]++
	}
	s.items[target] = e
	s.bytes += itemCost(it)
	s.touchLocked(e, host, now)
	return nil
}

// touchLocked records a put of e by host at now: e moves to the end of
// the list of its number of putters.
func (s *itemStore) touchLocked(e *storedItem, host netip.Addr, now time.Time) {
	e.last = now
	known := false
	for _, p := range e.putters {
		known = known || p == host
	}
	if e.elem != nil {
		s.byPutters[len(e.putters)].Remove(e.elem)
	}
	if !known && len(e.putters) < maxPutters {
		e.putters = append(e.putters, host)
	}
	e.elem = s.byPutters[len(e.putters)].PushBack(e)
}

// evictLocked makes room for one item: it forgets an expired item if the
// oldest of a list is one, or else the item put by the fewest hosts, the
// least recently put among them.
func (s *itemStore) evictLocked(now time.Time) {
	var victim *storedItem
	for i := range s.byPutters {
		f := s.byPutters[i].Front()
		if f == nil {
			continue
		}
		e := f.Value.(*storedItem)
		if now.Sub(e.last) >= s.ttl {
			victim = e
			break
		}
		if victim == nil {
			victim = e
		}
	}
	if victim != nil {
		s.deleteLocked(victim)
	}
}

func (s *itemStore) deleteLocked(e *storedItem) {
	delete(s.items, e.target)
	s.byPutters[len(e.putters)].Remove(e.elem)
	s.bytes -= itemCost(e.item)
	if e.creator.IsValid() {
		if s.hosts[e.creator]--; s.hosts[e.creator] <= 0 {
			delete(s.hosts, e.creator)
		}
	}
}

// liveLocked returns the entry of target, nil if none or expired (which
// it forgets).
func (s *itemStore) liveLocked(target ID, now time.Time) *storedItem {
	e := s.items[target]
	if e != nil && now.Sub(e.last) >= s.ttl {
		s.deleteLocked(e)
		return nil
	}
	return e
}

// Get returns the item stored under target, if any.
func (s *itemStore) Get(target ID, now time.Time) (krpc.Item, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.liveLocked(target, now); e != nil {
		return e.item, true
	}
	return krpc.Item{}, false
}

// Expire forgets the items not put for ttl.
func (s *itemStore) Expire(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked(now)
}

func (s *itemStore) expireLocked(now time.Time) {
	for t := range s.items {
		s.liveLocked(t, now)
	}
}

// Counts returns the number of items stored, the bytes they are counted
// for (itemCost) and the number of hosts that created them.
func (s *itemStore) Counts() (items, bytes, hosts int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.items), s.bytes, len(s.hosts)
}
