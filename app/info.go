package app

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/internal/printable"
)

func init() {
	register(command{name: "info", usage: "info [--json] FILE.torrent|MAGNET|UPDATABLE-LINK",
		summary: "Prints what a .torrent file or magnet link holds.", run: runInfo})
}

// infoMaxFiles is how many files `swarmdrop info` lists without --json.
const infoMaxFiles = 50

// infoFile is one file in the --json output of `swarmdrop info`.
type infoFile struct {
	Path   string `json:"path"` // the safe relative path, with "/"
	Length int64  `json:"length"`
	Offset int64  `json:"offset"`
}

// infoOutput is the --json object of `swarmdrop info`. Source is
// "torrent", "magnet" or "updatable" (a BEP 46 link: a public key and a
// salt, no info hash); a link fills only the fields it carries.
type infoOutput struct {
	Source       string     `json:"source"`
	Name         string     `json:"name"`
	InfoHash     string     `json:"info_hash"`
	PublicKey    string     `json:"public_key,omitempty"` // updatable links only, hex
	Salt         string     `json:"salt,omitempty"`       // updatable links only, hex
	TotalLength  int64      `json:"total_length,omitempty"`
	PieceLength  int64      `json:"piece_length,omitempty"`
	Pieces       int        `json:"pieces,omitempty"`
	Private      *bool      `json:"private,omitempty"` // torrents only
	Files        []infoFile `json:"files,omitempty"`
	Trackers     [][]string `json:"trackers"`
	Nodes        []string   `json:"nodes,omitempty"`
	Peers        []string   `json:"peers,omitempty"`
	WebSeeds     []string   `json:"web_seeds,omitempty"`
	Comment      string     `json:"comment,omitempty"`
	CreatedBy    string     `json:"created_by,omitempty"`
	CreationDate int64      `json:"creation_date,omitempty"`
	Magnet       string     `json:"magnet"`
}

// runInfo is `swarmdrop info`: what a .torrent file or magnet link holds.
func runInfo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("info", stdout)
	jsonOut := fs.Bool("json", false, "print one JSON object")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: swarmdrop info [--json] FILE.torrent|MAGNET")
	}
	out, err := describe(pos[0])
	if err != nil {
		return err
	}
	if *jsonOut {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false) // keep the & of the magnet link readable
		if err := enc.Encode(out); err != nil {
			return err
		}
		_, err = stdout.Write(printable.JSON(b.Bytes()))
		return err
	}
	_, err = io.WriteString(stdout, infoText(out))
	return err
}

// describe reads a magnet link or a .torrent file into an infoOutput.
func describe(target string) (*infoOutput, error) {
	if len(target) >= 7 && strings.EqualFold(target[:7], "magnet:") {
		m, err := metainfo.ParseMagnet(target)
		if err != nil {
			if u, uerr := metainfo.ParseMutableMagnet(target); uerr == nil {
				return &infoOutput{Source: "updatable", Name: u.Name, PublicKey: hex.EncodeToString(u.PublicKey[:]),
					Salt: hex.EncodeToString(u.Salt), Trackers: [][]string{}, Peers: u.Peers, Magnet: u.String()}, nil
			}
			return nil, err
		}
		out := &infoOutput{Source: "magnet", Name: m.Name, InfoHash: m.InfoHash.String(),
			Trackers: [][]string{}, Peers: m.Peers, Magnet: m.String()}
		if len(m.Trackers) > 0 {
			out.Trackers = [][]string{m.Trackers}
		}
		return out, nil
	}
	m, err := readTorrentFile(target)
	if err != nil {
		return nil, err
	}
	paths, err := m.Info.SafePaths()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", target, err)
	}
	out := &infoOutput{
		Source: "torrent", Name: m.Info.Name, InfoHash: m.InfoHash.String(),
		TotalLength: m.Info.TotalLength, PieceLength: m.Info.PieceLength, Pieces: m.Info.NumPieces(),
		Private: &m.Info.Private, Trackers: m.Trackers(), WebSeeds: m.URLList,
		Comment: m.Comment, CreatedBy: m.CreatedBy, CreationDate: m.CreationDate,
		Magnet: m.Magnet().String(),
	}
	if out.Trackers == nil {
		out.Trackers = [][]string{}
	}
	for _, i := range m.Info.VisibleFiles() { // not pad files (BEP 47)
		f := m.Info.Files[i]
		out.Files = append(out.Files, infoFile{Path: filepath.ToSlash(paths[i]), Length: f.Length, Offset: f.Offset})
	}
	for _, n := range m.Nodes {
		out.Nodes = append(out.Nodes, n.String())
	}
	return out, nil
}

// readTorrentFile reads and parses a .torrent, refusing one over
// metainfo.MaxTorrentSize before reading it.
func readTorrentFile(path string) (*metainfo.MetaInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s: is a folder, not a .torrent file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, metainfo.MaxTorrentSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	m, err := metainfo.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// infoText formats out for a terminal, one "label: value" per line; each
// tracker tier has its own line.
func infoText(out *infoOutput) string {
	var b strings.Builder
	line := func(label, format string, a ...any) {
		fmt.Fprintf(&b, "%-12s%s\n", label+":", printable.String(fmt.Sprintf(format, a...)))
	}
	if out.Name != "" {
		line("name", "%s", out.Name)
	}
	if out.Source == "updatable" {
		line("updatable", "yes: the DHT tells which torrent is the current version (BEP 46)")
		line("public key", "%s", out.PublicKey)
		if out.Salt != "" {
			line("salt", "%s", out.Salt)
		}
	} else {
		line("info hash", "%s", out.InfoHash)
	}
	if out.Source == "torrent" {
		line("size", "%s (%d bytes)", humanBytes(out.TotalLength), out.TotalLength)
		line("pieces", "%d x %s", out.Pieces, humanBytes(out.PieceLength))
		if *out.Private {
			line("private", "yes (trackers only: no DHT, no peer exchange)")
		} else {
			line("private", "no")
		}
		line("files", "%d", len(out.Files))
		for i, f := range out.Files {
			if i == infoMaxFiles {
				fmt.Fprintf(&b, "  ... and %d more (see --json)\n", len(out.Files)-infoMaxFiles)
				break
			}
			fmt.Fprintf(&b, "  %10s  %s\n", humanBytes(f.Length), printable.String(f.Path))
		}
	}
	if len(out.Trackers) == 0 && out.Source != "updatable" {
		line("trackers", "none")
	}
	for i, tier := range out.Trackers {
		label := ""
		if i == 0 {
			label = "trackers:"
		}
		fmt.Fprintf(&b, "%-12s%s\n", label, printable.String(strings.Join(tier, ", ")))
	}
	if len(out.Nodes) > 0 {
		line("nodes", "%s", strings.Join(out.Nodes, ", "))
	}
	if len(out.Peers) > 0 {
		line("peers", "%s", strings.Join(out.Peers, ", "))
	}
	if len(out.WebSeeds) > 0 {
		line("web seeds", "%s", strings.Join(out.WebSeeds, "  "))
	}
	if out.Comment != "" {
		line("comment", "%s", out.Comment)
	}
	if out.CreatedBy != "" {
		line("created by", "%s", out.CreatedBy)
	}
	if out.CreationDate != 0 {
		line("created on", "%s", time.Unix(out.CreationDate, 0).UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	line("magnet", "%s", out.Magnet)
	return b.String()
}
