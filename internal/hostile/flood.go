package hostile

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/peerwire"
)

// Round is what one flooding connection saw.
type Round struct {
	// Written is how many bytes of the flood were written.
	Written int
	// Read is how many bytes the flooder read after preparing.
	Read int64
	// Dropped reports that the target closed the connection.
	Dropped bool
	// Held is the time from the start of the flood's write to the
	// close, or to giving up.
	Held time.Duration
	// Err says why the round could not flood (connecting, handshake, no
	// unchoke); nil when it flooded.
	Err error
}

// Flood is an attack of rounds: each connects, prepares, writes a flood
// in one go, then keeps the connection (reading at ReadRate, or not at
// all) until the target closes it or Hold passes. Rounds come from
// Sources in turn, one after the other, until MaxRounds or the context's
// end. A Flood is used by one goroutine.
type Flood struct {
	// Peer is the target; its Local is replaced by Sources.
	Peer Peer
	// Sources are the source addresses, one per round in turn; empty
	// means Peer.Local for every round.
	Sources []string
	// Prepare runs after the handshake, with a Reader over the
	// connection, and returns the flood to write.
	Prepare func(c net.Conn, r *peerwire.Reader) ([]byte, error)
	// ReadRate is how fast the flooder reads once the flood is written,
	// in bytes per second; 0 never reads.
	ReadRate int
	// Hold bounds how long a round waits for the target to hang up
	// (default 20 s).
	Hold time.Duration
	// MaxRounds bounds the rounds (default 100).
	MaxRounds int
	// Pause is the wait between rounds (default 100 ms).
	Pause time.Duration
}

// MetadataFlood returns a Flood of requests ut_metadata requests per
// connection, read at readRate bytes/s (0: never read).
func MetadataFlood(p Peer, requests, readRate int) *Flood {
	var flood []byte
	var id uint8
	var size int
	return &Flood{Peer: p, ReadRate: readRate, Prepare: func(c net.Conn, r *peerwire.Reader) ([]byte, error) {
		i, s, err := UTMetadataID(c, r, 10*time.Second)
		if err != nil {
			return nil, err
		}
		if flood == nil || i != id || s != size { // built once per target
			flood, id, size = MetadataRequests(requests, MetadataPieces(s), i), i, s
		}
		return flood, nil
	}}
}

// RequestFlood returns a Flood of requests block requests per connection
// for a torrent of numPieces pieces of pieceLength bytes. With unchoked,
// each round first declares interest and waits to be unchoked, then never
// reads; otherwise it floods at once, choked (with the fast extension,
// each request earns a reject; without, Peer.NoFast, nothing).
func RequestFlood(p Peer, requests, numPieces int, pieceLength int64, unchoked bool) *Flood {
	flood := BlockRequests(requests, numPieces, pieceLength)
	return &Flood{Peer: p, Prepare: func(c net.Conn, r *peerwire.Reader) ([]byte, error) {
		if unchoked {
			if err := AwaitUnchoke(c, r, 15*time.Second); err != nil {
				return nil, err
			}
		}
		return flood, nil
	}}
}

// Run runs the rounds and returns what each saw.
func (f *Flood) Run(ctx context.Context) []Round {
	hold := f.Hold
	if hold <= 0 {
		hold = 20 * time.Second
	}
	maxRounds := f.MaxRounds
	if maxRounds <= 0 {
		maxRounds = 100
	}
	pause := f.Pause
	if pause <= 0 {
		pause = 100 * time.Millisecond
	}
	var rounds []Round
	for i := 0; i < maxRounds && ctx.Err() == nil; i++ {
		p := f.Peer
		if len(f.Sources) > 0 {
			p.Local = f.Sources[i%len(f.Sources)]
		}
		rounds = append(rounds, f.round(ctx, p, hold))
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
	}
	return rounds
}

// round is one connection of the flood.
func (f *Flood) round(ctx context.Context, p Peer, hold time.Duration) Round {
	c, err := p.Connect(ctx)
	if err != nil {
		return Round{Err: err}
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	flood, err := f.Prepare(c, peerwire.NewReader(c, 0))
	if err != nil {
		return Round{Err: err}
	}
	var rd Round
	var wg sync.WaitGroup
	closed := make(chan struct{}) // closed when reading finds the connection closed
	if f.ReadRate > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			rd.Read, err = ReadSlowly(c, f.ReadRate)
			if !isTimeout(err) {
				close(closed)
			}
		}()
	}
	start := time.Now()
	deadline := start.Add(hold)
	c.SetWriteDeadline(deadline)
	n, werr := c.Write(flood)
	rd.Written = n
	// Keep-alives find out when the target has hung up: the first write
	// after its close draws a reset, the next one fails.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for werr == nil && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			werr = ctx.Err()
		case <-closed:
			rd.Dropped = ctx.Err() == nil // not our own close at ctx's end
			if !rd.Dropped {
				werr = ctx.Err()
			}
		case <-tick.C:
			c.SetWriteDeadline(time.Now().Add(time.Second))
			_, werr = c.Write([]byte{0, 0, 0, 0})
		}
		if rd.Dropped {
			break
		}
	}
	if werr != nil && !isTimeout(werr) && ctx.Err() == nil {
		rd.Dropped = true
	}
	rd.Held = time.Since(start)
	c.Close()
	wg.Wait()
	return rd
}

// isTimeout reports whether err is a deadline that passed (the target
// stopped reading rather than hung up).
func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
