// Command swarmdrop is a desktop BitTorrent client built around the
// trackerless system (the Mainline DHT). With no arguments, or with
// .torrent files and magnet links, it opens the window; otherwise it runs
// one of its subcommands (see app.Main).
//
// Built with -tags nogui it has no window (and needs no cgo): the
// subcommands only, for servers, routers and benchmarks.

//go:build !nogui

package main

import (
	"os"

	"github.com/swarmdrop/swarmdrop/app"
	"github.com/swarmdrop/swarmdrop/internal/fynelocale"
	"github.com/swarmdrop/swarmdrop/ui"
)

func main() {
	restoreLocale()
	os.Exit(app.Main(os.Args[1:], ui.Run))
}

// restoreLocale puts back the locale variable that fynelocale's init hid
// from Fyne (see that package).
func restoreLocale() { fynelocale.Restore() }
