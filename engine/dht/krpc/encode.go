package krpc

import (
	"strconv"
)

// Encode returns the bencoded form of m. It writes what m holds without
// validating it; Decode is the side that checks.
func (m Msg) Encode() []byte { return m.Append(make([]byte, 0, 256)) }

// Append appends the bencoded form of m to dst and returns the result.
// Dictionary keys are written in sorted order, as bencode requires.
func (m Msg) Append(dst []byte) []byte {
	dst = append(dst, 'd')
	switch m.Y {
	case KindQuery:
		dst = appendString(dst, "a")
		dst = m.A.appendTo(dst, m.Q)
	case KindError:
		dst = appendString(dst, "e")
		dst = append(dst, 'l')
		dst = appendInt(dst, int64(m.E.Code))
		dst = appendString(dst, m.E.Msg)
		dst = append(dst, 'e')
	}
	if m.IP.IsValid() {
		dst = appendString(dst, "ip")
		dst = appendBytes(dst, AppendCompactPeer(nil, m.IP))
	}
	if m.Y == KindQuery {
		dst = appendString(dst, "q")
		dst = appendString(dst, m.Q)
	}
	if m.Y == KindResponse {
		dst = appendString(dst, "r")
		dst = m.R.appendTo(dst)
	}
	if m.ReadOnly {
		dst = appendString(dst, "ro")
		dst = appendInt(dst, 1)
	}
	dst = appendString(dst, "t")
	dst = appendBytes(dst, m.T)
	if len(m.V) > 0 {
		dst = appendString(dst, "v")
		dst = appendBytes(dst, m.V)
	}
	dst = appendString(dst, "y")
	dst = appendString(dst, string(rune(m.Y)))
	return append(dst, 'e')
}

func (a *Args) appendTo(dst []byte, method string) []byte {
	dst = append(dst, 'd')
	it := &a.Item
	if a.CAS != nil {
		dst = appendString(dst, "cas")
		dst = appendInt(dst, *a.CAS)
	}
	dst = appendString(dst, "id")
	dst = appendBytes(dst, a.ID[:])
	if a.ImpliedPort {
		dst = appendString(dst, "implied_port")
		dst = appendInt(dst, 1)
	}
	if method == MethodGetPeers || method == MethodAnnouncePeer || a.InfoHash != (ID{}) {
		dst = appendString(dst, "info_hash")
		dst = appendBytes(dst, a.InfoHash[:])
	}
	if it.Mutable {
		dst = appendString(dst, "k")
		dst = appendBytes(dst, it.Key[:])
	}
	if a.NoSeed {
		dst = appendString(dst, "noseed")
		dst = appendInt(dst, 1)
	}
	if a.Pad > 0 {
		dst = appendString(dst, "pad")
		dst = strconv.AppendInt(dst, int64(a.Pad), 10)
		dst = append(dst, ':')
		for range a.Pad {
			dst = append(dst, '0')
		}
	}
	if method == MethodAnnouncePeer || a.Port != 0 {
		dst = appendString(dst, "port")
		dst = appendInt(dst, int64(a.Port))
	}
	if it.Mutable && len(it.Salt) > 0 {
		dst = appendString(dst, "salt")
		dst = appendBytes(dst, it.Salt)
	}
	if a.Scrape {
		dst = appendString(dst, "scrape")
		dst = appendInt(dst, 1)
	}
	if a.Seed {
		dst = appendString(dst, "seed")
		dst = appendInt(dst, 1)
	}
	dst = appendSeqSig(dst, it, a.Seq)
	if method == MethodFindNode || method == MethodGet || a.Target != (ID{}) {
		dst = appendString(dst, "target")
		dst = appendBytes(dst, a.Target[:])
	}
	if len(a.Token) > 0 {
		dst = appendString(dst, "token")
		dst = appendBytes(dst, a.Token)
	}
	if it.V != nil {
		dst = appendString(dst, "v")
		dst = append(dst, it.V...)
	}
	if len(a.Want) > 0 {
		dst = appendString(dst, "want")
		dst = append(dst, 'l')
		for _, w := range a.Want {
			dst = appendString(dst, w)
		}
		dst = append(dst, 'e')
	}
	return append(dst, 'e')
}

func (r *Reply) appendTo(dst []byte) []byte {
	dst = append(dst, 'd')
	if r.BFpe != nil {
		dst = appendString(dst, "BFpe")
		dst = appendBytes(dst, r.BFpe[:])
	}
	if r.BFsd != nil {
		dst = appendString(dst, "BFsd")
		dst = appendBytes(dst, r.BFsd[:])
	}
	dst = appendString(dst, "id")
	dst = appendBytes(dst, r.ID[:])
	it := &r.Item
	if it.Mutable {
		dst = appendString(dst, "k")
		dst = appendBytes(dst, it.Key[:])
	}
	if n := countFamily(r.Nodes, true); n > 0 {
		dst = appendString(dst, "nodes")
		dst = strconv.AppendInt(dst, int64(n*CompactNodeLen), 10)
		dst = append(dst, ':')
		dst = AppendCompactNodes(dst, r.Nodes)
	}
	if n := countFamily(r.Nodes6, false); n > 0 {
		dst = appendString(dst, "nodes6")
		dst = strconv.AppendInt(dst, int64(n*CompactNode6Len), 10)
		dst = append(dst, ':')
		dst = AppendCompactNodes6(dst, r.Nodes6)
	}
	dst = appendSeqSig(dst, it, r.Seq)
	if len(r.Token) > 0 {
		dst = appendString(dst, "token")
		dst = appendBytes(dst, r.Token)
	}
	if it.V != nil {
		dst = appendString(dst, "v")
		dst = append(dst, it.V...)
	}
	if len(r.Values) > 0 {
		dst = appendString(dst, "values")
		dst = append(dst, 'l')
		var buf [CompactPeer6Len]byte
		for _, v := range r.Values {
			dst = appendBytes(dst, AppendCompactPeer(buf[:0], v))
		}
		dst = append(dst, 'e')
	}
	return append(dst, 'e')
}

// appendSeqSig appends a mutable item's `seq` and `sig`, or else the
// lone `seq` of seq, if any.
func appendSeqSig(dst []byte, it *Item, seq *int64) []byte {
	switch {
	case it.Mutable:
		dst = appendString(dst, "seq")
		dst = appendInt(dst, it.Seq)
		dst = appendString(dst, "sig")
		dst = appendBytes(dst, it.Sig[:])
	case seq != nil:
		dst = appendString(dst, "seq")
		dst = appendInt(dst, *seq)
	}
	return dst
}

// countFamily counts the IPv4 nodes (v4) or the IPv6 ones (!v4).
func countFamily(nodes []NodeInfo, v4 bool) int {
	n := 0
	for _, c := range nodes {
		ip := c.Addr.Addr()
		if v4 && ip.Unmap().Is4() || !v4 && ip.Is6() && !ip.Is4In6() {
			n++
		}
	}
	return n
}

func appendString(dst []byte, s string) []byte {
	dst = strconv.AppendInt(dst, int64(len(s)), 10)
	dst = append(dst, ':')
	return append(dst, s...)
}

func appendBytes(dst, b []byte) []byte {
	dst = strconv.AppendInt(dst, int64(len(b)), 10)
	dst = append(dst, ':')
	return append(dst, b...)
}

func appendInt(dst []byte, i int64) []byte {
	dst = append(dst, 'i')
	dst = strconv.AppendInt(dst, i, 10)
	return append(dst, 'e')
}
