package metainfo

import (
	"bytes"
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// ltScript reads, creates and parses torrents and magnet links with
// libtorrent and prints what libtorrent understood as JSON.
const ltScript = `
import json, sys, os
import libtorrent as lt
cmd = sys.argv[1]
if cmd == "info":
    ti = lt.torrent_info(sys.argv[2])
    fs = ti.files()
    print(json.dumps({
        "info_hash": str(ti.info_hashes().v1),
        "name": ti.name(),
        "total_size": ti.total_size(),
        "num_pieces": ti.num_pieces(),
        "piece_length": ti.piece_length(),
        "files": [fs.file_path(i).replace(os.sep, "/") for i in range(fs.num_files())],
        "sizes": [fs.file_size(i) for i in range(fs.num_files())],
        "pads": [bool(fs.file_flags(i) & fs.flag_pad_file) for i in range(fs.num_files())],
        "execs": [bool(fs.file_flags(i) & fs.flag_executable) for i in range(fs.num_files())],
        "trackers": [[t.url, str(t.tier)] for t in ti.trackers()],
        "nodes": ["%s:%d" % (h, p) for h, p in ti.nodes()],
        "private": ti.priv(),
        "comment": ti.comment(),
        "magnet": lt.make_magnet_uri(ti),
    }))
elif cmd == "create":
    path, out, mode = sys.argv[2], sys.argv[3], sys.argv[4]
    fs = lt.file_storage()
    lt.add_files(fs, path)
    flags = lt.create_torrent.v1_only if mode == "v1" else 0
    ct = lt.create_torrent(fs, 32768, flags=flags)
    ct.add_tracker("http://127.0.0.1:1/announce", 0)
    ct.add_tracker("udp://127.0.0.1:2", 1)
    ct.add_node("127.0.0.1", 6881)
    ct.set_comment("from libtorrent")
    lt.set_piece_hashes(ct, os.path.dirname(os.path.abspath(path)))
    with open(out, "wb") as f:
        f.write(lt.bencode(ct.generate()))
elif cmd == "magnet":
    p = lt.parse_magnet_uri(sys.argv[2])
    print(json.dumps({"info_hash": str(p.info_hashes.v1), "name": p.name,
        "trackers": list(p.trackers), "peers": ["%s:%d" % (h, port) for h, port in p.peers]}))
`

// ltInfo is what libtorrent read from a .torrent.
type ltInfo struct {
	InfoHash    string     `json:"info_hash"`
	Name        string     `json:"name"`
	TotalSize   int64      `json:"total_size"`
	NumPieces   int        `json:"num_pieces"`
	PieceLength int64      `json:"piece_length"`
	Files       []string   `json:"files"`
	Sizes       []int64    `json:"sizes"`
	Pads        []bool     `json:"pads"`
	Execs       []bool     `json:"execs"`
	Trackers    [][]string `json:"trackers"`
	Nodes       []string   `json:"nodes"`
	Private     bool       `json:"private"`
	Comment     string     `json:"comment"`
	Magnet      string     `json:"magnet"`
}

func runLT(t *testing.T, out any, args ...string) {
	t.Helper()
	testpeers.RequireLibtorrent(t)
	cmd := exec.Command(testpeers.Python, append([]string{"-c", ltScript}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("libtorrent %s: %v\n%s", args, err, stderr.String())
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("libtorrent %s printed %q: %v", args, b, err)
		}
	}
}

// makeContent writes a single file and a folder with nested, empty and
// non-ASCII files under dir.
func makeContent(t *testing.T, dir string) (file, folder string) {
	file = filepath.Join(dir, "single.bin")
	testpeers.RandomFile(t, file, 100001, 1)
	folder = filepath.Join(dir, "folder")
	testpeers.RandomFile(t, filepath.Join(folder, "sub", "deep", "a.bin"), 70000, 2)
	testpeers.RandomFile(t, filepath.Join(folder, "é ü.txt"), 5, 3)
	testpeers.RandomFile(t, filepath.Join(folder, "z.dat"), 32768, 4)
	if err := os.WriteFile(filepath.Join(folder, "empty"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return file, folder
}

// checkPieces hashes the content on disk in torrent order (padding files
// of BEP 47 read as zeros) and compares every piece hash.
func checkPieces(t *testing.T, info *Info, parent string) {
	t.Helper()
	var data []byte
	for _, f := range info.Files {
		if f.Pad {
			data = append(data, make([]byte, f.Length)...)
			continue
		}
		p := filepath.Join(parent, info.Name)
		if info.MultiFile {
			p = filepath.Join(append([]string{p}, f.Path...)...)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(b)) != f.Length || int64(len(data)) != f.Offset {
			t.Fatalf("%s: %d bytes at %d, torrent says %d at %d", p, len(b), len(data), f.Length, f.Offset)
		}
		data = append(data, b...)
	}
	if int64(len(data)) != info.TotalLength {
		t.Fatalf("content is %d bytes, TotalLength %d", len(data), info.TotalLength)
	}
	for n := 0; n < info.NumPieces(); n++ {
		off := int64(n) * info.PieceLength
		if sha1.Sum(data[off:off+info.PieceSize(n)]) != info.PieceHash(n) {
			t.Fatalf("piece %d: hash differs from the content", n)
		}
	}
}

// compareWithLT checks that libtorrent reads path as we read m.
func compareWithLT(t *testing.T, path string, m *MetaInfo) ltInfo {
	t.Helper()
	var lt ltInfo
	runLT(t, &lt, "info", path)
	if lt.InfoHash != m.InfoHash.String() {
		t.Fatalf("%s: info hash %s, libtorrent says %s", path, m.InfoHash, lt.InfoHash)
	}
	var files []string
	var sizes []int64
	var pads, execs []bool
	for _, f := range m.Info.Files {
		pads = append(pads, f.Pad)
		execs = append(execs, f.Executable)
		p := f.Path[0]
		if m.Info.MultiFile {
			p = m.Info.Name + "/" + strings.Join(f.Path, "/")
		}
		files = append(files, p)
		sizes = append(sizes, f.Length)
	}
	if lt.Name != m.Info.Name || !reflect.DeepEqual(lt.Files, files) || !reflect.DeepEqual(lt.Sizes, sizes) ||
		lt.TotalSize != m.Info.TotalLength || lt.NumPieces != m.Info.NumPieces() || lt.PieceLength != m.Info.PieceLength ||
		lt.Private != m.Info.Private || !reflect.DeepEqual(lt.Pads, pads) || !reflect.DeepEqual(lt.Execs, execs) {
		t.Fatalf("%s: libtorrent reads %+v\nwe read %+v", path, lt, m.Info)
	}
	var tiers [][]string
	for i, tier := range m.Trackers() {
		for _, u := range tier {
			tiers = append(tiers, []string{u, strconv.Itoa(i)})
		}
	}
	// libtorrent shuffles each tier, as BEP 12 asks.
	byTier := func(a, b []string) int { return strings.Compare(a[1]+" "+a[0], b[1]+" "+b[0]) }
	slices.SortFunc(lt.Trackers, byTier)
	slices.SortFunc(tiers, byTier)
	if !reflect.DeepEqual(lt.Trackers, tiers) {
		t.Fatalf("%s: libtorrent trackers %q, ours %q", path, lt.Trackers, tiers)
	}
	var nodes []string
	for _, n := range m.Nodes {
		nodes = append(nodes, fmt.Sprintf("%s:%d", n.Host, n.Port))
	}
	if len(lt.Nodes) != len(nodes) || len(nodes) > 0 && !reflect.DeepEqual(lt.Nodes, nodes) {
		t.Fatalf("%s: libtorrent nodes %q, ours %q", path, lt.Nodes, nodes)
	}
	if lt.Comment != m.Comment {
		t.Fatalf("%s: libtorrent comment %q, ours %q", path, lt.Comment, m.Comment)
	}
	// Our parse of libtorrent's magnet link.
	mg, err := ParseMagnet(lt.Magnet)
	if err != nil || mg.InfoHash != m.InfoHash || mg.Name != m.Info.Name {
		t.Fatalf("libtorrent's magnet %s: %+v %v", lt.Magnet, mg, err)
	}
	return lt
}

// TestMktorrentInterop parses torrents made by mktorrent: the same info
// hash, files and trackers as libtorrent reads, and piece hashes that
// match the content.
func TestMktorrentInterop(t *testing.T) {
	mk := testpeers.Require(t, "mktorrent", "mktorrent")
	dir := t.TempDir()
	file, folder := makeContent(t, dir)
	for _, src := range []string{file, folder} {
		out := src + ".torrent"
		cmd := exec.Command(mk, "-l", "15", "-a", "http://127.0.0.1:1/announce", "-a", "udp://127.0.0.1:2",
			"-c", "made by mktorrent", "-w", "http://127.0.0.1:3/seed", "-o", out, src)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("mktorrent: %v\n%s", err, b)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Parse(data)
		if err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		if m.Info.PieceLength != 1<<15 || m.Info.Name != filepath.Base(src) || m.Info.MultiFile != (src == folder) ||
			!strings.HasPrefix(m.CreatedBy, "mktorrent") || m.CreationDate == 0 || m.Comment != "made by mktorrent" ||
			!reflect.DeepEqual(m.URLList, []string{"http://127.0.0.1:3/seed"}) {
			t.Fatalf("%s: read %+v", out, m)
		}
		if src == folder && len(m.Info.Files) != 4 {
			t.Fatalf("%s: %d files, want 4", out, len(m.Info.Files))
		}
		checkPieces(t, &m.Info, dir)
		compareWithLT(t, out, m)
		checkRoundTrip(t, data, m)
	}
}

// TestLibtorrentCreatedInterop parses v1 and hybrid (v1+v2, with padding
// files) torrents made by libtorrent.
func TestLibtorrentCreatedInterop(t *testing.T) {
	dir := t.TempDir()
	_, folder := makeContent(t, dir)
	for _, mode := range []string{"v1", "hybrid"} {
		out := filepath.Join(dir, mode+".torrent")
		runLT(t, nil, "create", folder, out, mode)
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Parse(data)
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		want := [][]string{{"http://127.0.0.1:1/announce"}, {"udp://127.0.0.1:2"}}
		if !reflect.DeepEqual(m.Trackers(), want) || !reflect.DeepEqual(m.Nodes, []Node{{"127.0.0.1", 6881}}) {
			t.Fatalf("%s: trackers %q nodes %v", mode, m.Trackers(), m.Nodes)
		}
		checkPieces(t, &m.Info, dir)
		compareWithLT(t, out, m)
		checkRoundTrip(t, data, m)
		// A hybrid torrent aligns its files with BEP 47 pad files.
		if pads := len(m.Info.Files) - len(m.Info.VisibleFiles()); (mode == "hybrid") != (pads > 0) {
			t.Fatalf("%s: %d pad files", mode, pads)
		}
	}
}

// TestLibtorrentReadsOurs writes a torrent with New and Encode and checks
// that libtorrent reads the same; and that libtorrent parses our magnet
// link as we wrote it.
func TestLibtorrentReadsOurs(t *testing.T) {
	dir := t.TempDir()
	_, folder := makeContent(t, dir)
	info := &Info{Name: "folder", PieceLength: 16384, MultiFile: true, Private: true}
	var data []byte
	for _, p := range [][]string{{"sub", "deep", "a.bin"}, {"empty"}, {"é ü.txt"}, {"z.dat"}} {
		b, err := os.ReadFile(filepath.Join(append([]string{folder}, p...)...))
		if err != nil {
			t.Fatal(err)
		}
		info.Files = append(info.Files, File{Path: p, Length: int64(len(b))})
		data = append(data, b...)
	}
	for off := 0; off < len(data); off += 16384 {
		h := sha1.Sum(data[off:min(off+16384, len(data))])
		info.Pieces = append(info.Pieces, h[:]...)
	}
	m, err := New(info)
	if err != nil {
		t.Fatal(err)
	}
	m.AnnounceList = [][]string{{"http://127.0.0.1:1/a", "http://127.0.0.1:1/b"}, {"udp://127.0.0.1:2"}}
	m.Announce = "http://127.0.0.1:1/a"
	m.Nodes = []Node{{"127.0.0.1", 6881}, {"router.invalid", 1}}
	m.Comment = "ours"
	m.CreatedBy = "swarmdrop test"
	m.CreationDate = 1700000000
	enc, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "ours.torrent")
	if err := os.WriteFile(out, enc, 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := Parse(enc)
	if err != nil {
		t.Fatal(err)
	}
	checkPieces(t, &back.Info, dir)
	compareWithLT(t, out, back)

	mg := back.Magnet()
	mg.Name = "a name & more + é"
	mg.Peers = []string{"127.0.0.1:6881"}
	var got struct {
		InfoHash string   `json:"info_hash"`
		Name     string   `json:"name"`
		Trackers []string `json:"trackers"`
		Peers    []string `json:"peers"`
	}
	runLT(t, &got, "magnet", mg.String())
	if got.InfoHash != m.InfoHash.String() || got.Name != mg.Name || !reflect.DeepEqual(got.Trackers, mg.Trackers) ||
		!reflect.DeepEqual(got.Peers, mg.Peers) {
		t.Fatalf("libtorrent parsed %s as %+v", mg, got)
	}
}

// checkRoundTrip encodes m and parses it again: same info hash and fields.
func checkRoundTrip(t *testing.T, data []byte, m *MetaInfo) {
	t.Helper()
	enc, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(enc)
	if err != nil {
		t.Fatal(err)
	}
	if again.InfoHash != m.InfoHash || !reflect.DeepEqual(again, m) {
		t.Fatalf("round trip changed the torrent:\n%+v\n%+v", m, again)
	}
	if len(enc) > len(data) {
		t.Fatalf("re-encoded torrent grew from %d to %d bytes", len(data), len(enc))
	}
}
