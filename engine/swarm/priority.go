package swarm

import (
	"sort"

	"github.com/swarmdrop/swarmdrop/engine/bitfield"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// Priority is how much the user wants a file, and so its pieces. The zero
// value is Normal.
type Priority int8

// File and piece priorities.
const (
	Skip   Priority = -1 // not downloaded; its bytes are not kept
	Normal Priority = 0
	High   Priority = 1 // its pieces are picked before Normal ones
)

// pieceLayout is what the picker and the writer need to know of the file
// priorities, per piece. It is computed by layoutOf (pure) and replaced
// whole when the priorities change: never modified in place.
type pieceLayout struct {
	// files holds the priority of each file of the torrent (pad files
	// and empty files included, their value unused); nil: all Normal.
	files []Priority
	// prio is each piece's priority: the highest of the files with bytes
	// in it. nil: all Normal.
	prio []Priority
	// skipBytes marks the pieces holding bytes of a skipped file: they
	// are written without those bytes (verified whole in memory first)
	// and then count as partial, not as pieces we have.
	skipBytes bitfield.Bitfield
	// skip marks the skipped files, for the storage; nil when none is.
	skip []bool
	// gen counts the layouts a swarm has had, so that a piece written
	// under an older one can tell.
	gen int
}

// layoutOf computes the piece layout of files (one priority per file of
// info, in torrent order; nil, or a list of another length, means all
// Normal). Pad files (BEP 47) and empty files hold no bytes of their own,
// so their priority is ignored. A piece made of nothing but pad files is
// Normal when no file is skipped (a complete torrent has it) and Skip
// otherwise (it serves no wanted file).
func layoutOf(info *metainfo.Info, files []Priority) pieceLayout {
	n := info.NumPieces()
	lay := pieceLayout{skipBytes: bitfield.New(n)}
	if len(files) != len(info.Files) {
		return lay
	}
	files = append([]Priority(nil), files...)
	for i, pr := range files {
		files[i] = max(min(pr, High), Skip)
	}
	anySkip, anyOther := false, false
	for i, f := range info.Files {
		if !holdsBytes(f) {
			continue
		}
		switch files[i] {
		case Skip:
			anySkip = true
		case Normal:
		default:
			anyOther = true
		}
	}
	lay.files = files
	if !anySkip && !anyOther {
		return lay
	}
	const none = Priority(-128) // below every priority: no file seen yet
	lay.prio = make([]Priority, n)
	for p := range lay.prio {
		lay.prio[p] = none
	}
	if anySkip {
		lay.skip = make([]bool, len(files))
	}
	pl := info.PieceLength
	for i, f := range info.Files {
		if !holdsBytes(f) {
			continue
		}
		pr := files[i]
		if pr == Skip {
			lay.skip[i] = true
		}
		first, last := int(f.Offset/pl), int((f.Offset+f.Length-1)/pl)
		for p := first; p <= last; p++ {
			lay.prio[p] = max(lay.prio[p], pr)
			if pr == Skip {
				lay.skipBytes.Set(p)
			}
		}
	}
	padOnly := Normal
	if anySkip {
		padOnly = Skip
	}
	for p, pr := range lay.prio {
		if pr == none {
			lay.prio[p] = padOnly
		}
	}
	return lay
}

// holdsBytes reports whether f has bytes of its own on disk: not a pad
// file, a link or an empty file.
func holdsBytes(f metainfo.File) bool { return f.Length > 0 && !f.Pad && f.OnDisk() }

// unskippedPieces returns the pieces holding bytes of a file skipped in
// old and wanted in new: a partial piece among them lacks those bytes on
// disk and must be fetched again.
func unskippedPieces(info *metainfo.Info, old, new pieceLayout) []int {
	if old.skip == nil {
		return nil
	}
	var out []int
	pl := info.PieceLength
	for i, f := range info.Files {
		if !old.skip[i] || (new.skip != nil && new.skip[i]) || !holdsBytes(f) {
			continue
		}
		first, last := int(f.Offset/pl), int((f.Offset+f.Length-1)/pl)
		for p := first; p <= last; p++ {
			out = append(out, p)
		}
	}
	return out
}

// lostBytes reports whether piece p, written under the layout old
// without the bytes of old's skipped files, lacks bytes of a file that
// is wanted under new.
func lostBytes(info *metainfo.Info, p int, old, new pieceLayout) bool {
	if old.skip == nil {
		return false
	}
	off, end := int64(p)*info.PieceLength, int64(p)*info.PieceLength+info.PieceSize(p)
	k := sort.Search(len(info.Files), func(k int) bool { return info.Files[k].Offset+info.Files[k].Length > off })
	for ; k < len(info.Files) && info.Files[k].Offset < end; k++ {
		if old.skip[k] && (new.skip == nil || !new.skip[k]) && holdsBytes(info.Files[k]) {
			return true
		}
	}
	return false
}

// Done reports whether every piece of info that files (as for
// SetFilePriorities) want is in have or partial.
func Done(info *metainfo.Info, files []Priority, have, partial bitfield.Bitfield) bool {
	lay := layoutOf(info, files)
	for i := range info.NumPieces() {
		if (lay.prio == nil || lay.prio[i] >= Normal) && !have.Has(i) && !partial.Has(i) {
			return false
		}
	}
	return true
}

// SkipMask returns which files of info files skips (nil: none), as the
// storage takes it.
func SkipMask(info *metainfo.Info, files []Priority) []bool {
	return layoutOf(info, files).skip
}
