package dht

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
)

// ErrNotAnnounced is wrapped by the error of Lookup and GetPeers when the
// lookup itself worked (peers may have been found) but no node accepted
// our announce_peer: no node gave a token, or every one refused or did not
// answer. The caller should announce again soon (seconds, not minutes).
var ErrNotAnnounced = errors.New("the announce reached no DHT node")

// LookupOptions says what Lookup does besides finding peers.
type LookupOptions struct {
	// Port is the TCP port to announce us on to the closest nodes of each
	// family; 0 announces nothing; a negative port announces with
	// implied_port (the port our UDP packets come from, which a NAT may
	// have rewritten).
	Port int
	// Seed marks our announce as a seed's (BEP 33 `seed`): we have the
	// whole torrent.
	Seed bool
	// Scrape asks the lookup's nodes for BEP 33's filters, for
	// LookupResult.Scrape.
	Scrape bool
	// ScrapeClosest estimates the swarm's size too, but with separate
	// get_peers queries to the closest nodes once the lookup has found
	// them (at most K per family), so the lookup's own queries get peers:
	// libtorrent's nodes answer a get_peers that asks for filters with the
	// filters and no peers. It costs K queries per family more than
	// Scrape.
	ScrapeClosest bool
}

// LookupResult is what a lookup found and did.
type LookupResult struct {
	// Peers is how many distinct peers were handed to found, those from
	// our own peer store included.
	Peers      int
	IPv4, IPv6 FamilyResult
	// Scrape is the swarm's size estimated by BEP 33, with
	// LookupOptions.Scrape.
	Scrape ScrapeResult
}

// FamilyResult is the outcome of a lookup in one address family.
type FamilyResult struct {
	Looked    bool  // a lookup ran (the family is served and had a node or contact to start from)
	Answered  int   // nodes that answered it
	Announced int   // nodes that accepted our announce_peer
	Err       error // why it found no node or announced to none, if so
}

// Announced returns how many nodes of both families accepted our
// announce.
func (r LookupResult) Announced() int { return r.IPv4.Announced + r.IPv6.Announced }

// Lookup finds the peers of infoHash and, with opts.Port, announces us.
// It first hands found the peers announced to this node itself, then
// runs an iterative get_peers lookup in each family served (BEP 32: IPv4
// and IPv6 are two DHTs), in parallel, each ending when its K closest
// nodes have answered or ctx ends; found is called from the calling
// goroutine with the new peers of each reply, never the same peer twice
// in one call. Then it announces us to the K closest nodes of each family
// that gave a token, as a seed with opts.Seed; with opts.Scrape it also
// estimates the swarm's size (BEP 33) from the filters its nodes send.
//
// The error is ErrRouter for a routing-only node; otherwise, when no
// family's lookup completed, the error of one (wrapping ErrNoNodes when no
// node answered, ErrClosed once the node has stopped, or ctx's error);
// and when a lookup completed but the announce reached no node, one
// wrapping ErrNotAnnounced. The result is valid in every case.
func (n *Node) Lookup(ctx context.Context, infoHash [20]byte, opts LookupOptions, found func([]netip.AddrPort)) (LookupResult, error) {
	var res LookupResult
	if n.cfg.Router {
		return res, ErrRouter
	}
	seen := map[netip.AddrPort]bool{}
	deliver := func(peers []netip.AddrPort) {
		var fresh []netip.AddrPort
		for _, p := range peers {
			if !seen[p] {
				seen[p] = true
				fresh = append(fresh, p)
			}
		}
		res.Peers += len(fresh)
		if len(fresh) > 0 && found != nil {
			found(fresh)
		}
	}
	deliver(n.peers.All(infoHash, maxValues, time.Now()))
	ih := ID(infoHash)
	var lookupErr, announceErr error
	looked := 0
	var sc *scrapeSum
	if opts.Scrape || opts.ScrapeClosest {
		sc = &scrapeSum{}
		if seeds, peers, ok := n.peers.Filters(ih, time.Now()); ok { // ours count too
			sc.add(krpc.Reply{BFsd: seeds, BFpe: peers})
		}
	}
	lookupSc := sc
	if !opts.Scrape {
		lookupSc = nil
	}
	err := n.eachFamily(ctx, ih, krpc.MethodGetPeers, deliver, lookupSc, nil, func(f family, closest []*candidate, err error) {
		fr := FamilyResult{Looked: true, Answered: len(closest), Err: err}
		switch {
		case err != nil:
			lookupErr = fmt.Errorf("%v: %w", f, err)
		case opts.Port != 0:
			looked++
			if fr.Announced, fr.Err = n.announce(ctx, ih, opts.Port, opts.Seed, closest); fr.Err != nil {
				announceErr = fmt.Errorf("%v: %w", f, fr.Err)
			}
		default:
			looked++
		}
		if err == nil && opts.ScrapeClosest && !opts.Scrape { // after the announce: we count too
			n.scrapeClosest(ctx, ih, closest, sc)
		}
		if f == ipv4 {
			res.IPv4 = fr
		} else {
			res.IPv6 = fr
		}
	})
	if sc != nil {
		res.Scrape = sc.result()
	}
	switch {
	case err != nil:
		return res, fmt.Errorf("looking up peers of %x: %w", infoHash, err)
	case looked == 0:
		return res, fmt.Errorf("looking up peers of %x: %w", infoHash, lookupErr)
	case opts.Port != 0 && res.Announced() == 0:
		return res, fmt.Errorf("announcing %x: %w (%v)", infoHash, ErrNotAnnounced, announceErr)
	}
	return res, nil
}

