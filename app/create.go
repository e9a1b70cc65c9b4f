package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/swarmdrop/swarmdrop/engine"
	"github.com/swarmdrop/swarmdrop/engine/dht"
	"github.com/swarmdrop/swarmdrop/engine/maker"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/internal/atomicfile"
	"github.com/swarmdrop/swarmdrop/internal/printable"
)

func init() {
	register(command{
		name:    "create",
		usage:   "create [--nodes LIST] [--tracker URL]... [--piece-length N] [--name NAME] [--private] [--comment TEXT] [-o FILE] [--force] PATH...",
		summary: "Makes a .torrent of files and folders, trackerless unless --tracker is given,\nand prints its info hash and magnet link.",
		run:     runCreate,
	})
}

// runCreate is `swarmdrop create`: it makes a torrent of files and
// folders, trackerless unless --tracker is given, writes it and prints
// its info hash and magnet link.
func runCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := newFlagSet("create", stdout)
	nodesFlag := flags.String("nodes", "", "contacts for the torrent's nodes key, a `LIST` \"host:port, host:port\" (default: the settings' contacts and good nodes of the saved routing table)")
	var trackers stringList
	flags.Var(&trackers, "tracker", "tracker `URL` (repeatable); makes a tracked torrent")
	pieceFlag := flags.String("piece-length", "", "piece length in bytes (`N`, or with K or M), a power of two from 16K to 16M (default: about 1,000-2,000 pieces)")
	name := flags.String("name", "", "the torrent's `NAME` (default: the file or folder name)")
	private := flags.Bool("private", false, "private torrent (BEP 27): trackers only, no DHT or PEX")
	comment := flags.String("comment", "", "`TEXT` stored as the torrent's comment")
	out := flags.String("o", "", "output `FILE` (default: NAME.torrent in the current folder)")
	force := flags.Bool("force", false, "overwrite the output file")
	quiet := flags.Bool("quiet", false, "no progress on standard error")
	paths, err := parseInterleaved(flags, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return usagef("usage: swarmdrop create [flags] PATH...")
	}
	var pl int64
	if *pieceFlag != "" {
		if pl, err = parseSize(*pieceFlag); err != nil {
			return usagef("--piece-length: %v", err)
		}
		if err := maker.ValidPieceLength(pl); err != nil {
			return usagef("--piece-length: %v", err)
		}
	}
	for _, t := range trackers {
		if !strings.Contains(t, "://") {
			return usagef("--tracker %q: not a URL", t)
		}
	}
	nodes, err := createNodes(*nodesFlag, len(trackers) > 0 || *private, stderr)
	if err != nil {
		return usagef("--nodes: %v", err)
	}
	for _, n := range nodes {
		if n.Local() {
			warnf(stderr, "contact %s only works on this machine or its local network", n)
		}
	}
	if len(trackers) == 0 && len(nodes) == 0 && !*private {
		warnf(stderr, "no DHT contacts: downloaders need their own to find this torrent")
	}
	plan, err := maker.Scan(paths, *name)
	if err != nil {
		return err
	}
	dest := *out
	if dest == "" {
		dest = strings.ReplaceAll(plan.Name, string(filepath.Separator), "_") + ".torrent"
	}
	if !*force {
		if _, err := os.Stat(dest); err == nil {
			return fmt.Errorf("%s exists; use --force to overwrite it", dest)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("checking %s: %w", dest, err)
		}
	}
	start := time.Now()
	shown := printable.String(plan.Name)
	opt := maker.Options{
		PieceLength: pl, Nodes: nodes, Trackers: trackers, Private: *private, Comment: *comment,
		CreatedBy: "Swarmdrop " + engine.Version, CreationDate: time.Now(),
	}
	if !*quiet {
		opt.Progress = func(p maker.Progress) {
			if p.Total > 0 {
				fmt.Fprintf(stderr, "\rhashing %s: %3.0f%%", shown, 100*float64(p.Hashed)/float64(p.Total))
			}
		}
	}
	res, err := maker.MakePlan(ctx, plan, opt)
	if !*quiet {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return errors.New("cancelled; nothing written")
		}
		return err
	}
	data, err := res.MetaInfo.Encode()
	if err != nil {
		return err
	}
	if err := atomicfile.Write(dest, data, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", dest, err)
	}
	el := time.Since(start)
	fmt.Fprintf(stdout, "created %s: %s in %d pieces of %s (%.2f s)\n", printable.String(dest), humanBytes(plan.Total),
		res.MetaInfo.Info.NumPieces(), humanBytes(res.MetaInfo.Info.PieceLength), el.Seconds())
	fmt.Fprintf(stdout, "info hash %s\n", res.MetaInfo.InfoHash)
	fmt.Fprintf(stdout, "magnet %s\n", printable.String(res.MetaInfo.Magnet().String()))
	return nil
}

// createNodes returns the nodes for a new torrent: the flag's contacts
// when given; otherwise, for a trackerless torrent, the settings' contacts
// (a problem reading them is a warning on stderr) and up to 8 good nodes
// of the saved routing table.
func createNodes(flag string, tracked bool, stderr io.Writer) ([]metainfo.Node, error) {
	if flag != "" {
		return metainfo.ParseNodes(flag)
	}
	if tracked {
		return nil, nil
	}
	p := CurrentPaths()
	s, err := LoadSettings(p)
	if err != nil {
		warnf(stderr, "%v", err)
	}
	nodes := s.Contacts()
	for _, a := range dht.SavedContacts(filepath.Join(p.StateDir, "dht-table.dat"), 8) {
		nodes = metainfo.AppendNodes(nodes, metainfo.NodeOf(a))
	}
	return nodes, nil
}

// parseSize reads a byte count with an optional K, M or G suffix (powers
// of 1024).
func parseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	mult := int64(1)
	switch {
	case strings.HasSuffix(t, "K"):
		mult, t = 1<<10, t[:len(t)-1]
	case strings.HasSuffix(t, "M"):
		mult, t = 1<<20, t[:len(t)-1]
	case strings.HasSuffix(t, "G"):
		mult, t = 1<<30, t[:len(t)-1]
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	return n * mult, nil
}
