package engine

import (
	"errors"
	"github.com/swarmdrop/swarmdrop/engine/maker"
	"path/filepath"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/swarm"
)

// publish builds a snapshot and offers it, replacing one not yet read
// (Run goroutine).
func (e *Engine) publish() {
	s := e.snapshot()
	select {
	case <-e.snaps:
	default:
	}
	select {
	case e.snaps <- s:
	default:
	}
}

// snapshot builds the current snapshot and sends the finished events.
func (e *Engine) snapshot() Snapshot {
	s := Snapshot{Time: time.Now()}
	if n := e.net; n != nil {
		s.ListenPort = n.port
		s.DHT = n.dhtStatus()
		s.NAT = n.natSnapshot()
		if s.NAT.ExternalIP != "" && s.DHT.Enabled {
			s.DHT.MyContact = joinHostPort(s.NAT.ExternalIP, n.port)
		}
	}
	for _, ih := range e.order {
		t := e.torrents[ih]
		ts := t.status()
		s.RateDown += ts.RateDown
		s.RateUp += ts.RateUp
		s.Peers += ts.Peers
		s.Torrents = append(s.Torrents, ts)
		if ts.State == StateSeeding && !t.finished {
			t.finished = true
			t.mu.Lock()
			wasDone, a := t.wasDone, t.announcer
			t.mu.Unlock()
			if a != nil {
				a.Completed()
			}
			if !wasDone {
				e.emit(TorrentFinished{InfoHash: ts.InfoHash, Name: ts.Name})
			}
		}
	}
	return s
}

// status describes the torrent now.
func (t *torrent) status() TorrentStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	ts := TorrentStatus{
		InfoHash: t.ih.String(),
		Dir:      t.dataDir(),
		State:    t.state,
		Err:      t.err,
		AddedAt:  t.addedAt,
		ETA:      -1,
		DHT:      t.dht,
	}
	if t.magnet != nil {
		ts.Name = t.magnet.Name
		ts.Magnet = t.magnet.String()
	}
	if t.mi != nil {
		info := &t.mi.Info
		ts.Name = info.Name
		ts.Size = info.TotalLength
		ts.PiecesTotal = info.NumPieces()
		ts.PieceLength = info.PieceLength
		ts.Private = info.Private
		ts.Magnet = t.mi.Magnet().String()
	}
	if ts.Name == "" {
		ts.Name = ts.InfoHash
	}
	if t.state == StateChecking {
		ts.Progress = t.checked
	}
	if t.announcer != nil {
		for _, a := range t.announcer.Status() {
			ts.Trackers = append(ts.Trackers, TrackerStatus{
				URL: a.URL, Tier: a.Tier, Working: a.Working, LastAnnounce: a.LastAnnounce,
				NextAnnounce: a.NextAnnounce, Peers: a.Peers, Seeders: a.Seeders, Leechers: a.Leechers,
				LastError: a.LastError, LastWarning: a.LastWarning,
			})
			if a.LastWarning != "" {
				ts.Warning = a.LastWarning
			}
		}
	}
	if t.sw == nil {
		if t.mi != nil {
			// Known before the swarm runs (while checking, paused, failed).
			ts.PiecesTotal = t.mi.Info.NumPieces()
			ts.Files = t.fileStatus(nil)
		}
		return ts
	}
	st := t.sw.Stats()
	ts.RateDown, ts.RateUp = st.RateDown, st.RateUp
	ts.Downloaded, ts.Uploaded = st.Downloaded, st.Uploaded
	ts.Peers, ts.Seeds = st.Peers, st.Seeds
	ts.Have = st.Have
	if st.HasMetadata {
		ts.PiecesHave = st.PiecesHave
		ts.PiecesTotal = st.PiecesTotal
		if ts.Size > 0 {
			ts.Progress = float64(ts.Size-st.Left) / float64(ts.Size)
		} else if st.PiecesTotal > 0 {
			ts.Progress = float64(st.PiecesHave) / float64(st.PiecesTotal)
		}
		if st.RateDown > 1 && st.Left > 0 {
			ts.ETA = time.Duration(float64(st.Left) / st.RateDown * float64(time.Second))
		}
		if t.state != StateChecking && t.state != StateError {
			if st.Complete {
				t.state = StateSeeding
			} else {
				t.state = StateDownloading
			}
			ts.State = t.state
		}
		ts.Files = t.fileStatus(st.Have)
	} else if st.MetadataSize > 0 {
		ts.Progress = 0
	}
	if st.Err != "" && ts.Err == nil {
		ts.Err = errors.New(st.Err)
	}
	ts.PEXPeers = 0
	for _, p := range st.PeerList {
		ts.PeerList = append(ts.PeerList, PeerStatus{
			Addr: p.Addr, Client: p.Client, Source: string(p.Source), RateDown: p.RateDown,
			RateUp: p.RateUp, Progress: p.Progress, Flags: p.Flags,
		})
		if p.Source == swarm.SourcePEX {
			ts.PEXPeers++
		}
	}
	return ts
}

// fileStatus computes each file's progress from the verified pieces
// (t.mu held).
func (t *torrent) fileStatus(have []byte) []FileStatus {
	info := &t.mi.Info
	if t.paths == nil {
		p, err := info.SafePaths()
		if err != nil {
			return nil
		}
		t.paths = p
	}
	paths := t.paths
	has := func(i int) bool { return i>>3 < len(have) && have[i>>3]&(0x80>>(i&7)) != 0 }
	out := make([]FileStatus, len(info.Files))
	for i, f := range info.Files {
		fs := FileStatus{Path: paths[i], Size: f.Length}
		if f.Length == 0 {
			fs.Progress = 1
		} else {
			var got int64
			first := int(f.Offset / info.PieceLength)
			last := int((f.Offset + f.Length - 1) / info.PieceLength)
			for p := first; p <= last; p++ {
				if !has(p) {
					continue
				}
				start := max(int64(p)*info.PieceLength, f.Offset)
				end := min(int64(p+1)*info.PieceLength, f.Offset+f.Length)
				got += end - start
			}
			fs.Progress = float64(got) / float64(f.Length)
		}
		out[i] = fs
	}
	return out
}

// dataDir is the folder holding the torrent's data: the download folder,
// or for a torrent seeded in place the folder its files were made from.
func (t *torrent) dataDir() string {
	if len(t.sources) == 0 {
		return t.dir
	}
	if t.sourceDir != "" {
		return t.sourceDir
	}
	t.sourceDir = t.commonSourceDir()
	return t.sourceDir
}

// commonSourceDir is dataDir for a torrent seeded in place.
func (t *torrent) commonSourceDir() string {
	dir := maker.CommonParent(t.sources)
	if t.mi != nil && t.mi.Info.MultiFile && filepath.Base(dir) == t.mi.Info.Name {
		return filepath.Dir(dir) // so that Dir/Name is the torrent's folder
	}
	return dir
}
