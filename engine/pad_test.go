package engine

import (
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/peerwire"
	"github.com/swarmdrop/swarmdrop/engine/storage"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// listTree returns every file and folder under dir, relative and sorted.
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// countPads returns the number of pad files of info.
func countPads(info *metainfo.Info) int {
	return len(info.Files) - len(info.VisibleFiles())
}

// ltPadTorrent makes a torrent of content with libtorrent's pad files
// (create_torrent's canonical_files) and returns its path and parse.
func ltPadTorrent(t *testing.T, content string, pieceLength int) (string, []byte, *metainfo.MetaInfo) {
	t.Helper()
	tf := filepath.Join(t.TempDir(), filepath.Base(content)+".torrent")
	testpeers.LT(t, "create", content, tf, "--pad", "--piece-length", fmt.Sprint(pieceLength))
	data, err := os.ReadFile(tf)
	if err != nil {
		t.Fatal(err)
	}
	mi, err := metainfo.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if countPads(&mi.Info) == 0 {
		t.Fatal("libtorrent's torrent has no pad file: the test proves nothing")
	}
	return tf, data, mi
}

// TestPadTorrentLibtorrentFromUs: a multi-file torrent Swarmdrop makes
// (with pad files, by default) loads in libtorrent with the same info
// hash, files and pad flags, and libtorrent downloads it from us, seeding
// in place, byte for byte; no pad file appears anywhere.
func TestPadTorrentLibtorrentFromUs(t *testing.T) {
	src := t.TempDir()
	content := testContent(t, src, "aligned", 200_000)
	before := listTree(t, src)

	e := testEngine(t, Config{StateDir: t.TempDir()})
	id := e.Create(CreateRequest{Paths: []string{content}, PieceLength: 32 << 10})
	ev := waitCreated(t, e, id, 60*time.Second)
	mi, err := metainfo.Parse(ev.Torrent)
	if err != nil {
		t.Fatal(err)
	}
	if countPads(&mi.Info) == 0 {
		t.Fatal("our multi-file torrent has no pad file")
	}
	tf := filepath.Join(t.TempDir(), "aligned.torrent")
	writeFile(t, tf, ev.Torrent)

	var want []string
	want = append(want, "infohash "+mi.InfoHash.String())
	for _, f := range mi.Info.Files {
		p := "aligned/" + strings.Join(f.Path, "/")
		want = append(want, fmt.Sprintf("file %d %s", f.Length, p))
		attr := "-"
		if f.Pad {
			attr = "p"
		}
		want = append(want, fmt.Sprintf("attr %s %s", attr, p))
	}
	var got []string
	for _, l := range strings.Split(testpeers.LT(t, "info", tf, "--attrs"), "\n") {
		if strings.HasPrefix(l, "infohash ") || strings.HasPrefix(l, "file ") || strings.HasPrefix(l, "attr ") {
			got = append(got, l)
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("libtorrent reads\n%s\nwe made\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if ts := waitState(t, e, ev.InfoHash, StateSeeding, 30*time.Second); ts.PiecesHave != mi.Info.NumPieces() {
		t.Fatalf("seeding %d of %d pieces", ts.PiecesHave, mi.Info.NumPieces())
	}

	dst := t.TempDir()
	dl := testpeers.StartLT(t, "download", tf, dst, "--port", "0",
		"--peer", fmt.Sprintf("127.0.0.1:%d", e.testPort(t)), "--seconds", "60")
	dl.Wait(t, "DONE", 70*time.Second)
	sameTree(t, content, filepath.Join(dst, "aligned"))
	if got := listTree(t, dst); !slices.Equal(got, before) {
		t.Fatalf("libtorrent's download holds %q, want %q", got, before)
	}
	if got := listTree(t, src); !slices.Equal(got, before) {
		t.Fatalf("the seeded folder now holds %q, was %q", got, before)
	}
}

// TestPadTorrentFromLibtorrent: we download from libtorrent a torrent
// libtorrent made with pad files, byte for byte, creating no pad file.
func TestPadTorrentFromLibtorrent(t *testing.T) {
	src := t.TempDir()
	content := testContent(t, src, "padded", 150_000)
	tf, data, mi := ltPadTorrent(t, content, 16<<10)
	_, ltPort := testpeers.SeedLT(t, tf, src)

	e := testEngine(t, Config{})
	ih, err := e.AddTorrent(data, AddOptions{Peers: []string{fmt.Sprintf("127.0.0.1:%d", ltPort)}})
	if err != nil {
		t.Fatal(err)
	}
	if ts := waitState(t, e, ih, StateSeeding, 60*time.Second); ts.PiecesHave != mi.Info.NumPieces() {
		t.Fatalf("%d of %d pieces", ts.PiecesHave, mi.Info.NumPieces())
	}
	sameTree(t, content, filepath.Join(e.cfg.DownloadDir, "padded"))
	if got, want := listTree(t, e.cfg.DownloadDir), listTree(t, src); !slices.Equal(got, want) {
		t.Fatalf("downloaded %q, want exactly %q", got, want)
	}
}

// padCorrupter is a peer that has every piece and answers requests with
// the right bytes except in pad files, where it sends non-zero bytes.
// libtorrent never sends bad data, so this one is ours.
type padCorrupter struct {
	l        net.Listener
	badBytes atomic.Int64 // non-zero pad bytes sent
	wg       sync.WaitGroup

	mu        sync.Mutex
	badPieces map[uint32]bool // pieces some of whose pad bytes were sent, non-zero
}

func startPadCorrupter(t *testing.T, mi *metainfo.MetaInfo, dir string) *padCorrupter {
	t.Helper()
	st, err := storage.Open(dir, &mi.Info)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &padCorrupter{l: l, badPieces: map[uint32]bool{}}
	t.Cleanup(func() {
		l.Close()
		p.wg.Wait()
		st.Close()
	})
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				defer c.Close()
				p.serve(c, mi, st)
			}()
		}
	}()
	return p
}

