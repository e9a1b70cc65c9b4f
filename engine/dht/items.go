package dht

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// Item is a BEP 44 item: see krpc.Item, and krpc.NewImmutableItem and
// krpc.SignItem to make one.
type Item = krpc.Item

// BEP 44's times: a node keeps an item ItemLifetime after its last put;
// whoever wants an item kept alive (its publisher, its readers) puts it
// again every ItemRepublish.
const (
	ItemLifetime  = 2 * time.Hour
	ItemRepublish = time.Hour
)

// Errors of Get and Put that callers may branch on.
var (
	// ErrItemNotFound: the lookup worked, but no node (nor our own store)
	// holds the item, or a version of at least GetOptions.MinSeq.
	ErrItemNotFound = errors.New("no DHT node holds the item")
	// ErrNotStored: the lookup worked, but no node stored the item: none
	// gave a token, or all refused (the error then wraps the last
	// refusal, a krpc.Error: errors.As gives its code, such as 302 when
	// the nodes hold a higher seq) or did not answer.
	ErrNotStored = errors.New("the item reached no DHT node")
)

// GetOptions says what Get looks for.
type GetOptions struct {
	// Salt is the salt of the mutable item looked for (BEP 46's `s`).
	// Nodes do not send it back, and the signature covers it, so Get
	// needs it to check the item. Unused for an immutable item.
	Salt []byte
	// MinSeq asks for a mutable item of sequence number MinSeq or more:
	// nodes that hold an older one answer with its seq alone (BEP 44's
	// get `seq`), which saves the traffic of a poll that finds nothing
	// new. 0 asks for any version.
	MinSeq int64
}

// GetResult is what Get found.
type GetResult struct {
	// Item is the item found, checked: its target is the one asked for,
	// and a mutable item's signature holds (with GetOptions.Salt). For a
	// mutable item it is the highest seq seen.
	Item Item
	// Local reports that our own store held Item (it was put to us).
	Local bool
	// Copies is the number of nodes that sent Item (this seq, for a
	// mutable item), our own store included when Local; Older, the
	// number that hold another version (sent, or told by its seq alone).
	Copies, Older int
	// Invalid counts the replies whose item failed the checks: another
	// target, a bad signature, a value that is not bencode. Such a node is
	// broken or hostile.
	Invalid int
	// Answered is the number of closest nodes that answered, both
	// families.
	Answered int
}

// Get looks up the BEP 44 item stored under target: our own store first,
// then an iterative get lookup in each family served (in parallel), each
// ending when its K closest nodes have answered or ctx ends. For a
// mutable item the target is krpc.MutableTarget(key, salt), and
// opts.Salt must hold the salt. Every item received is checked (target,
// value, signature) before it counts, and the highest seq wins.
//
// The error is ErrRouter for a routing-only node; ErrItemNotFound
// (wrapped) when the lookup found no item; or, when no family's lookup
// completed and no item was found, the error of one (wrapping ErrNoNodes,
// ErrClosed or ctx's error). With an item found, it is nil. The result is
// valid in every case.
func (n *Node) Get(ctx context.Context, target [20]byte, opts GetOptions) (GetResult, error) {
	var res GetResult
	if n.cfg.Router {
		return res, ErrRouter
	}
	s := newItemSearch(target, opts.Salt, opts.MinSeq)
	if it, ok := n.items.Get(target, time.Now()); ok && s.add(krpc.Reply{Item: it}) {
		res.Local = true
	}
	looked := 0
	var lookupErr error
	err := n.eachFamily(ctx, target, krpc.MethodGet, nil, nil, s, func(f family, closest []*candidate, err error) {
		res.Answered += len(closest)
		if err != nil {
			lookupErr = fmt.Errorf("%v: %w", f, err)
			return
		}
		looked++
	})
	found := s.result(&res)
	switch {
	case found:
		return res, nil
	case err != nil:
		return res, fmt.Errorf("getting item %x: %w", target, err)
	case looked == 0:
		return res, fmt.Errorf("getting item %x: %w", target, lookupErr)
	}
	return res, fmt.Errorf("getting item %x: %w", target, ErrItemNotFound)
}

// PutOptions says how Put stores an item.
type PutOptions struct {
	// CAS, for a mutable item, makes the put conditional (BEP 44's
	// compare and swap): a node that holds a version replaces it only if
	// that version's seq is *CAS, and otherwise refuses with error 301.
	// It is sent only to the nodes whose get reply held a version, as BEP
	// 44 asks. nil: no condition.
	CAS *int64
}

// PutResult is what Put did.
type PutResult struct {
	// Answered is the number of closest nodes that answered the lookup,
	// both families; Stored, the number of them that stored the item.
	Answered, Stored int
	// Refused counts the nodes that refused the item, by KRPC error code:
	// krpc.CodeSeqTooLow when they hold a higher seq, krpc.CodeCASMismatch
	// when CAS did not match.
	Refused map[int]int
	// Newer is the highest version above ours that the lookup met (its
	// signature checked), for a mutable item; Newer.V is nil if none. A
	// reader that re-puts an item it read should re-put this one instead.
	Newer Item
}

