package maker

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// Options describe a torrent to make.
type Options struct {
	Paths []string
	Name  string // "" = chosen by Scan
	// PieceLength is a power of two from 16 KiB to 16 MiB; 0 chooses one
	// from the total size.
	PieceLength int64
	// Nodes become the `nodes` key (left out for private torrents).
	Nodes []metainfo.Node
	// Trackers, when present, make a tracked torrent: the first is
	// `announce`; with more than one, each is a tier of `announce-list`.
	Trackers     []string
	Private      bool
	Comment      string
	CreatedBy    string
	CreationDate time.Time // zero = left out
	// Progress, when set, is called from one goroutine at most ten times
	// a second and once at the end.
	Progress func(Progress)
	// Workers hash in parallel; 0 means one per CPU.
	Workers int
	// Unaligned makes the torrent mktorrent makes of the same files:
	// files back to back in byte-wise path order, without BEP 47 keys.
	// By default files are laid out as libtorrent lays them out (see
	// alignFiles): each starts on a piece boundary, after a pad file
	// when needed, so that a changed file leaves the others' pieces
	// unchanged; and executable files are marked (attr "x").
	Unaligned bool
}

// Progress tells how far hashing has come.
type Progress struct {
	Hashed, Total int64
}

// Result is a made torrent.
type Result struct {
	MetaInfo *metainfo.MetaInfo
	// Sources are the files on disk, one per MetaInfo.Info.Files entry,
	// for seeding in place. A pad file has no data and no file: its entry
	// repeats the source of the file it follows, so that every entry
	// lies where the torrent's files are (storage.OpenFiles ignores it).
	Sources []string
}

// Make scans opt.Paths and hashes them into a torrent. It stops promptly
// when ctx ends and writes nothing.
func Make(ctx context.Context, opt Options) (*Result, error) {
	plan, err := Scan(opt.Paths, opt.Name)
	if err != nil {
		return nil, err
	}
	return MakePlan(ctx, plan, opt)
}

// MakePlan hashes the files of a plan from Scan; opt.Paths and opt.Name
// are not used.
func MakePlan(ctx context.Context, plan *Plan, opt Options) (*Result, error) {
	pl := opt.PieceLength
	if pl == 0 {
		pl = plan.PieceLength
	}
	if err := ValidPieceLength(pl); err != nil {
		return nil, err
	}
	if plan.Total == 0 {
		return nil, errors.New("every file is empty: a torrent needs some content")
	}
	laid := *plan
	if !opt.Unaligned {
		laid.Files = alignFiles(plan.Files, pl)
	}
	info := metainfo.Info{Name: plan.Name, PieceLength: pl, MultiFile: plan.MultiFile, Private: opt.Private}
	for _, f := range laid.Files {
		info.Files = append(info.Files, metainfo.File{Path: f.Path, Length: f.Length, Offset: info.TotalLength,
			Pad: f.Pad, Executable: f.Executable && !opt.Unaligned})
		info.TotalLength += f.Length
	}
	laid.Total = info.TotalLength
	pieces, err := hashPieces(ctx, &laid, pl, opt)
	if err != nil {
		return nil, err
	}
	info.Pieces = pieces
	mi, err := metainfo.New(&info)
	if err != nil {
		return nil, err
	}
	if len(opt.Trackers) > 0 {
		mi.Announce = opt.Trackers[0]
		if len(opt.Trackers) > 1 {
			for _, t := range opt.Trackers {
				mi.AnnounceList = append(mi.AnnounceList, []string{t})
			}
		}
	}
	if !opt.Private {
		mi.Nodes = opt.Nodes
	}
	mi.Comment = opt.Comment
	mi.CreatedBy = opt.CreatedBy
	if !opt.CreationDate.IsZero() {
		mi.CreationDate = opt.CreationDate.Unix()
	}
	res := &Result{MetaInfo: mi}
	for _, f := range laid.Files {
		src := f.Source
		if f.Pad {
			src = res.Sources[len(res.Sources)-1] // alignFiles puts pads after files only
		}
		res.Sources = append(res.Sources, src)
	}
	return res, nil
}

