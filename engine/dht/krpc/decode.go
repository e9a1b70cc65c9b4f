package krpc

import (
	"math/big"

	"github.com/anacrolix/torrent/bencode"
)

// wireMsg is the bencoded shape of a message, before validation.
type wireMsg struct {
	T []byte     `bencode:"t"`
	Y []byte     `bencode:"y"`
	Q []byte     `bencode:"q"`
	A *wireArgs  `bencode:"a"`
	R *wireReply `bencode:"r"`
	// Optional and loosely typed fields are kept raw and parsed apart.
	E  bencode.Bytes `bencode:"e"`
	IP bencode.Bytes `bencode:"ip"`
	RO bencode.Bytes `bencode:"ro"`
	V  bencode.Bytes `bencode:"v"`
}

type wireArgs struct {
	ID          []byte        `bencode:"id"`
	Target      []byte        `bencode:"target"`
	InfoHash    []byte        `bencode:"info_hash"`
	Token       []byte        `bencode:"token"`
	Port        *int64        `bencode:"port"`
	ImpliedPort int64         `bencode:"implied_port"`
	Want        bencode.Bytes `bencode:"want"`
	Pad         bencode.Bytes `bencode:"pad"`
	Seed        bencode.Bytes `bencode:"seed"`
	Scrape      bencode.Bytes `bencode:"scrape"`
	NoSeed      bencode.Bytes `bencode:"noseed"`
	// BEP 44, kept raw and parsed for get and put only.
	V    bencode.Bytes `bencode:"v"`
	K    bencode.Bytes `bencode:"k"`
	Sig  bencode.Bytes `bencode:"sig"`
	Seq  bencode.Bytes `bencode:"seq"`
	Salt bencode.Bytes `bencode:"salt"`
	CAS  bencode.Bytes `bencode:"cas"`
}

type wireReply struct {
	ID     []byte        `bencode:"id"`
	Nodes  []byte        `bencode:"nodes"`
	Nodes6 []byte        `bencode:"nodes6"`
	Values [][]byte      `bencode:"values"`
	Token  []byte        `bencode:"token"`
	BFsd   bencode.Bytes `bencode:"BFsd"`
	BFpe   bencode.Bytes `bencode:"BFpe"`
	// BEP 44 (a get's reply).
	V   bencode.Bytes `bencode:"v"`
	K   bencode.Bytes `bencode:"k"`
	Sig bencode.Bytes `bencode:"sig"`
	Seq bencode.Bytes `bencode:"seq"`
}

// Decode parses one KRPC message. Any input is safe: a malformed message
// gives an error wrapping ErrMalformed, never a panic. When the input was
// a well-formed bencoded dictionary with a usable `t` and `y`, the
// returned Msg carries T and Y even alongside an error, so that a node can
// answer a bad query with error 203.
func Decode(b []byte) (Msg, error) {
	var w wireMsg
	if err := bencode.Unmarshal(b, &w); err != nil {
		return Msg{}, malformed("%v", err)
	}
	var m Msg
	if w.T == nil {
		return m, malformed("no transaction ID")
	}
	if len(w.T) > MaxTIDLen {
		return m, malformed("transaction ID of %d bytes", len(w.T))
	}
	m.T = w.T
	if len(w.Y) != 1 {
		return m, malformed("message type %q", w.Y)
	}
	m.Y = Kind(w.Y[0])
	var ip, v []byte
	var ro int64
	if optional(w.IP, &ip) && (len(ip) == CompactPeerLen || len(ip) == CompactPeer6Len) {
		m.IP, _ = ParseCompactPeer(ip)
	}
	m.ReadOnly = optional(w.RO, &ro) && ro != 0
	if optional(w.V, &v) && len(v) > 0 && len(v) <= MaxVersion {
		m.V = v
	}
	var err error
	switch m.Y {
	case KindQuery:
		err = m.decodeQuery(&w)
	case KindResponse:
		err = m.decodeReply(w.R)
	case KindError:
		err = m.decodeError(w.E)
	default:
		err = malformed("message type %q", w.Y)
	}
	return m, err
}

