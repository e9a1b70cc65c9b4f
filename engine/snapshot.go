package engine

import (
	"path/filepath"
	"slices"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/bitfield"
	"github.com/swarmdrop/swarmdrop/engine/maker"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/swarm"
)

// publish builds a snapshot and offers it, replacing one not yet read
// (Run goroutine).
func (e *Engine) publish() {
	start := time.Now()
	s := e.snapshot()
	e.changed, e.lastSnap, e.snapCost = false, start, time.Since(start)
	e.quiet = quietSnapshot(&s)
	select {
	case <-e.snaps:
	default:
	}
	select {
	case e.snaps <- s:
	default:
	}
}

// snapshot builds the current snapshot. It only reads.
func (e *Engine) snapshot() Snapshot {
	s := Snapshot{Time: time.Now(), ListenErr: e.listenErr}
	if n := e.net; n != nil {
		s.ListenPort = n.port
		s.DHT = n.dhtStatus()
		s.NAT = n.natSnapshot()
		if s.NAT.ExternalIP != "" && s.DHT.Enabled {
			s.DHT.MyContact = joinHostPort(s.NAT.ExternalIP, n.port)
		}
	}
	s.Torrents = make([]TorrentStatus, 0, len(e.order))
	for _, ih := range e.order {
		ts := e.torrents[ih].status()
		s.RateDown += ts.RateDown
		s.RateUp += ts.RateUp
		s.Peers += ts.Peers
		s.Torrents = append(s.Torrents, ts)
	}
	return s
}

// quietSnapshot reports whether s shows nothing moving: no peer, no
// transfer, every torrent seeding, paused or failed.
func quietSnapshot(s *Snapshot) bool {
	if s.Peers > 0 || s.RateDown > 0 || s.RateUp > 0 {
		return false
	}
	for i := range s.Torrents {
		switch s.Torrents[i].State {
		case StateSeeding, StatePaused, StateError:
		default:
			return false
		}
	}
	return true
}

// status describes the torrent now (Run goroutine).
func (t *torrent) status() TorrentStatus {
	if t.ihText == "" {
		t.ihText = t.ih.String()
	}
	ts := TorrentStatus{
		InfoHash: t.ihText,
		Dir:      t.dataDir(),
		State:    t.state,
		Err:      t.err,
		AddedAt:  t.addedAt,
		ETA:      -1,
	}
	if t.magnet != nil {
		ts.Name = t.magnet.Name
	}
	if t.mi != nil {
		info := &t.mi.Info
		ts.Name = info.Name
		ts.Size = info.ContentLength() // pad files are not the user's data
		ts.PiecesTotal = info.NumPieces()
		ts.PieceLength = info.PieceLength
		ts.Private = info.Private
	}
	ts.Magnet = t.magnetLink()
	if ts.Name == "" {
		ts.Name = ts.InfoHash
	}
	run := t.run
	if run == nil {
		run = t.last // its tracker, DHT and resume status stay on view
	}
	rs := run.status()
	ts.DHT = rs.dht
	if rs.announcer != nil {
		for _, a := range rs.announcer.Status() {
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
	if rs.saveErr != nil {
		ts.ResumeErr = rs.saveErr
		ts.Warning = rs.saveErr.Error()
	}
	var st swarm.Stats
	if t.run != nil && rs.sw != nil {
		st = rs.sw.Stats()
	}
	ts.RateDown, ts.RateUp = st.RateDown, st.RateUp
	ts.Downloaded, ts.Uploaded = st.Downloaded, st.Uploaded
	ts.Peers, ts.Seeds = st.Peers, st.Seeds
	switch {
	case st.HasMetadata:
		ts.Have = st.Have
		ts.PiecesHave = st.PiecesHave
		ts.PiecesTotal = st.PiecesTotal
		ts.Progress = progress(t.totalLength(), st.Left, st.PiecesHave, st.PiecesTotal)
		if st.RateDown > 1 && st.Left > 0 {
			ts.ETA = time.Duration(float64(st.Left) / st.RateDown * float64(time.Second))
		}
		if t.mi != nil { // else told soon
			ts.Files = t.fileStatus(st.Have)
		}
	case t.mi != nil:
		// Not running, checking, or failed: what was verified last.
		have := t.have
		if have.Len() != t.mi.Info.NumPieces() {
			have = bitfield.New(t.mi.Info.NumPieces())
		}
		ts.Have = slices.Clone(have.Bytes())
		ts.PiecesHave = have.Count()
		ts.Progress = progress(t.totalLength(), leftBytes(&t.mi.Info, have), ts.PiecesHave, ts.PiecesTotal)
		ts.Files = t.fileStatus(ts.Have)
	}
	if t.state == StateChecking && t.run != nil {
		ts.Progress = rs.checked
	}
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

// magnetLink returns the torrent's magnet link ("" when it has neither
// metadata nor a magnet), built once for its metadata, or its magnet
// while the metadata is unknown: rebuilding it for every snapshot cost
// 5 % of a core with 1,000 torrents.
func (t *torrent) magnetLink() string {
	switch {
	case t.mi != nil:
		if t.linkOf != t.mi {
			t.link, t.linkOf, t.linkOfMagnet = t.mi.Magnet().String(), t.mi, nil
		}
	case t.magnet != nil:
		if t.linkOfMagnet != t.magnet {
			t.link, t.linkOf, t.linkOfMagnet = t.magnet.String(), nil, t.magnet
		}
	default:
		return ""
	}
	return t.link
}

// totalLength is the torrent's length with its pad files (0 while a
// magnet's metadata is unknown): what piece counts are measured against.
func (t *torrent) totalLength() int64 {
	if t.mi == nil {
		return 0
	}
	return t.mi.Info.TotalLength
}

// progress is the share of the torrent verified: by bytes when its size
// is known, else by pieces.
func progress(size, left int64, have, total int) float64 {
	switch {
	case size > 0:
		return float64(size-left) / float64(size)
	case total > 0:
		return float64(have) / float64(total)
	}
	return 0
}

// leftBytes is how many bytes of info the pieces not in have hold.
func leftBytes(info *metainfo.Info, have bitfield.Bitfield) int64 {
	var left int64
	for i := range info.NumPieces() {
		if !have.Has(i) {
			left += info.PieceSize(i)
		}
	}
	return left
}

// fileStatus computes each file's progress from the verified pieces; pad
// files (BEP 47) and links are left out.
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
	visible := info.VisibleFiles()
	out := make([]FileStatus, 0, len(visible))
	for _, i := range visible {
		f := info.Files[i]
		fs := FileStatus{Index: i, Path: paths[i], Size: f.Length}
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
		out = append(out, fs)
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