func (p *padCorrupter) serve(c net.Conn, mi *metainfo.MetaInfo, st *storage.Torrent) {
	c.SetDeadline(time.Now().Add(60 * time.Second))
	theirs, err := peerwire.ReadHandshake(c)
	if err != nil {
		return
	}
	var id [20]byte
	copy(id[:], "-XX0001-padcorrupter")
	n := mi.Info.NumPieces()
	all := make([]byte, (n+7)/8)
	for i := range n {
		all[i/8] |= 0x80 >> (i % 8)
	}
	out := peerwire.AppendHandshake(nil, peerwire.Handshake{InfoHash: theirs.InfoHash, PeerID: id})
	out = peerwire.AppendMessage(out, peerwire.Message{ID: peerwire.Bitfield, Bitfield: all})
	out = peerwire.AppendMessage(out, peerwire.Message{ID: peerwire.Unchoke})
	if _, err := c.Write(out); err != nil {
		return
	}
	r := peerwire.NewReader(c, n)
	buf := make([]byte, peerwire.BlockSize)
	for {
		m, err := r.ReadMessage()
		if err != nil {
			return
		}
		if m.ID != peerwire.Request {
			continue
		}
		b := buf[:m.Length]
		off := int64(m.Index)*mi.Info.PieceLength + int64(m.Begin)
		if _, err := st.ReadAt(b, off); err != nil {
			return
		}
		for _, f := range mi.Info.Files {
			lo, hi := max(f.Offset, off), min(f.Offset+f.Length, off+int64(len(b)))
			if f.Pad && lo < hi {
				for k := lo; k < hi; k++ {
					b[k-off] = 0xa5
				}
				p.badBytes.Add(hi - lo)
				p.mu.Lock()
				p.badPieces[m.Index] = true
				p.mu.Unlock()
			}
		}
		msg := peerwire.AppendMessage(nil, peerwire.Message{ID: peerwire.Piece, Index: m.Index, Begin: m.Begin, Block: b})
		if _, err := c.Write(msg); err != nil {
			return
		}
	}
}