// GetPeers is Lookup with only a port to announce: it finds the peers of
// infoHash (ours included), calls found with them from the calling
// goroutine, and if announcePort != 0 announces us (see
// LookupOptions.Port). Its errors are those of Lookup: errors.Is(err,
// ErrNotAnnounced) tells "the announce reached no node" (retry soon) from
// a lookup that failed.
func (n *Node) GetPeers(ctx context.Context, infoHash [20]byte, announcePort int, found func([]netip.AddrPort)) error {
	_, err := n.Lookup(ctx, infoHash, LookupOptions{Port: announcePort}, found)
	return err
}

// announce sends announce_peer to the nodes that gave a token and waits
// for their answers; it returns how many accepted it.
func (n *Node) announce(ctx context.Context, ih ID, port int, seed bool, nodes []*candidate) (int, error) {
	return n.sendWithTokens(ctx, nodes, "accepted", func(c *candidate) krpc.Msg {
		q := krpc.Msg{Q: krpc.MethodAnnouncePeer, A: krpc.Args{InfoHash: ih, Token: c.token, Port: port, Seed: seed}}
		if port < 0 {
			q.A.Port, q.A.ImpliedPort = 0, true
		}
		return q
	}, nil)
}

// sendWithTokens sends the query that query makes for each node of nodes
// that gave a token (announce_peer, BEP 44's put) and waits for their
// answers; it returns how many accepted it (answered with a response),
// and calls refused, unless nil, with the code of each error reply. When
// none accepted, the error says no node gave a token, or that no node
// did what (e.g. "stored") with the last failure; ctx's end returns what
// was accepted by then, or ctx's error if nothing was.
func (n *Node) sendWithTokens(ctx context.Context, nodes []*candidate, what string, query func(c *candidate) krpc.Msg, refused func(code int)) (int, error) {
	out := make(chan result, len(nodes))
	sent := 0
	for _, c := range nodes {
		if len(c.token) == 0 {
			continue
		}
		if _, err := n.send(c.Addr, c.ID, query(c), func(r result) { out <- r }); err == nil {
			sent++
		}
	}
	if sent == 0 {
		return 0, errors.New("no node gave a token")
	}
	ok := 0
	var lastErr error
	for range sent {
		select {
		case r := <-out:
			switch {
			case r.err != nil:
				lastErr = r.err
			case r.msg.Y == krpc.KindError:
				lastErr = r.msg.E
				if refused != nil {
					refused(r.msg.E.Code)
				}
			default:
				ok++
			}
		case <-ctx.Done():
			if ok > 0 {
				return ok, nil
			}
			return 0, ctx.Err()
		case <-n.done:
			return ok, ErrClosed
		}
	}
	if ok == 0 {
		return 0, fmt.Errorf("no node %s it: %w", what, lastErr)
	}
	return ok, nil
}
