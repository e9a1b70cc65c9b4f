package main

import (
	"fmt"

	"github.com/swarmdrop/swarmdrop/scripts/bench/internal/benchkit"
)

// medians are one client's median figures, in seconds.
type medians struct{ peer, peerAfter, piece, pieceAfter, write float64 }

// summarize takes the medians of one client's runs and lists them.
func summarize(rs []lookup) (medians, string) {
	var peer, peerAfter, piece, pieceAfter, write []float64
	for _, r := range rs {
		write = append(write, r.firstWrite)
		peer = append(peer, r.firstPeer)
		peerAfter = append(peerAfter, r.peerAfter)
		piece = append(piece, r.firstPiece)
		pieceAfter = append(pieceAfter, r.pieceAfter)
	}
	m := medians{benchkit.Median(peer), benchkit.Median(peerAfter), benchkit.Median(piece), benchkit.Median(pieceAfter), benchkit.Median(write)}
	return m, benchkit.List("%.3f", peer) + " / " + benchkit.List("%.3f", piece)
}

// report prints each client's medians and the ratios libtorrent/ours.
func report(runs int, clients []client, results [][]lookup) {
	m := make([]medians, len(clients))
	fmt.Printf("\nDHT lookup through %d libtorrent nodes on loopback, empty state, only the torrent's nodes; %d runs each, interleaved; medians\n", nodeCount, runs)
	fmt.Printf("  %-10s %11s %12s %12s %12s %12s   %s\n", "client", "first peer", "(after)", "first piece", "(after)", "first write", "all runs (first peer / first piece)")
	for i, c := range clients {
		var all string
		m[i], all = summarize(results[i])
		fmt.Printf("  %-10s %9.3f s %10.3f s %10.3f s %10.3f s %10.3f s   %s\n", c.name, m[i].peer, m[i].peerAfter, m[i].piece, m[i].pieceAfter, m[i].write, all)
	}
	fmt.Println("times: seconds from process start to the line that shows it (Python start-up included for libtorrent)")
	fmt.Println("swarmdrop's --json prints progress at most once a second, so its milestone lies between")
	fmt.Println("\"(after)\", its previous line, and the time shown; libtorrent's ltpeer reports within 10 ms")
	fmt.Println("first write: first data block in the downloaded file, polled every 5 ms (swarmdrop writes verified")
	fmt.Println("pieces only, libtorrent writes blocks as they come, before its piece is verified)")
	fmt.Println()
	fmt.Printf("speed ratio libtorrent/swarmdrop: first peer %s, first piece %s (goal > 1)\n",
		benchkit.Ratio(m[1].peer, m[0].peer), benchkit.Ratio(m[1].piece, m[0].piece))
	fmt.Printf("  at best (swarmdrop's lower bounds): first peer %s, first piece %s; first write %s\n",
		benchkit.Ratio(m[1].peer, m[0].peerAfter), benchkit.Ratio(m[1].piece, m[0].pieceAfter), benchkit.Ratio(m[1].write, m[0].write))
	verdict := "met"
	if m[0].peer >= 1 {
		verdict = "NOT met"
	}
	fmt.Printf("swarmdrop first peer %.3f s (goal < 1 s: %s)\n", m[0].peer, verdict)
}
