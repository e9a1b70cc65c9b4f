package storage

import (
	"context"
	"sync"

	"github.com/swarmdrop/swarmdrop/engine/bitfield"
)

// Verify checks which pieces are on disk and returns them. With trust,
// a piece that trust.Have marks is accepted unhashed when every file it
// lies in has the size and modification time recorded in trust.Files (and
// is at least as long as the torrent says); every other piece is read and
// hashed by workers goroutines. Pieces in missing or short files are just
// absent. progress, if not nil, is called from the calling goroutine with
// the number of pieces checked so far. Verify stops when ctx ends and
// returns its error.
func (t *Torrent) Verify(ctx context.Context, workers int, trust *Resume, progress func(done, total int)) (bitfield.Bitfield, error) {
	n := t.info.NumPieces()
	trusted := t.trustedPieces(trust) // read by the feeder below
	unwritten := t.unwrittenPieces()  // likewise: nothing to read there
	have := trusted.Clone()           // written by this goroutine only
	done := have.Count()
	for i := range n {
		if !trusted.Has(i) && unwritten.Has(i) {
			done++
		}
	}
	report := func() {
		if progress != nil {
			progress(done, n)
		}
	}
	report()
	if workers < 1 {
		workers = 1
	}
	type result struct {
		index int
		ok    bool
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan int)
	results := make(chan result)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				h, err := t.HashPiece(i)
				select {
				case results <- result{i, err == nil && h == t.info.PieceHash(i)}:
				case <-wctx.Done():
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(jobs)
		for i := range n {
			if trusted.Has(i) || unwritten.Has(i) {
				continue
			}
			select {
			case jobs <- i:
			case <-wctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()
	for r := range results {
		if r.ok {
			have.Set(r.index)
		}
		done++
		report()
	}
	if err := ctx.Err(); err != nil {
		return bitfield.Bitfield{}, err
	}
	return have, nil
}

// trustedPieces returns the pieces trust lets Verify accept unhashed.
func (t *Torrent) trustedPieces(trust *Resume) bitfield.Bitfield {
	n := t.info.NumPieces()
	have := bitfield.New(n)
	if trust == nil || trust.Have.Len() != n || len(trust.Files) != len(t.files) {
		return have
	}
	stamps := t.Stamps()
	same := make([]bool, len(t.files))
	for i, s := range stamps {
		// Pad files are zeros wherever they are: nothing to change.
		same[i] = t.files[i].virtual || s.Size >= t.files[i].length && s == trust.Files[i]
	}
	for p := range n {
		if !trust.Have.Has(p) {
			continue
		}
		ok := true
		for _, s := range t.spans(t.pieceRange(p)) {
			ok = ok && same[s.i]
		}
		if ok {
			have.Set(p)
		}
	}
	return have
}

// TrustedPartial returns the pieces trust records as verified-partial
// (written without the bytes of skipped files) that can still be taken
// as such: every file the piece was written to is wanted now as it was
// then, and unchanged (size and modification time as recorded, and at
// least as long as the torrent says). The bytes of files skipped now do
// not matter. Pieces Verify found whole should be removed by the caller.
func (t *Torrent) TrustedPartial(trust *Resume) bitfield.Bitfield {
	n := t.info.NumPieces()
	out := bitfield.New(n)
	if trust == nil || trust.Partial.Len() != n || trust.Partial.Count() == 0 || len(trust.Files) != len(t.files) {
		return out
	}
	if trust.Skip != nil && len(trust.Skip) != len(t.files) {
		return out
	}
	t.mu.Lock()
	skip := t.skip
	t.mu.Unlock()
	stamps := t.Stamps()
	for p := range n {
		if !trust.Partial.Has(p) {
			continue
		}
		ok := true
		for _, s := range t.spans(t.pieceRange(p)) {
			i := s.i
			switch {
			case t.files[i].virtual || (skip != nil && skip[i]):
			case trust.Skip != nil && trust.Skip[i]:
				ok = false // wanted now, its bytes were left out then
			case stamps[i].Size < t.files[i].length || stamps[i] != trust.Files[i]:
				ok = false
			}
		}
		if ok {
			out.Set(p)
		}
	}
	return out
}

// unwrittenPieces returns the pieces lying partly in a region that Open
// itself extended with zeros, which cannot be complete on disk yet.
func (t *Torrent) unwrittenPieces() bitfield.Bitfield {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.info.NumPieces()
	out := bitfield.New(n)
	for p := range n {
		for _, s := range t.spans(t.pieceRange(p)) {
			if s.fileOff >= t.files[s.i].dataEnd {
				out.Set(p)
				break
			}
		}
	}
	return out
}
