package maker

import (
	"slices"
	"strconv"
)

// padFolder is the folder BEP 47 recommends for pad files: a pad file of
// N bytes is .pad/N.
const padFolder = ".pad"

// alignFiles lays files out as libtorrent's create_torrent does with its
// canonical_files flag (and for every v2 or hybrid torrent): sorted by
// path, compared component by component, and, when there is more than
// one file, each non-empty file that does not end on a piece boundary
// followed by a pad file up to the next one, the last file included.
// Every file's pieces thus depend on its own bytes only: a file that
// changes, appears or goes does not move the pieces of the others. The
// result is a new slice; files is not modified.
func alignFiles(files []PlanFile, pieceLength int64) []PlanFile {
	sorted := slices.Clone(files)
	slices.SortStableFunc(sorted, func(a, b PlanFile) int { return slices.Compare(a.Path, b.Path) })
	if len(sorted) < 2 {
		return sorted
	}
	out := make([]PlanFile, 0, 2*len(sorted))
	var off int64
	for _, f := range sorted {
		out = append(out, f)
		off += f.Length
		if r := off % pieceLength; f.Length > 0 && r != 0 {
			n := pieceLength - r
			out = append(out, PlanFile{Path: []string{padFolder, strconv.FormatInt(n, 10)}, Length: n, Pad: true})
			off += n
		}
	}
	return out
}
