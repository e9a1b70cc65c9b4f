package ui

import (
	"strings"

	"github.com/swarmdrop/swarmdrop/engine"
)

// rowCompare orders torrents by a column.
func rowCompare(key string) func(a, b *engine.TorrentStatus) int {
	num := func(f func(t *engine.TorrentStatus) float64) func(a, b *engine.TorrentStatus) int {
		return func(a, b *engine.TorrentStatus) int {
			x, y := f(a), f(b)
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	}
	switch key {
	case "name":
		return func(a, b *engine.TorrentStatus) int {
			return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
		}
	case "size":
		return num(func(t *engine.TorrentStatus) float64 { return float64(t.Size) })
	case "progress":
		return num(func(t *engine.TorrentStatus) float64 { return t.Progress })
	case "state":
		return func(a, b *engine.TorrentStatus) int { return strings.Compare(viewOf(*a).State, viewOf(*b).State) }
	case "down":
		return num(func(t *engine.TorrentStatus) float64 { return t.RateDown })
	case "up":
		return num(func(t *engine.TorrentStatus) float64 { return t.RateUp })
	case "peers":
		return num(func(t *engine.TorrentStatus) float64 { return float64(t.Peers) })
	case "eta":
		// Unknown and finished last.
		return num(func(t *engine.TorrentStatus) float64 {
			if t.State != engine.StateDownloading || t.ETA <= 0 {
				return 1e18
			}
			return float64(t.ETA)
		})
	}
	return func(a, b *engine.TorrentStatus) int { return 0 }
}
