package engine

import (
	"path/filepath"
	"slices"

	"github.com/swarmdrop/swarmdrop/engine/bitfield"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/swarm"
)

// FilePriority is how much the user wants one file of a torrent. The zero
// value is PriorityNormal.
type FilePriority int8

// File priorities.
const (
	// PrioritySkip: the file is not downloaded, and not created on disk.
	// A piece it shares with a wanted file is still fetched and verified
	// whole, but only the wanted file's bytes are kept.
	PrioritySkip   FilePriority = -1
	PriorityNormal FilePriority = 0
	// PriorityHigh: the file's pieces are picked before the others.
	PriorityHigh FilePriority = 1
)

// SetFilePriorities sets the priority of each file of a torrent, by its
// place in the torrent's file list (FileStatus.Index: pad files counted,
// their value ignored); nil wants every file. It applies while the
// torrent runs, is paused, or waits for StartChosen, and is kept in the
// saved list. Before a magnet link's metadata is known, a list is kept
// and used if its length then matches the files. Files wanted again are
// created; skipped files already on disk are left as they are.
func (e *Engine) SetFilePriorities(infoHash string, files []FilePriority) {
	files = slices.Clone(files)
	e.withTorrent(infoHash, func(t *torrent) {
		t.prio = files
		if t.run != nil {
			t.run.setFiles(swarmFiles(files))
		}
	})
}

// StartChosen ends StateWaitingFiles for a torrent added with
// AddOptions.WaitForFiles: it is downloaded into dir ("" keeps the one
// given when it was added) with the file priorities files (as for
// SetFilePriorities), paused or not. Called before the metadata arrives,
// it sets the choice and the torrent goes on without waiting. It does
// nothing for a torrent that was not waiting.
func (e *Engine) StartChosen(infoHash string, dir string, files []FilePriority, paused bool) {
	files = slices.Clone(files)
	e.withTorrent(infoHash, func(t *torrent) {
		if !t.waitFiles {
			return
		}
		t.waitFiles = false
		if dir != "" {
			if abs, err := filepath.Abs(dir); err == nil {
				dir = abs
			}
			t.dir = dir
		}
		t.prio, t.paused = files, paused
		switch {
		case t.run != nil: // still fetching the metadata: again with the choice
			e.stop(t, nil)
			t.restart = !paused
			if paused {
				t.afterStop = append(t.afterStop, func() { t.state = StatePaused })
			}
		case paused:
			t.state = StatePaused
			t.have, t.partial = e.savedHave(t)
		default:
			e.start(t)
		}
	})
}

// swarmFiles converts file priorities for the swarm.
func swarmFiles(files []FilePriority) []swarm.Priority {
	if files == nil {
		return nil
	}
	out := make([]swarm.Priority, len(files))
	for i, p := range files {
		out[i] = swarm.Priority(max(min(p, PriorityHigh), PrioritySkip))
	}
	return out
}

// priorityOf returns file i's priority.
func (t *torrent) priorityOf(i int) FilePriority {
	if t.mi == nil || len(t.prio) != len(t.mi.Info.Files) {
		return PriorityNormal
	}
	return max(min(t.prio[i], PriorityHigh), PrioritySkip)
}

// fileStatus computes each file's progress: the share of its bytes in
// the verified pieces, whole pieces (have) for every file and partly
// kept pieces (partial) for wanted files (a skipped file's bytes were
// left out of them). Pad files (BEP 47) and links are left out. It also
// returns the bytes of the wanted files and how many of them are
// verified, measured the same way, so that the torrent's progress and
// its files' agree.
func (t *torrent) fileStatus(have, partial bitfield.Bitfield) (files []FileStatus, wanted, got int64) {
	info := &t.mi.Info
	if t.paths == nil {
		p, err := info.SafePaths()
		if err != nil {
			return nil, 0, 0
		}
		t.paths = p
	}
	visible := info.VisibleFiles()
	files = make([]FileStatus, 0, len(visible))
	for _, i := range visible {
		f := info.Files[i]
		fs := FileStatus{Index: i, Path: t.paths[i], Size: f.Length, Priority: t.priorityOf(i)}
		n := bytesVerified(info, f, have, partial, fs.Priority != PrioritySkip)
		if f.Length == 0 {
			fs.Progress = 1
		} else {
			fs.Progress = float64(n) / float64(f.Length)
		}
		if fs.Priority != PrioritySkip {
			wanted += f.Length
			got += n
		}
		files = append(files, fs)
	}
	return files, wanted, got
}

// bytesVerified returns how many bytes of f lie in pieces of have (or of
// partial, when withPartial).
func bytesVerified(info *metainfo.Info, f metainfo.File, have, partial bitfield.Bitfield, withPartial bool) int64 {
	if f.Length == 0 {
		return 0
	}
	var n int64
	first := int(f.Offset / info.PieceLength)
	last := int((f.Offset + f.Length - 1) / info.PieceLength)
	for p := first; p <= last; p++ {
		if !have.Has(p) && !(withPartial && partial.Has(p)) {
			continue
		}
		start := max(int64(p)*info.PieceLength, f.Offset)
		end := min(int64(p+1)*info.PieceLength, f.Offset+f.Length)
		n += end - start
	}
	return n
}
