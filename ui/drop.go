package ui

import (
	"path/filepath"
	"strings"
)

// dropPlan is what to do with items dropped on the window or handed over.
type dropPlan struct {
	Torrents []string // .torrent files to add
	Magnets  []string // magnet links to add
	Create   []string // files and folders to make a torrent of
	// AskSplit is set when Create holds several top-level items: the user
	// chooses one torrent for all or one per item.
	AskSplit bool
}

// classifyDrop sorts dropped paths (or command-line arguments): magnet
// links and .torrent files are added, anything else is published through
// the create dialog. It looks only at the names.
func classifyDrop(items []string) dropPlan {
	var p dropPlan
	for _, it := range items {
		switch {
		case strings.TrimSpace(it) == "":
		case strings.HasPrefix(strings.ToLower(it), "magnet:"):
			p.Magnets = append(p.Magnets, it)
		case strings.EqualFold(filepath.Ext(it), ".torrent"):
			p.Torrents = append(p.Torrents, it)
		default:
			p.Create = append(p.Create, it)
		}
	}
	p.AskSplit = len(p.Create) > 1
	return p
}
