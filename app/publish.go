package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/swarmdrop/swarmdrop/engine"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/internal/printable"
)

func init() {
	register(command{
		name:  "publish",
		usage: "publish [--key FILE] [--salt TEXT] [--nodes LIST] [--port N] [--bind ADDR] [--no-upnp] PATH",
		summary: "Publishes a file or folder as an updatable torrent (BEP 46): makes the torrent,\n" +
			"seeds it, puts its info hash in the DHT under the publication's key, prints\n" +
			"the link to share (magnet:?xs=urn:btpk:...) and seeds until interrupted,\n" +
			"putting the item again every hour. Run it again on the same PATH after a\n" +
			"change to publish the next version: those who follow the link update to it.",
		run: runPublish,
	})
}

// runPublish is `swarmdrop publish`.
func runPublish(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("publish", stdout)
	keyFlag := fs.String("key", "", "the publication's key `FILE` (made there if missing; default: one key per publication in the state folder). Copy the file to publish from another machine")
	saltFlag := fs.String("salt", "", "`TEXT` telling apart the publications of one key (default: the name of PATH, kept between versions)")
	nodesFlag := fs.String("nodes", "", "DHT contacts, a `LIST` \"host:port, host:port\": bootstrap contacts and the torrent's nodes (default: the settings' contacts)")
	port := fs.Int("port", -1, "TCP and UDP listening port `N` (0: any free port; default: the settings' port)")
	bind := fs.String("bind", "", "listening address `ADDR` (default: all)")
	noUPnP := fs.Bool("no-upnp", false, "do not ask the router to forward the port")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: swarmdrop publish [flags] PATH")
	}
	if len(*saltFlag) > metainfo.MaxSaltLen {
		return usagef("--salt: %d bytes, at most %d", len(*saltFlag), metainfo.MaxSaltLen)
	}
	path, err := filepath.Abs(pos[0])
	if err != nil {
		return err
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("publishing: %w", err)
	}
	paths := CurrentPaths()
	settings, serr := LoadSettings(paths)
	if serr != nil {
		warnf(stderr, "%v", serr)
	}
	nodes, err := createNodes(*nodesFlag, false, io.Discard)
	if err != nil {
		return usagef("--nodes: %v", err)
	}
	extra, _ := metainfo.ParseNodes(*nodesFlag)
	if *port < 0 {
		*port = settings.Port
	}
	e, err := engine.New(engine.Config{
		StateDir: paths.StateDir, DownloadDir: settings.DownloadDir, Port: *port, Bind: *bind,
		Bootstrap: append(nodeStrings(settings.Contacts()), nodeStrings(extra)...),
		NoUPnP:    *noUPnP || !settings.UPnP, MaxConnections: settings.MaxConnections,
		MaxDownloadRate: settings.MaxDownloadRate, MaxUploadRate: settings.MaxUploadRate,
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- e.Run(ctx) }()
	req := e.Publish(engine.PublishRequest{Path: path, KeyFile: *keyFlag, Salt: []byte(*saltFlag), Nodes: joinNodes(nodes)})
	err = watchPublication(ctx, e, req, stdout, stderr)
	cancel()
	if rerr := <-runErr; err == nil && rerr != nil {
		err = rerr
	}
	return err
}

// watchPublication prints the version made by the Publish request req
// and its link, then what becomes of its puts in the DHT, until ctx ends.
func watchPublication(ctx context.Context, e *engine.Engine, req int, stdout, stderr io.Writer) error {
	var p engine.Published
	for p.Request != req {
		select {
		case <-ctx.Done():
			return errors.New("interrupted before the torrent was made")
		case ev := <-e.Events():
			switch ev := ev.(type) {
			case engine.Published:
				p = ev
			case engine.CreateFailed:
				if ev.Request == req {
					return ev.Err
				}
			}
		}
	}
	if mi, err := metainfo.Parse(p.Torrent); err == nil {
		fmt.Fprintf(stdout, "version %d of %s: info hash %s, %d pieces of %s\n", p.Version, printable.String(p.Name),
			p.InfoHash, mi.Info.NumPieces(), humanBytes(mi.Info.PieceLength))
	}
	fmt.Fprintf(stdout, "link %s\n", printable.String(p.Link))
	stored, lastErr := false, ""
	for {
		select {
		case <-ctx.Done():
			return nil
		case s := <-e.Snapshots():
			if s.ListenErr != nil {
				return fmt.Errorf("%w (choose another port with --port)", s.ListenErr)
			}
			for _, ps := range s.Publications {
				if ps.ID != p.Publication || !ps.Publisher {
					continue
				}
				if ps.Err != "" && ps.Err != lastErr {
					warnf(stderr, "version %d: %s (retrying)", ps.Version, ps.Err)
				}
				lastErr = ps.Err
				if ps.Stored > 0 && !stored {
					stored = true
					fmt.Fprintf(stdout, "version %d stored on %d DHT nodes; seeding until interrupted\n", ps.Version, ps.Stored)
				}
			}
		}
	}
}

// joinNodes writes nodes as "host:port, host:port".
func joinNodes(nodes []metainfo.Node) string {
	return strings.Join(nodeStrings(nodes), ", ")
}