func (m *Msg) decodeQuery(w *wireMsg) error {
	if len(w.Q) == 0 || len(w.Q) > MaxMethodLen {
		return malformed("query method of %d bytes", len(w.Q))
	}
	if w.A == nil {
		return malformed("query without arguments")
	}
	a := w.A
	if err := copyID(&m.A.ID, a.ID, "id"); err != nil {
		return err
	}
	// The method is set only once the arguments it needs are known to be
	// valid, so that a caller can tell a bad query (Q == "") from a valid
	// one of an unknown method.
	method := string(w.Q)
	if a.Target != nil || method == MethodFindNode || method == MethodGet {
		if err := copyID(&m.A.Target, a.Target, "target"); err != nil {
			return err
		}
	}
	if a.InfoHash != nil || method == MethodGetPeers || method == MethodAnnouncePeer {
		if err := copyID(&m.A.InfoHash, a.InfoHash, "info_hash"); err != nil {
			return err
		}
	}
	if len(a.Token) > MaxTokenLen {
		return malformed("token of %d bytes", len(a.Token))
	}
	if len(a.Token) > 0 {
		m.A.Token = a.Token
	}
	m.A.ImpliedPort = a.ImpliedPort != 0
	if a.Port != nil {
		if *a.Port < 0 || *a.Port > 65535 {
			return malformed("port %d", *a.Port)
		}
		m.A.Port = int(*a.Port)
	}
	if method == MethodAnnouncePeer {
		if len(m.A.Token) == 0 {
			return malformed("announce_peer without a token")
		}
		if !m.A.ImpliedPort && m.A.Port == 0 {
			return malformed("announce_peer without a port")
		}
	}
	switch method {
	case MethodGet:
		var seq int64
		if optional(a.Seq, &seq) {
			m.A.Seq = &seq
		}
	case MethodPut:
		if err := m.decodePut(a); err != nil {
			return err
		}
	}
	var pad []byte
	if optional(a.Pad, &pad) && len(pad) <= MaxPad {
		m.A.Pad = len(pad)
	}
	m.A.Seed, m.A.Scrape, m.A.NoSeed = flag(a.Seed), flag(a.Scrape), flag(a.NoSeed)
	var want []string
	if optional(a.Want, &want) && len(want) > 0 && len(want) <= maxWant {
		for _, s := range want {
			if len(s) > 8 {
				want = nil
				break
			}
		}
		m.A.Want = want
	}
	m.Q = method
	return nil
}

// decodePut reads a put's item (BEP 44) and cas.
func (m *Msg) decodePut(a *wireArgs) error {
	if len(m.A.Token) == 0 {
		return malformed("put without a token")
	}
	if a.V == nil {
		return malformed("put without a value")
	}
	it, err := decodeItem(a.V, a.K, a.Sig, a.Seq)
	if err != nil {
		return err
	}
	if it.Mutable {
		var salt []byte
		if a.Salt != nil && bencode.Unmarshal(a.Salt, &salt) != nil {
			return malformed("put salt is not a string")
		}
		if len(salt) > 0 {
			it.Salt = salt
		}
		if it.Seq < 0 {
			return malformed("put with sequence number %d", it.Seq)
		}
		var cas int64
		if a.CAS != nil {
			if bencode.Unmarshal(a.CAS, &cas) != nil {
				return malformed("put cas is not an integer")
			}
			m.A.CAS = &cas
		}
	}
	m.A.Item = it
	return nil
}

