package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/swarmdrop/swarmdrop/scripts/bench/internal/benchkit"
)

// bench is the shared setup: the swarmdrop binary, libtorrent's driver,
// the cached content and a work folder removed at the end.
type bench struct {
	root, cache, work string
	bin, ltpeer       string
	contents          map[string]content // made so far, by file name
}

// newBench builds swarmdrop and makes a fresh work folder.
func newBench(ctx context.Context) (*bench, error) {
	root, err := benchkit.ModuleRoot()
	if err != nil {
		return nil, err
	}
	cache, err := benchkit.CacheDir()
	if err != nil {
		return nil, err
	}
	b := &bench{root: root, cache: cache, ltpeer: benchkit.LTPeer(root), contents: map[string]content{}}
	if b.bin, err = benchkit.BuildSwarmdrop(ctx, root, cache); err != nil {
		return nil, err
	}
	if b.work, err = os.MkdirTemp("", "swarmdrop-bench-swarm-"); err != nil {
		return nil, err
	}
	// Namespaced processes reach it through the same file system.
	if err := os.Chmod(b.work, 0o755); err != nil {
		return nil, err
	}
	return b, nil
}

// content is one case's file and torrent.
type content struct {
	dir     string // the folder holding the file (what seeders seed)
	name    string // the file name, also the torrent's name
	size    int64
	pieces  int
	piece   int64 // piece length
	torrent string
}

// makeContent makes sure the cache holds name with size random bytes,
// reads it into the page cache and makes its torrent with pieceLength
// (once per file name).
func (b *bench) makeContent(ctx context.Context, name string, size, pieceLength int64) (content, error) {
	if c, ok := b.contents[name]; ok {
		return c, readAll(filepath.Join(b.cache, name))
	}
	path := filepath.Join(b.cache, name)
	if fi, err := os.Stat(path); err != nil || fi.Size() != size {
		fmt.Printf("  making %s (once)\n", path)
		if err := writeRandom(path, size); err != nil {
			return content{}, err
		}
	}
	if err := readAll(path); err != nil {
		return content{}, err
	}
	c := content{
		dir: b.cache, name: name, size: size, piece: pieceLength,
		pieces:  int((size + pieceLength - 1) / pieceLength),
		torrent: filepath.Join(b.work, name+".torrent"),
	}
	p, err := benchkit.Start("swarmdrop create", nil, b.bin, "create", "--quiet", "--nodes", "127.0.0.1:6881",
		"--piece-length", fmt.Sprint(pieceLength), "-o", c.torrent, path)
	if err != nil {
		return content{}, err
	}
	if _, err := p.Exit(ctx, 2*time.Minute); err != nil {
		return content{}, fmt.Errorf("creating the torrent of %s: %w", name, err)
	}
	b.contents[name] = c
	return c, nil
}

// writeRandom writes n random bytes to path through a temporary file.
func writeRandom(path string, n int64) error {
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return err
	}
	if _, err := io.CopyN(f, rand.Reader, n); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

// readAll reads path once so that seeders find it in the page cache.
func readAll(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.Copy(io.Discard, f); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return nil
}

// runDir makes a fresh folder for one run's downloads and XDG folders.
func (b *bench) runDir(tag string) (string, error) {
	d, err := os.MkdirTemp(b.work, tag+"-")
	if err != nil {
		return "", err
	}
	return d, os.Chmod(d, 0o755)
}