// TestPadBytesFromPeerChecked: a peer that sends non-zero bytes in pad
// files makes those pieces fail: with it alone the download cannot
// complete; once a libtorrent seeder joins, it does, byte for byte, and
// no pad file is on disk.
func TestPadBytesFromPeerChecked(t *testing.T) {
	src := t.TempDir()
	content := testContent(t, src, "tricked", 100_000)
	tf, data, mi := ltPadTorrent(t, content, 16<<10)
	bad := startPadCorrupter(t, mi, src)

	e := testEngine(t, Config{})
	ih, err := e.AddTorrent(data, AddOptions{Peers: []string{bad.l.Addr().String()}})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); bad.badBytes.Load() == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no pad bytes were asked of the corrupting peer within 30 s")
		}
	}
	// It has every piece and serves at loopback speed: a client that
	// took its pad bytes would be done in a moment.
	time.Sleep(2 * time.Second)
	ts := lastStatus(t, e, ih)
	if ts.State == StateSeeding || ts.PiecesHave >= mi.Info.NumPieces() {
		t.Fatalf("complete from a peer sending non-zero pad bytes: %d of %d pieces", ts.PiecesHave, mi.Info.NumPieces())
	}
	t.Logf("with the corrupting peer alone: %d of %d pieces, %d bad pad bytes sent", ts.PiecesHave, mi.Info.NumPieces(), bad.badBytes.Load())
	// It was the only peer: a piece it sent non-zero pad bytes of held
	// them when it was hashed.
	bad.mu.Lock()
	for p := range bad.badPieces {
		if int(p/8) < len(ts.Have) && ts.Have[p/8]&(0x80>>(p%8)) != 0 {
			t.Fatalf("piece %d verified with non-zero pad bytes", p)
		}
	}
	bad.mu.Unlock()

	_, ltPort := testpeers.SeedLT(t, tf, src)
	if _, err := e.AddTorrent(data, AddOptions{Peers: []string{fmt.Sprintf("127.0.0.1:%d", ltPort)}}); err != nil {
		t.Fatal(err)
	}
	waitState(t, e, ih, StateSeeding, 90*time.Second)
	sameTree(t, content, filepath.Join(e.cfg.DownloadDir, "tricked"))
	if got, want := listTree(t, e.cfg.DownloadDir), listTree(t, src); !slices.Equal(got, want) {
		t.Fatalf("downloaded %q, want exactly %q", got, want)
	}
}

// TestPadBlocksNotFetched: one Swarmdrop downloading a padded torrent from
// another asks for no block that lies wholly in pad files: with files of
// 2.5 blocks in pieces of 4 blocks, each file costs 3 blocks, not 4.
func TestPadBlocksNotFetched(t *testing.T) {
	src := filepath.Join(t.TempDir(), "padded")
	const files = 12
	for i := range files {
		testpeers.RandomFile(t, filepath.Join(src, fmt.Sprintf("f%02d.bin", i)), 40<<10, uint64(i+1))
	}
	seeder := testEngine(t, Config{StateDir: t.TempDir()})
	id := seeder.Create(CreateRequest{Paths: []string{src}, PieceLength: 64 << 10})
	ev := waitCreated(t, seeder, id, 60*time.Second)
	mi, err := metainfo.Parse(ev.Torrent)
	if err != nil {
		t.Fatal(err)
	}
	if countPads(&mi.Info) != files { // the last file is padded too, as libtorrent does
		t.Fatalf("%d pad files, want %d", countPads(&mi.Info), files)
	}
	waitState(t, seeder, ev.InfoHash, StateSeeding, 30*time.Second)

	dst := t.TempDir()
	leech := testEngine(t, Config{})
	if _, err := leech.AddTorrent(ev.Torrent, AddOptions{Dir: dst,
		Peers: []string{fmt.Sprintf("127.0.0.1:%d", seeder.testPort(t))}}); err != nil {
		t.Fatal(err)
	}
	ts := waitState(t, leech, ev.InfoHash, StateSeeding, 60*time.Second)
	sameTree(t, src, filepath.Join(dst, "padded"))
	if len(ts.Files) != files || ts.Size != files*40<<10 || ts.Progress != 1 {
		t.Fatalf("the snapshot shows %d files, %d bytes, progress %v; want %d files of 40 KiB, complete",
			len(ts.Files), ts.Size, ts.Progress, files)
	}
	for _, f := range ts.Files {
		if f.Path == "" || strings.HasPrefix(f.Path, ".pad") || f.Progress != 1 {
			t.Fatalf("file %+v in the snapshot", f)
		}
	}
	if want := int64(files * 3 * 16 << 10); ts.Downloaded != want {
		t.Fatalf("downloaded %d bytes for %d of content, want %d (3 blocks a file)",
			ts.Downloaded, mi.Info.ContentLength(), want)
	}
}