// decodeItem reads an item's fields: v (one bencoded value, kept
// verbatim), and when k is present, a mutable item's k, sig and seq.
func decodeItem(v, k, sig, seq bencode.Bytes) (Item, error) {
	if err := CheckValue(v); err != nil {
		return Item{}, malformed("item value: %v", err)
	}
	it := Item{V: []byte(v)}
	if k == nil {
		return it, nil
	}
	var key, s []byte
	if bencode.Unmarshal(k, &key) != nil || len(key) != KeyLen {
		return Item{}, malformed("item key is not a %d-byte string", KeyLen)
	}
	if sig == nil || bencode.Unmarshal(sig, &s) != nil || len(s) != SigLen {
		return Item{}, malformed("item signature is not a %d-byte string", SigLen)
	}
	if seq == nil || bencode.Unmarshal(seq, &it.Seq) != nil {
		return Item{}, malformed("item without an integer sequence number")
	}
	it.Mutable = true
	copy(it.Key[:], key)
	copy(it.Sig[:], s)
	return it, nil
}

func (m *Msg) decodeReply(r *wireReply) error {
	if r == nil {
		return malformed("response without return values")
	}
	if err := copyID(&m.R.ID, r.ID, "id"); err != nil {
		return err
	}
	var err error
	if m.R.Nodes, err = ParseCompactNodes(r.Nodes); err != nil {
		return err
	}
	if m.R.Nodes6, err = ParseCompactNodes6(r.Nodes6); err != nil {
		return err
	}
	for _, v := range r.Values {
		p, err := ParseCompactPeer(v)
		if err != nil {
			return err
		}
		m.R.Values = append(m.R.Values, p)
	}
	if len(r.Token) > MaxTokenLen {
		return malformed("token of %d bytes", len(r.Token))
	}
	if len(r.Token) > 0 {
		m.R.Token = r.Token
	}
	m.R.BFsd, m.R.BFpe = bloom(r.BFsd), bloom(r.BFpe)
	if r.V != nil {
		it, err := decodeItem(r.V, r.K, r.Sig, r.Seq)
		if err != nil {
			return err
		}
		m.R.Item = it
	}
	var seq int64
	if !m.R.Item.Mutable && optional(r.Seq, &seq) {
		m.R.Seq = &seq
	}
	return nil
}

// flag decodes an optional integer flag: true if present and not 0.
func flag(raw bencode.Bytes) bool {
	var x int64
	return optional(raw, &x) && x != 0
}

// bloom decodes an optional BEP 33 filter: nil unless a 256-byte string.
func bloom(raw bencode.Bytes) *Bloom {
	var b []byte
	if !optional(raw, &b) || len(b) != BloomLen {
		return nil
	}
	return (*Bloom)(b)
}

func (m *Msg) decodeError(raw bencode.Bytes) error {
	var x any
	if raw == nil {
		return malformed("error message without an error")
	}
	if err := bencode.Unmarshal(raw, &x); err != nil {
		return malformed("error list: %v", err)
	}
	e, _ := x.([]any)
	if len(e) == 0 {
		return malformed("error without a code")
	}
	switch c := e[0].(type) {
	case int64:
		if c < -1<<31 || c > 1<<31-1 {
			return malformed("error code %d", c)
		}
		m.E.Code = int(c)
	case *big.Int:
		return malformed("error code %v", c)
	default:
		return malformed("error code of type %T", e[0])
	}
	if len(e) > 1 {
		s, ok := e[1].(string)
		if !ok {
			return malformed("error message of type %T", e[1])
		}
		if len(s) > MaxErrorText {
			s = s[:MaxErrorText]
		}
		m.E.Msg = s
	}
	return nil
}

// copyID copies a 20-byte field into dst.
func copyID(dst *ID, b []byte, field string) error {
	if len(b) != len(dst) {
		return malformed("%s of %d bytes", field, len(b))
	}
	copy(dst[:], b)
	return nil
}

// optional decodes the raw value of an optional field into v and reports
// whether it was present and of the right type.
func optional(raw bencode.Bytes, v any) bool {
	return raw != nil && bencode.Unmarshal(raw, v) == nil
}
