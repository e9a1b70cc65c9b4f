// Package krpc encodes and decodes the messages of the Mainline DHT
// (BEP 5 KRPC over UDP), with the read-only flag of BEP 43, the `ip`
// field of BEP 42, BEP 32's `nodes6` and `want`, BEP 33's scrape
// (`seed`, `scrape`, `noseed`, and the BFsd and BFpe bloom filters), and
// BEP 44's `get` and `put` of items, with the items themselves (Item:
// targets, ed25519 signatures, checks) and BEP 46's value that points to
// a torrent. It is a pure codec: no I/O, no clocks, no goroutines.
//
// Decode validates what it returns: a message that lacks a field its kind
// or method requires, or whose binary fields have the wrong length, is an
// error (wrapping ErrMalformed). Optional metadata (`ip`, `ro`, `v`,
// `want`, `pad`, BEP 33's flags and filters) is ignored when malformed
// instead of rejecting the message.
package krpc

import (
	"errors"
	"fmt"
	"net/netip"
)

// ID is a 160-bit DHT node ID or info hash.
type ID [20]byte

// Kind is a message's `y` key: a query, a response or an error.
type Kind byte

// The three message kinds.
const (
	KindQuery    Kind = 'q'
	KindResponse Kind = 'r'
	KindError    Kind = 'e'
)

// Methods of BEP 5 (the `q` key of a query).
const (
	MethodPing         = "ping"
	MethodFindNode     = "find_node"
	MethodGetPeers     = "get_peers"
	MethodAnnouncePeer = "announce_peer"
	MethodGet          = "get" // BEP 44
	MethodPut          = "put" // BEP 44
)

// Error codes of BEP 5.
const (
	CodeGeneric       = 201
	CodeServer        = 202
	CodeProtocol      = 203 // malformed packet, invalid arguments or bad token
	CodeMethodUnknown = 204

	// BEP 44's codes for a refused put.
	CodeValueTooBig  = 205 // `v` longer than MaxValueLen
	CodeBadSignature = 206
	CodeSaltTooBig   = 207 // `salt` longer than MaxSaltLen
	CodeCASMismatch  = 301 // `cas` is not the stored item's seq: read again and retry
	CodeSeqTooLow    = 302 // `seq` is not above the stored item's
)

// Limits on the variable-length fields that a peer can make us store and
// echo back.
const (
	MaxTIDLen    = 32   // transaction ID (`t`)
	MaxTokenLen  = 64   // get_peers token
	MaxMethodLen = 64   // query method name (`q`)
	MaxVersion   = 32   // client version (`v`); longer is ignored
	MaxErrorText = 256  // error message; longer is truncated
	MaxPad       = 1024 // `pad` length; longer is ignored
	maxWant      = 8    // `want` entries; more is ignored
)

// ErrMalformed is wrapped by every error of Decode.
var ErrMalformed = errors.New("malformed KRPC message")

// Msg is one KRPC message. The zero value is not a valid message; set T
// and Y, then Q and A for a query, R for a response or E for an error.
// Slices in a decoded Msg do not alias the input buffer.
type Msg struct {
	T        []byte         // transaction ID, echoed in the response
	Y        Kind           // KindQuery, KindResponse or KindError
	Q        string         // method, for queries
	A        Args           // arguments, for queries
	R        Reply          // return values, for responses
	E        Error          // for errors
	IP       netip.AddrPort // BEP 42: the address the sender of a response saw the query come from; zero if absent
	ReadOnly bool           // BEP 43 `ro`: the querying node does not answer queries
	V        []byte         // client version, e.g. "LT\x01\x02"; nil if absent
}

// Args are the arguments of a query (`a`). Which fields are set depends on
// the method: Target for find_node, InfoHash for get_peers and
// announce_peer, Token and Port (or ImpliedPort) for announce_peer,
// Target and optionally Seq for get, Item, Token and optionally CAS for
// put.
type Args struct {
	ID          ID
	Target      ID
	InfoHash    ID
	Token       []byte
	Port        int  // announce_peer: the peer's TCP port
	ImpliedPort bool // announce_peer: use the UDP source port instead of Port
	Want        []string
	Seed        bool // announce_peer, BEP 33: the announcing peer is a seed
	Scrape      bool // get_peers, BEP 33: send the BFsd and BFpe filters
	NoSeed      bool // get_peers, BEP 33: prefer peers that are not seeds in values
	// Pad is the length of a filler string sent as `pad`: a querier pays
	// with it for a reply larger than twice its bare query, from a node
	// that holds replies to unverified sources to twice the query's size
	// (as QUIC's first packets are padded). Other nodes ignore the key.
	Pad int
	// Seq, in a get (BEP 44), asks for the item only if its sequence
	// number is above *Seq; nil: any.
	Seq *int64
	// Item is a put's item (BEP 44): V, and for a mutable item (`k`
	// present) Key, Seq, Sig and Salt. Decode checks its shape (V one
	// bencoded value, Key and Sig of their sizes, Seq not negative), not
	// its size limits or signature: a node answers those with BEP 44's
	// error codes (Item.Verify, ItemErrorCode).
	Item Item
	// CAS, in a put of a mutable item, is the sequence number the put
	// expects to replace (BEP 44 compare-and-swap); nil: none.
	CAS *int64
}

// Reply holds the return values of a response (`r`).
type Reply struct {
	ID     ID
	Nodes  []NodeInfo       // IPv4 contacts (`nodes`, 26 bytes each)
	Nodes6 []NodeInfo       // IPv6 contacts (`nodes6`, 38 bytes each)
	Values []netip.AddrPort // peers for get_peers (6 or 18 bytes each)
	Token  []byte           // get_peers: to be sent back with announce_peer
	// BFsd and BFpe are BEP 33's filters of the seeds and of the other
	// peers stored for the torrent, in answer to a scrape; nil if absent.
	BFsd, BFpe *Bloom
	// Item is what a get found (BEP 44); Item.V is nil if none. The salt
	// is not sent back: the asker, who knows it, sets Item.Salt before
	// checking the signature.
	Item Item
	// Seq, in a get's reply without an item, is the sequence number of
	// the item the node holds (sent alone when it is not above the
	// query's seq); nil if absent.
	Seq *int64
}

// Error is the body of an error message (`e`): a code and a text. It
// implements error, so a node can return a peer's error as is.
type Error struct {
	Code int
	Msg  string
}

func (e Error) Error() string { return fmt.Sprintf("KRPC error %d: %s", e.Code, e.Msg) }

// NodeInfo is a DHT contact: a node ID and its UDP address.
type NodeInfo struct {
	ID   ID
	Addr netip.AddrPort
}

// malformed returns an error wrapping ErrMalformed.
func malformed(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, a...))
}