// hashPieces hashes every piece: each worker takes the next piece and
// hashes it where it lies: straight from the page cache through a
// read-only mapping for big files (no copy), or read with pread into its
// own buffer for small ones; pad files are zeros.
func hashPieces(ctx context.Context, plan *Plan, pl int64, opt Options) ([]byte, error) {
	n := int((plan.Total + pl - 1) / pl)
	pieces := make([]byte, n*20)
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	workers = min(workers, n)
	maps, err := mapFiles(plan)
	if err != nil {
		return nil, err
	}
	defer maps.close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var hashed atomic.Int64 // bytes of files read, pad files left out
	var content int64
	for _, f := range plan.Files {
		if !f.Pad {
			content += f.Length
		}
	}
	var firstErr error
	var errOnce sync.Once
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel() })
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &pieceReader{plan: plan, maps: maps}
			defer r.close()
			// A mapped file cut short while we read it faults; that
			// becomes an error naming the file, not a crash.
			debug.SetPanicOnFault(true)
			defer func() {
				if recover() != nil {
					fail(fmt.Errorf("%s changed while hashing", plan.Files[r.cur].Source))
				}
			}()
			buf := make([]byte, pl)
			h := sha1.New()
			var sum [sha1.Size]byte
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				start := int64(i) * pl
				size := min(pl, plan.Total-start)
				h.Reset()
				read, err := r.hashRange(h, buf, start, size)
				if err != nil {
					fail(err)
					return
				}
				copy(pieces[i*20:], h.Sum(sum[:0]))
				hashed.Add(read)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	if opt.Progress != nil {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
	loop:
		for {
			select {
			case <-done:
				break loop
			case <-t.C:
				opt.Progress(Progress{Hashed: hashed.Load(), Total: content})
			}
		}
	}
	<-done
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if opt.Progress != nil {
		opt.Progress(Progress{Hashed: hashed.Load(), Total: content}) // all of it, as counted
	}
	return pieces, nil
}

// pieceReader feeds torrent-global byte ranges of the plan's files to a
// hash, from their mappings or by pread, keeping the last file it read
// open.
type pieceReader struct {
	plan   *Plan
	maps   fileMaps
	idx    int // the file f is, when f != nil
	cur    int // the file being read, for messages
	f      *os.File
	starts []int64
}

func (r *pieceReader) close() {
	if r.f != nil {
		r.f.Close()
	}
}

// hashRange writes bytes [off, off+size) of the torrent's data to h and
// returns how many of them it read from files (pad files are not read);
// buf holds what has to be read.
func (r *pieceReader) hashRange(h hash.Hash, buf []byte, off, size int64) (int64, error) {
	var read int64
	if r.starts == nil {
		var o int64
		for _, f := range r.plan.Files {
			r.starts = append(r.starts, o)
			o += f.Length
		}
	}
	// The first file holding off: a binary search over starts.
	lo, hi := 0, len(r.starts)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if r.starts[mid] <= off {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	for i := lo; size > 0 && i < len(r.plan.Files); i++ {
		pf := r.plan.Files[i]
		within := off - r.starts[i]
		if within >= pf.Length {
			continue
		}
		k := min(size, pf.Length-within)
		r.cur = i
		if pf.Pad {
			for z := k; z > 0; z -= int64(len(zeros)) {
				h.Write(zeros[:min(z, int64(len(zeros)))])
			}
		} else if m := r.maps[i]; m != nil {
			h.Write(m[within : within+k])
		} else {
			b := buf[:k]
			if err := r.open(i); err != nil {
				return read, err
			}
			if _, err := r.f.ReadAt(b, within); err != nil {
				if err == io.EOF {
					return read, fmt.Errorf("%s changed while hashing: it is shorter than %d bytes", pf.Source, pf.Length)
				}
				return read, fmt.Errorf("reading %s: %w", pf.Source, unwrapPath(err))
			}
			h.Write(b)
		}
		if !pf.Pad {
			read += k
		}
		size -= k
		off += k
	}
	return read, nil
}

func (r *pieceReader) open(i int) error {
	if r.f != nil && r.idx == i {
		return nil
	}
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
	f, err := os.Open(r.plan.Files[i].Source)
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", r.plan.Files[i].Source, unwrapPath(err))
	}
	r.f, r.idx = f, i
	return nil
}

// zeros is what pad files hold.
var zeros [32 << 10]byte
