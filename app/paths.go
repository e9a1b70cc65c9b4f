package app

import (
	"os"
	"path/filepath"

	"github.com/adrg/xdg"
)

// Paths are the folders and files Swarmdrop keeps between runs, from the
// XDG base directories (so tests point them at temporary folders with the
// XDG_* variables).
type Paths struct {
	// SettingsFile is $XDG_CONFIG_HOME/swarmdrop/settings.json.
	SettingsFile string
	// StateDir is $XDG_STATE_HOME/swarmdrop: routing table, torrent list,
	// resume data.
	StateDir string
	// Socket is $XDG_RUNTIME_DIR/swarmdrop.sock, the single-instance socket.
	Socket string
	// Downloads is the user's download folder, the default for settings.
	Downloads string
}

// CurrentPaths reads the XDG variables now (not at program start, so a
// test's t.Setenv takes effect).
func CurrentPaths() Paths {
	xdg.Reload()
	runtime := xdg.RuntimeDir
	if runtime == "" {
		runtime = os.TempDir()
	}
	dl := xdg.UserDirs.Download
	if dl == "" {
		dl = filepath.Join(xdg.Home, "Downloads")
	}
	return Paths{
		SettingsFile: filepath.Join(xdg.ConfigHome, "swarmdrop", "settings.json"),
		StateDir:     filepath.Join(xdg.StateHome, "swarmdrop"),
		Socket:       filepath.Join(runtime, "swarmdrop.sock"),
		Downloads:    dl,
	}
}
