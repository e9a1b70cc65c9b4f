package main

import (
	"context"
	"crypto/sha1"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/peerwire"
	"github.com/swarmdrop/swarmdrop/engine/storage"
	"github.com/swarmdrop/swarmdrop/engine/udpmux"
	"github.com/swarmdrop/swarmdrop/engine/utp"
)

// pipeline is how many block requests the fetcher keeps outstanding
// (libtorrent sizes its queue by rate; 256 blocks are 4 MiB).
const pipeline = 256

// fetchMain is the downloader run as a child process (`utp fetch ...`):
// Swarmdrop's uTP stack (engine/udpmux, engine/utp) under a minimal
// BitTorrent downloader (engine/peerwire, engine/storage), until the
// engine dials uTP itself. It downloads every piece from one peer,
// verifies each, writes it to disk and prints "DONE <seconds> s <bytes>
// bytes" (as ltpeer does), then the connection's statistics.
func fetchMain(args []string) int {
	fs := flag.NewFlagSet("fetch", flag.ExitOnError)
	torrent := fs.String("torrent", "", "the .torrent file")
	peer := fs.String("peer", "", "the seeder's ip:port (uTP)")
	dir := fs.String("dir", "", "download folder")
	bind := fs.String("bind", "127.0.0.1:0", "local UDP address")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long")
	profile := fs.String("cpuprofile", "", "write a CPU profile here (for tuning)")
	fs.Parse(args)
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "fetch: %v\n", err)
			return 1
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	n, st, err := fetch(*torrent, *peer, *dir, *bind, *timeout)
	if err != nil {
		fmt.Fprintf(os.Stderr, "fetch: %v\n", err)
		return 1
	}
	fmt.Printf("DONE %.3f s %d bytes\n", time.Since(start).Seconds(), n)
	fmt.Printf("STATS rtt %v window %d packet %d sent %d received %d retransmits %d timeouts %d out-of-order %d dropped %d\n",
		st.RTT, st.Window, st.PacketSize, st.PacketsSent, st.PacketsReceived, st.Retransmits, st.Timeouts, st.OutOfOrder, st.Dropped)
	return 0
}

// fetch does the download and returns the bytes fetched.
func fetch(torrentPath, peer, dir, bind string, timeout time.Duration) (int64, utp.ConnStats, error) {
	var none utp.ConnStats
	raw, err := os.ReadFile(torrentPath)
	if err != nil {
		return 0, none, err
	}
	mi, err := metainfo.Parse(raw)
	if err != nil {
		return 0, none, err
	}
	to, err := netip.ParseAddrPort(peer)
	if err != nil {
		return 0, none, err
	}
	store, err := storage.Open(dir, &mi.Info)
	if err != nil {
		return 0, none, err
	}
	defer store.Close()
	pc, err := net.ListenPacket("udp", bind)
	if err != nil {
		return 0, none, err
	}
	defer pc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	mux := udpmux.New(pc.(*net.UDPConn), udpmux.Config{})
	sock, err := utp.New(utp.Config{Transport: mux, NoIncoming: true})
	if err != nil {
		return 0, none, err
	}
	mux.SetUTP(sock)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Add(2)
	go func() { defer wg.Done(); mux.Serve(ctx) }()
	go func() { defer wg.Done(); sock.Serve(ctx) }()
	var c *utp.Conn
	for try := 0; ; try++ { // the socket starts serving in its goroutine
		c, err = sock.Dial(ctx, to)
		if !errors.Is(err, utp.ErrNotReady) || try == 100 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err != nil {
		return 0, none, err
	}
	defer c.Close()
	if d, ok := ctx.Deadline(); ok {
		c.SetDeadline(d)
	}
	n, err := download(c, mi, store)
	return n, c.Stats(), err
}

// download requests every block in order, keeping pipeline requests
// outstanding; complete pieces go to a writer goroutine that verifies and
// stores them.
func download(c *utp.Conn, mi *metainfo.MetaInfo, store *storage.Torrent) (int64, error) {
	info := &mi.Info
	out := peerwire.AppendHandshake(nil, peerwire.NewHandshake(mi.InfoHash, [20]byte{'-', 'S', 'D', 'B', 'E', 'N', 'C', 'H', '-'}))
	out = peerwire.AppendMessage(out, peerwire.Message{ID: peerwire.Interested})
	if _, err := c.Write(out); err != nil {
		return 0, err
	}
	hs, err := peerwire.ReadHandshake(c)
	if err != nil {
		return 0, err
	}
	if hs.InfoHash != mi.InfoHash {
		return 0, fmt.Errorf("the peer answered for %v", hs.InfoHash)
	}
	type piece struct {
		index int
		data  []byte
	}
	done := make(chan piece, 8)
	werr := make(chan error, 1)
	free := make(chan []byte, 16)
	go func() {
		var err error
		for p := range done {
			if err == nil {
				if sha1.Sum(p.data) != info.PieceHash(p.index) {
					err = fmt.Errorf("piece %d fails its hash", p.index)
				} else {
					err = store.WritePiece(p.index, p.data, nil)
				}
			}
			select {
			case free <- p.data[:cap(p.data)]:
			default:
			}
		}
		werr <- err
	}()
	defer func() {
		if done != nil {
			close(done)
			<-werr
		}
	}()
	r := peerwire.NewReader(c, info.NumPieces())
	np := info.NumPieces()
	bufs := make([][]byte, np)
	left := make([]int64, np)
	nextPiece, nextBegin, pending, complete := 0, int64(0), 0, 0
	unchoked := false
	var total int64
	var req []byte
	for complete < np {
		req = req[:0]
		for unchoked && pending < pipeline && nextPiece < np {
			size := info.PieceSize(nextPiece)
			length := min(int64(peerwire.BlockSize), size-nextBegin)
			req = peerwire.AppendMessage(req, peerwire.Message{ID: peerwire.Request, Index: uint32(nextPiece), Begin: uint32(nextBegin), Length: uint32(length)})
			pending++
			if nextBegin += length; nextBegin == size {
				nextPiece, nextBegin = nextPiece+1, 0
			}
		}
		if len(req) > 0 {
			if _, err := c.Write(req); err != nil {
				return total, err
			}
		}
		m, err := r.ReadMessage()
		if err != nil {
			return total, fmt.Errorf("after %d of %d pieces: %w", complete, np, err)
		}
		switch {
		case m.Keepalive:
		case m.ID == peerwire.Unchoke:
			unchoked = true
		case m.ID == peerwire.Choke:
			return total, errors.New("choked")
		case m.ID == peerwire.Reject:
			return total, fmt.Errorf("request %d/%d rejected", m.Index, m.Begin)
		case m.ID == peerwire.Piece:
			i := int(m.Index)
			size := info.PieceSize(i)
			if i >= np || int64(m.Begin)+int64(len(m.Block)) > size {
				return total, fmt.Errorf("block %d/%d out of range", m.Index, m.Begin)
			}
			if bufs[i] == nil {
				select {
				case bufs[i] = <-free:
				default:
					bufs[i] = make([]byte, info.PieceLength)
				}
				bufs[i] = bufs[i][:size]
				left[i] = size
			}
			copy(bufs[i][m.Begin:], m.Block)
			left[i] -= int64(len(m.Block))
			total += int64(len(m.Block))
			pending--
			if left[i] == 0 {
				done <- piece{i, bufs[i]}
				bufs[i] = nil
				complete++
			}
		}
	}
	close(done)
	done = nil
	return total, <-werr
}
