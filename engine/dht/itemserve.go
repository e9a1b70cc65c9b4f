package dht

import (
	"net/netip"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// storedItem returns what a get of target with the query's seq (nil:
// none) carries: the stored item, or only its sequence number when the
// stored mutable item is not above seq (BEP 44), or nothing.
func (n *Node) storedItem(target ID, seq *int64, now time.Time) (*krpc.Item, *int64) {
	it, ok := n.items.Get(target, now)
	switch {
	case !ok:
		return nil, nil
	case it.Mutable && seq != nil && it.Seq <= *seq:
		s := it.Seq
		return nil, &s
	}
	return &it, nil
}

// servePut handles a put query (BEP 44) from addr: the token, then the
// item's sizes and signature, then the store's rules. It returns the
// refusal, or nil once the item is stored.
func (n *Node) servePut(m krpc.Msg, from netip.AddrPort, now time.Time) *krpc.Error {
	refuse := func(code int, text string) *krpc.Error { return &krpc.Error{Code: code, Msg: text} }
	switch {
	case n.cfg.Router:
		return refuse(krpc.CodeMethodUnknown, "this node is a router: it stores no items")
	case !n.tokens.Valid(m.A.Token, from.Addr(), now):
		return refuse(krpc.CodeProtocol, "bad token")
	}
	it := m.A.Item
	if err := it.Verify(); err != nil {
		return refuse(krpc.ItemErrorCode(err), err.Error())
	}
	var cas *int64
	if it.Mutable {
		cas = m.A.CAS
	}
	return n.items.Put(it, cas, from.Addr(), now)
}