// Put stores the item it on the K closest nodes of each family served
// that give a token (an iterative get lookup of its target, then a put to
// each), and in our own store. A mutable item is put as it is, signature
// included: whoever read an item can put it again without the private
// key (BEP 44), which is how readers keep an item alive.
//
// The error is ErrRouter for a routing-only node; an error of Verify for
// an item that would be refused anyway; when no family's lookup
// completed, the error of one (as for Get); and when the lookups
// completed but no node stored the item, one wrapping ErrNotStored. The
// result is valid in every case.
func (n *Node) Put(ctx context.Context, it Item, opts PutOptions) (PutResult, error) {
	res := PutResult{Refused: map[int]int{}}
	if n.cfg.Router {
		return res, ErrRouter
	}
	if err := it.Verify(); err != nil {
		return res, fmt.Errorf("putting an item: %w", err)
	}
	target := it.Target()
	var cas *int64
	if it.Mutable {
		cas = opts.CAS
	}
	now := time.Now()
	n.items.Put(it, cas, netip.Addr{}, now) // (refused if we hold a newer version: Newer says so)
	s := newItemSearch(target, it.Salt, 0)
	if local, ok := n.items.Get(target, now); ok {
		s.add(krpc.Reply{Item: local})
	}
	looked := 0
	var lookupErr, putErr error
	err := n.eachFamily(ctx, target, krpc.MethodGet, nil, nil, s, func(f family, closest []*candidate, err error) {
		res.Answered += len(closest)
		if err != nil {
			lookupErr = fmt.Errorf("%v: %w", f, err)
			return
		}
		looked++
		stored, err := n.putTo(ctx, it, cas, closest, res.Refused)
		res.Stored += stored
		if err != nil {
			putErr = fmt.Errorf("%v: %w", f, err)
		}
	})
	if best, ok := s.best(); ok && best.Mutable && best.Seq > it.Seq {
		res.Newer = best
	}
	switch {
	case err != nil:
		return res, fmt.Errorf("putting item %x: %w", target, err)
	case looked == 0:
		return res, fmt.Errorf("putting item %x: %w", target, lookupErr)
	case res.Stored == 0 && putErr != nil:
		return res, fmt.Errorf("putting item %x: %w (%w)", target, ErrNotStored, putErr)
	case res.Stored == 0:
		return res, fmt.Errorf("putting item %x: %w", target, ErrNotStored)
	}
	return res, nil
}

// putTo sends the put of it to the nodes that gave a token (with cas to
// those that hold a version) and waits for their answers; it returns how
// many stored it, and counts refusals by code in refused.
func (n *Node) putTo(ctx context.Context, it Item, cas *int64, nodes []*candidate, refused map[int]int) (int, error) {
	return n.sendWithTokens(ctx, nodes, "stored", func(c *candidate) krpc.Msg {
		q := krpc.Msg{Q: krpc.MethodPut, A: krpc.Args{Token: c.token, Item: it}}
		if c.held {
			q.A.CAS = cas
		}
		return q
	}, func(code int) { refused[code]++ })
}

// itemSearch gathers the items of a get lookup's replies (both families)
// and keeps the best valid one. Safe for concurrent use.
type itemSearch struct {
	target ID
	salt   []byte
	minSeq int64
	above  *int64 // the get's `seq`: minSeq-1, nil for any

	// mu guards the fields below.
	mu       sync.Mutex
	found    bool
	top      Item
	copies   int // replies holding top
	versions int // replies holding a checked item (any version) or a seq alone
	invalid  int
}

func newItemSearch(target ID, salt []byte, minSeq int64) *itemSearch {
	s := &itemSearch{target: target, salt: salt, minSeq: minSeq}
	if len(salt) == 0 {
		s.salt = nil
	}
	if minSeq > 0 {
		above := minSeq - 1
		s.above = &above
	}
	return s
}

// add takes in a get reply and reports whether it held a version of the
// item (an item that passed the checks, or a seq alone).
func (s *itemSearch) add(r krpc.Reply) bool {
	it := r.Item
	if it.V == nil {
		if r.Seq == nil {
			return false
		}
		s.mu.Lock()
		s.versions++
		s.mu.Unlock()
		return true
	}
	if it.Mutable {
		it.Salt = s.salt
	}
	ok := it.Target() == s.target && it.Verify() == nil
	s.mu.Lock()
	defer s.mu.Unlock()
	if !ok {
		s.invalid++
		return false
	}
	s.versions++
	if it.Mutable && it.Seq < s.minSeq {
		return true
	}
	switch {
	case !s.found || it.Mutable && it.Seq > s.top.Seq:
		s.found, s.top, s.copies = true, it, 1
	case !it.Mutable || it.Seq == s.top.Seq && string(it.V) == string(s.top.V):
		s.copies++
	}
	return true
}

// best returns the best item found.
func (s *itemSearch) best() (Item, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.top, s.found
}

// result fills in res and reports whether an item was found. Our own
// store, when it held the item, counts in Copies like a node.
func (s *itemSearch) result(res *GetResult) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	res.Item, res.Copies, res.Older, res.Invalid = s.top, s.copies, s.versions-s.copies, s.invalid
	return s.found
}
