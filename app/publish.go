package app

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/swarmdrop/swarmdrop/engine"
	"github.com/swarmdrop/swarmdrop/engine/dht"
	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/publish"
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

// publishTimeouts bound the DHT work of a publish: the lookup of the
// version the DHT holds, and each put.
const (
	publishLookup = 30 * time.Second
	publishPut    = 60 * time.Second
	publishRetry  = 5 * time.Second
)

// runPublish is `swarmdrop publish`.
func runPublish(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("publish", stdout)
	keyFlag := fs.String("key", "", "the publication's key `FILE` (made there if missing; default: one key per publication in the state folder). Copy the file to publish from another machine")
	saltFlag := fs.String("salt", "", "`TEXT` telling apart the publications of one key (default: the name of PATH, kept between versions)")
	nodesFlag := fs.String("nodes", "", "DHT contacts, a `LIST` \"host:port, host:port\": bootstrap contacts and the torrent's nodes (default: the settings' contacts)")
	port := fs.Int("port", -1, "TCP and UDP listening port `N` (0: any free port; default: the settings' port)")
	bind := fs.String("bind", "", "listening address `ADDR` (default: all)")
	noUPnP := fs.Bool("no-upnp", false, "do not ask the router to forward the port")
	every := fs.Duration("republish-every", dht.ItemRepublish, "put the item again every `DURATION`")
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
	if *every < time.Minute {
		return usagef("--republish-every: at least 1m")
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
	rec, key, err := loadPublication(paths.StateDir, path, *keyFlag, *saltFlag)
	if err != nil {
		return err
	}
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
	recFile, _ := publish.RecordFiles(paths.StateDir, path)
	err = publishVersion(ctx, e, rec, recFile, key, nodes, *every, stdout, stderr)
	cancel()
	if rerr := <-runErr; err == nil && rerr != nil {
		err = rerr
	}
	return err
}

// loadPublication returns the record of the publication of path (a new
// one for a first version) and its key, applying the --key and --salt
// flags.
func loadPublication(stateDir, path, keyFlag, saltFlag string) (*publish.Record, ed25519.PrivateKey, error) {
	recFile, defKey := publish.RecordFiles(stateDir, path)
	rec, err := publish.LoadRecord(recFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		rec = &publish.Record{Path: path, KeyFile: defKey}
	case err != nil:
		return nil, nil, fmt.Errorf("%w (remove it to publish %s anew)", err, path)
	}
	if keyFlag != "" {
		if rec.KeyFile, err = filepath.Abs(keyFlag); err != nil {
			return nil, nil, err
		}
	}
	key, err := publish.LoadOrNewKey(rec.KeyFile)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case saltFlag != "":
		rec.Salt = []byte(saltFlag)
	case len(rec.Salt) == 0:
		name := filepath.Base(path)
		if len(name) > metainfo.MaxSaltLen {
			name = name[:metainfo.MaxSaltLen]
		}
		rec.Salt = []byte(name)
	}
	return rec, key, nil
}

// publishVersion makes and seeds the torrent of path, puts it as the next
// version of the publication (or again as the current one, when nothing
// changed), records it in recFile, prints the link, and keeps the item
// alive until ctx ends.
func publishVersion(ctx context.Context, e *engine.Engine, rec *publish.Record, recFile string, key ed25519.PrivateKey,
	nodes []metainfo.Node, every time.Duration, stdout, stderr io.Writer) error {
	req := e.Create(engine.CreateRequest{Paths: []string{rec.Path}, PieceLength: rec.PieceLength, Nodes: joinNodes(nodes)})
	created, err := waitCreatedEvent(ctx, e, req)
	if err != nil {
		return err
	}
	mi, err := metainfo.Parse(created.Torrent)
	if err != nil {
		return err
	}
	link := publish.Link(key, rec.Salt, mi.Info.Name)
	seq := nextSeq(ctx, e, rec, link, mi.InfoHash, stderr)
	it, err := krpc.SignItem(key, rec.Salt, seq, krpc.InfoHashValue(mi.InfoHash))
	if err != nil {
		return err
	}
	rec.Seq, rec.InfoHash, rec.PieceLength = seq, mi.InfoHash.String(), mi.Info.PieceLength
	if err := rec.Save(recFile); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "version %d of %s: info hash %s, %d pieces of %s\n", seq, printable.String(mi.Info.Name),
		mi.InfoHash, mi.Info.NumPieces(), humanBytes(mi.Info.PieceLength))
	fmt.Fprintf(stdout, "link %s\n", printable.String(link.String()))
	stored := false
	e.KeepItemAlive(ctx, it, 0, every, publishRetry, publishPut, func(res dht.PutResult, err error) {
		switch {
		case err != nil:
			warnf(stderr, "version %d not stored in the DHT yet (retrying): %v", seq, err)
		case res.Newer.V != nil:
			warnf(stderr, "the DHT holds version %d, newer than %d: was this publication published from another machine?", res.Newer.Seq, seq)
		case !stored:
			stored = true
			fmt.Fprintf(stdout, "version %d stored on %d DHT nodes; seeding until interrupted\n", seq, res.Stored)
		}
	})
	return nil
}

// nextSeq returns the sequence number of the version with info hash ih:
// the recorded one when the torrent did not change, else one more than
// the highest of the record's and the DHT's (the key may have published
// from another machine). The DHT is asked for at most publishLookup.
func nextSeq(ctx context.Context, e *engine.Engine, rec *publish.Record, link *metainfo.MutableMagnet, ih metainfo.Hash, stderr io.Writer) int64 {
	top, topIH := rec.Seq, rec.InfoHash
	lctx, cancel := context.WithTimeout(ctx, publishLookup)
	defer cancel()
	for {
		v, _, err := e.LatestVersion(lctx, link, rec.Seq)
		if err == nil {
			top, topIH = v.Seq, v.InfoHash.String()
			break
		}
		if errors.Is(err, dht.ErrItemNotFound) || lctx.Err() != nil {
			break
		}
		select { // the DHT is starting: no node to ask yet
		case <-lctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
	if topIH == ih.String() && top > 0 {
		return top
	}
	return top + 1
}

// waitCreatedEvent waits for the end of torrent creation request id.
func waitCreatedEvent(ctx context.Context, e *engine.Engine, id int) (engine.Created, error) {
	for {
		select {
		case <-ctx.Done():
			return engine.Created{}, errors.New("interrupted before the torrent was made")
		case ev := <-e.Events():
			switch ev := ev.(type) {
			case engine.Created:
				if ev.Request == id {
					return ev, nil
				}
			case engine.CreateFailed:
				if ev.Request == id {
					return engine.Created{}, ev.Err
				}
			}
		}
	}
}

// joinNodes writes nodes as "host:port, host:port".
func joinNodes(nodes []metainfo.Node) string {
	return strings.Join(nodeStrings(nodes), ", ")
}
