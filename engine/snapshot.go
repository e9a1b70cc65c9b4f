package engine

import (
	"path/filepath"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/bitfield"
	"github.com/swarmdrop/swarmdrop/engine/maker"
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
		s.UTP = n.utpOn.Load()
		s.DHT = n.dhtStatus()
		s.NAT = n.natSnapshot()
		s.LSD = n.lsdStatus()
		if s.DHT.Enabled {
			s.DHT.MyContact, s.DHT.MyContactSource = e.myContact(n, s.NAT.ExternalIP)
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
	s.Publications = e.publicationStatuses()
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
	ts.DHTSeeds, ts.DHTPeers, ts.DHTScrapedAt = -1, -1, rs.scrapedAt
	if !rs.scrapedAt.IsZero() {
		ts.DHTSeeds, ts.DHTPeers = rs.scrape.Seeds, rs.scrape.Peers
	}
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
	ts.MaxDownloadRate, ts.MaxUploadRate = t.down.Rate(), t.up.Rate()
	if t.mi != nil {
		n := t.mi.Info.NumPieces()
		have, partial := t.have, t.partial
		if st.HasMetadata {
			have, _ = bitfield.FromBytes(st.Have, n)
			partial, _ = bitfield.FromBytes(st.Partial, n)
		}
		if have.Len() != n { // not checked yet
			have = bitfield.New(n)
		}
		var wanted, got int64
		ts.Files, wanted, got = t.fileStatus(have, partial)
		ts.Wanted = wanted
		ts.Progress = 1 // nothing wanted: nothing missing
		if wanted > 0 {
			ts.Progress = float64(got) / float64(wanted)
		}
		shown := have.Clone()
		for i := range partial.Len() {
			if partial.Has(i) {
				shown.Set(i)
			}
		}
		ts.Have = shown.Bytes()
		ts.PiecesHave = shown.Count()
		if st.RateDown > 1 && st.Left > 0 {
			ts.ETA = time.Duration(float64(st.Left) / st.RateDown * float64(time.Second))
		}
	}
	if m := t.move; m != nil {
		ts.Moving = m.progress()
	}
	switch {
	case t.state == StateChecking && t.run != nil:
		ts.Progress = rs.checked
	case t.state == StateMetadata:
		ts.Progress = 0
	}
	for _, p := range st.PeerList {
		ts.PeerList = append(ts.PeerList, PeerStatus{
			Addr: p.Addr, Client: p.Client, Source: string(p.Source), RateDown: p.RateDown,
			RateUp: p.RateUp, Progress: p.Progress, Flags: p.Flags,
			Family: p.Family, Transport: p.Transport,
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
