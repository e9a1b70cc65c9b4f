package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/swarmdrop/swarmdrop/scripts/bench/internal/benchkit"
)

// uploadLogEnv makes a Swarmdrop process print its debugging lines on
// standard error, among them one per block uploaded ("uploaded piece P
// block B to ADDR"); the seeder's standard error is joined to its
// standard output (see startCounting).
const uploadLogEnv = "SWARMDROP_DEBUG=1"

// upload is one block a seeder sent: its piece and when the line was
// read.
type upload struct {
	piece int
	at    time.Time
}

// uploadOrder is the blocks a seeder uploaded, in order, read from its
// lines: ltpeer's "UPLOAD P B" (printed every 0.2 s), Swarmdrop's
// "uploaded piece P block B".
func uploadOrder(p *benchkit.Proc) []upload {
	var order []upload
	for _, l := range p.Lines() {
		var piece, blk int
		switch {
		case strings.HasPrefix(l.Text, "UPLOAD "):
			if _, err := fmt.Sscanf(l.Text, "UPLOAD %d %d", &piece, &blk); err != nil {
				continue
			}
		case strings.Contains(l.Text, "uploaded piece "):
			t := l.Text[strings.Index(l.Text, "uploaded piece "):]
			if _, err := fmt.Sscanf(t, "uploaded piece %d block %d", &piece, &blk); err != nil {
				continue
			}
		default:
			continue
		}
		order = append(order, upload{piece, l.At})
	}
	return order
}

// spread is how evenly a seeder gave out the pieces, from the order of
// its uploaded blocks. A piece's copies are its blocks uploaded divided
// by its blocks.
type spread struct {
	measured bool
	// CoverageAtFive is the share of pieces uploaded at least once when
	// the first piece reached five copies (1 when none did: see Max).
	coverageAtFive float64
	reachedFive    bool
	// MaxAtFull is the most copies of one piece when every piece had
	// been uploaded once; fullReached says whether that happened.
	maxAtFull   float64
	fullReached bool
	// Copies is all blocks uploaded divided by the content's blocks.
	copies float64
	// fullAt is the seconds from launch until every piece had been
	// uploaded once (NaN if never).
	fullAt float64
}

// measureSpread computes a spread for content ct from the order of
// uploaded blocks, with times from launch.
func measureSpread(ct content, order []upload, launch time.Time) spread {
	blocks := make([]int, ct.pieces)
	total := 0
	for i := range blocks {
		size := ct.piece
		if i == ct.pieces-1 {
			size = ct.size - int64(i)*ct.piece
		}
		blocks[i] = int((size + blockSize - 1) / blockSize)
		total += blocks[i]
	}
	s := spread{measured: len(order) > 0, fullAt: nan}
	count := make([]int, ct.pieces)
	covered := 0
	for _, u := range order {
		p := u.piece
		if p < 0 || p >= ct.pieces {
			continue
		}
		count[p]++
		if count[p] == blocks[p] {
			covered++
			if covered == ct.pieces && !s.fullReached {
				s.fullReached = true
				s.fullAt = u.at.Sub(launch).Seconds()
				for i, c := range count {
					s.maxAtFull = max(s.maxAtFull, float64(c)/float64(blocks[i]))
				}
			}
		}
		if count[p] == 5*blocks[p] && !s.reachedFive {
			s.reachedFive = true
			s.coverageAtFive = float64(covered) / float64(ct.pieces)
		}
	}
	if !s.reachedFive {
		s.coverageAtFive = float64(covered) / float64(ct.pieces)
	}
	s.copies = float64(len(order)) / float64(total)
	return s
}

// blockSize is the request size both clients use.
const blockSize = 16 << 10
