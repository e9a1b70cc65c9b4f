package engine

import (
	"path/filepath"
	"strings"

	"github.com/swarmdrop/swarmdrop/engine/bitfield"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/swarm"
)

// safePieces returns the pieces of the version old (in folder oldDir)
// that stay intact on disk while the version cur (in curDir) downloads
// over it: those that may still be uploaded. A piece is safe when every
// file it touches is
//   - a pad file (zeros, never on disk), or
//   - a file cur does not write: cur has no file of that path, nor one
//     that clashes with it (the same path in another case, a file where
//     it has a folder or the reverse), so cur's storage never opens it;
//     it stays until old stops (versionSeeding), or
//   - a file cur has at the same path with the same length, the same
//     piece length, at an offset a whole number of pieces away, and the
//     piece of cur over the same bytes has the same hash: cur finds
//     those bytes right in place and never rewrites them (when a piece
//     of cur around them is fetched, it rewrites them with equal bytes).
//
// A piece touching files of both kinds of cur's files must map to one
// piece of cur of equal hash. Everything else (a changed file, a file of
// another length, another piece length) is not safe. Folders other than
// the same one make every piece safe.
func safePieces(oldDir string, old *metainfo.Info, curDir string, cur *metainfo.Info) bitfield.Bitfield {
	n := old.NumPieces()
	safe := bitfield.New(n)
	oldPaths, err1 := old.SafePaths()
	curPaths, err2 := cur.SafePaths()
	if err1 != nil || err2 != nil || old.PieceLength <= 0 {
		return safe
	}
	if filepath.Clean(oldDir) != filepath.Clean(curDir) {
		safe.SetAll()
		return safe
	}
	exact := make(map[string]int, len(curPaths)) // path -> file index in cur
	// cur's files and folders, in lower case
	files, folders := make(map[string]bool, len(curPaths)), make(map[string]bool)
	for j, p := range curPaths {
		if p == "" {
			continue
		}
		exact[p] = j
		files[strings.ToLower(p)] = true
		for q := filepath.Dir(p); q != "." && q != string(filepath.Separator); q = filepath.Dir(q) {
			folders[strings.ToLower(q)] = true
		}
	}
	clashes := func(p string) bool {
		if l := strings.ToLower(p); files[l] || folders[l] {
			return true
		}
		for q := filepath.Dir(p); q != "." && q != string(filepath.Separator); q = filepath.Dir(q) {
			if files[strings.ToLower(q)] {
				return true
			}
		}
		return false
	}
	pl := old.PieceLength
	target := make([]int, n) // the piece of cur a piece must equal, -1: none yet
	bad := make([]bool, n)
	for i := range target {
		target[i] = -1
	}
	for i, f := range old.Files {
		if f.Pad || f.Length == 0 || oldPaths[i] == "" {
			continue
		}
		first, last := int(f.Offset/pl), int((f.Offset+f.Length-1)/pl)
		j, kept := exact[oldPaths[i]]
		if !kept && !clashes(oldPaths[i]) {
			continue // cur never writes it
		}
		aligned, shift := false, 0
		if kept && cur.PieceLength == pl && cur.Files[j].Length == f.Length && !cur.Files[j].Pad {
			if d := cur.Files[j].Offset - f.Offset; d%pl == 0 {
				aligned, shift = true, int(d/pl)
			}
		}
		for p := first; p <= last && p < n; p++ {
			switch q := p + shift; {
			case !aligned:
				bad[p] = true
			case target[p] == -1:
				target[p] = q
			case target[p] != q:
				bad[p] = true
			}
		}
	}
	for p := range n {
		q := target[p]
		switch {
		case bad[p]:
		case q == -1:
			safe.Set(p)
		case q >= 0 && q < cur.NumPieces() && old.PieceSize(p) == cur.PieceSize(q) && old.PieceHash(p) == cur.PieceHash(q):
			safe.Set(p)
		}
	}
	return safe
}

// restrictPrev limits what the previous version of f, still seeding,
// uploads to the pieces the current version leaves intact (Run
// goroutine): while the current version's metadata is unknown, to none
// (its changed files are unknown too, and a piece read while it is being
// rewritten would fail the hash check of the peer that asked, which may
// then ban us). Called again once the metadata is known.
func (e *Engine) restrictPrev(f *following) {
	if !f.hasPrev || f.prev == f.ih {
		return
	}
	prev := e.torrents[f.prev]
	if prev == nil || prev.mi == nil {
		return
	}
	allowed := bitfield.New(prev.mi.Info.NumPieces())
	if cur := e.torrents[f.ih]; cur != nil && cur.mi != nil {
		allowed = safePieces(prev.dir, &prev.mi.Info, cur.dir, &cur.mi.Info)
	}
	e.restrictUploads(prev, &allowed)
}

// metadataKnown is told that t's metadata arrived (Run goroutine): when
// t is the current version of a followed publication, the previous one
// may now upload the pieces t leaves intact.
func (e *Engine) metadataKnown(t *torrent) {
	for _, f := range e.pubs.followed {
		if f.hasPrev && f.ih == t.ih {
			e.restrictPrev(f)
		}
	}
}

// restrictUploads limits t's uploads to allowed (nil: none limited), in
// its current run and the next ones (Run goroutine).
func (e *Engine) restrictUploads(t *torrent, allowed *bitfield.Bitfield) {
	t.allowed = allowed
	if t.run != nil {
		t.run.restrict(allowed)
	}
}

// restrict hands the run its upload restriction (nil: none), applied to
// its swarm now or as soon as there is one (see applyRestriction).
func (r *torrentRun) restrict(allowed *bitfield.Bitfield) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.allowed = allowed
	if r.sw != nil {
		applyRestriction(r.sw, allowed)
	}
}

// applyRestriction restricts sw's uploads to allowed (nil: lifts it).
func applyRestriction(sw *swarm.Swarm, allowed *bitfield.Bitfield) {
	if allowed == nil {
		sw.UnrestrictUploads()
	} else {
		sw.RestrictUploads(*allowed)
	}
}
