package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/internal/atomicfile"
)

// DefaultBootstrap are the DHT routers used when the user has set none
// (reachable as of 2026; BEP 5 asks clients not to hard-code
// router.bittorrent.com).
const DefaultBootstrap = "dht.libtorrent.org:25401, dht.transmissionbt.com:6881, router.bt.ouinet.work:6881"

// Settings are the user's choices, saved as JSON in the config folder.
type Settings struct {
	// Bootstrap holds the DHT contacts in the settings form
	// "host:port, host:port".
	Bootstrap string `json:"bootstrap"`
	// DownloadDir is where new downloads go.
	DownloadDir string `json:"download_dir"`
	// Port is the TCP and UDP listening port; chosen at random in
	// 49152-65535 on first run and kept.
	Port int `json:"port"`
	// UPnP turns port forwarding on the router on or off.
	UPnP bool `json:"upnp"`
	// UTP turns uTP peer connections (BEP 29, over the UDP port) on or
	// off; off leaves TCP only, for networks where UDP is broken.
	UTP bool `json:"utp"`
	// LSD turns local peer discovery (BEP 14: multicast announces of the
	// torrents that are not private to the LAN) on or off; on by default,
	// also for files written before it existed.
	LSD bool `json:"lsd"`
	// MaxDownloadRate and MaxUploadRate are in bytes per second; 0 means
	// no limit.
	MaxDownloadRate int64 `json:"max_download_rate"`
	MaxUploadRate   int64 `json:"max_upload_rate"`
	// MaxConnections bounds peer connections over all torrents.
	MaxConnections int `json:"max_connections"`
	// KeepInTray keeps Swarmdrop running in the tray when the window closes.
	KeepInTray bool `json:"keep_in_tray"`
	// WindowWidth and WindowHeight remember the main window's size.
	WindowWidth  float32 `json:"window_width,omitempty"`
	WindowHeight float32 `json:"window_height,omitempty"`
	// Layout remembers how the user arranged the main window.
	Layout WindowLayout `json:"layout"`
	// SkipAddDialog adds torrents without showing the add dialog (its
	// "don't ask again"; Settings brings the dialog back).
	SkipAddDialog bool `json:"skip_add_dialog"`
	// QuitWithoutAsking closes the window without asking, even with
	// transfers under way (the close question's "don't ask again").
	QuitWithoutAsking bool `json:"quit_without_asking"`
	// RecentDirs are the download folders chosen last, the latest first.
	RecentDirs []string `json:"recent_dirs,omitempty"`
}

// WindowLayout is how the user left the main window. The zero value is
// the default layout.
type WindowLayout struct {
	// SortBy is the key of the column the torrent list is sorted by, ""
	// for the order added; SortDesc reverses it.
	SortBy   string `json:"sort_by,omitempty"`
	SortDesc bool   `json:"sort_desc,omitempty"`
	// Columns are the widths the user gave the list's columns, by key.
	Columns map[string]float32 `json:"columns,omitempty"`
	// Split is the share of the window's height the list takes above the
	// details, 0 for the default.
	Split float64 `json:"split,omitempty"`
}

// maxRecentDirs bounds Settings.RecentDirs.
const maxRecentDirs = 8

// AddRecentDir puts dir first in the recent download folders, once.
func (s *Settings) AddRecentDir(dir string) {
	out := []string{dir}
	for _, d := range s.RecentDirs {
		if d != dir && len(out) < maxRecentDirs {
			out = append(out, d)
		}
	}
	s.RecentDirs = out
}

// DefaultSettings returns the settings of a new install, with a fresh
// random port.
func DefaultSettings(p Paths) Settings {
	return Settings{
		Bootstrap:      DefaultBootstrap,
		DownloadDir:    p.Downloads,
		Port:           randomPort(),
		UPnP:           true,
		UTP:            true,
		LSD:            true,
		MaxConnections: 200,
	}
}

// randomPort picks a port in the dynamic range 49152-65535.
func randomPort() int { return 49152 + rand.IntN(65536-49152) }

// Validate reports the first problem in s, naming the field.
func (s Settings) Validate() error {
	if _, err := metainfo.ParseNodes(s.Bootstrap); err != nil {
		return fmt.Errorf("bootstrap contacts: %w", err)
	}
	if s.Port < 0 || s.Port > 65535 {
		return fmt.Errorf("port %d is outside 0-65535", s.Port)
	}
	if s.DownloadDir == "" {
		return errors.New("download folder is empty")
	}
	if s.MaxDownloadRate < 0 || s.MaxUploadRate < 0 {
		return errors.New("rate limits cannot be negative")
	}
	if s.MaxConnections < 0 {
		return errors.New("maximum connections cannot be negative")
	}
	return nil
}

// Contacts returns the bootstrap contacts parsed; Validate has checked them.
func (s Settings) Contacts() []metainfo.Node {
	n, _ := metainfo.ParseNodes(s.Bootstrap)
	return n
}

// LoadSettings reads the settings file. A missing file gives defaults,
// which are saved so that the random port is kept.
//
// A damaged file keeps every field that can still be read; the others
// fall back to the safe side for network exposure (see parseSettings:
// UPnP and local peer discovery off, no public routers in place of the
// user's contacts). The
// damaged file is moved aside (settings.json.broken-TIME) and the
// recovered settings saved; the returned error is then a
// *BrokenSettings saying what was kept and what was reset, and the
// returned settings are usable. A file that cannot be read at all is left
// where it is and the safe defaults are used for this run.
func LoadSettings(p Paths) (Settings, error) {
	def := DefaultSettings(p)
	data, err := os.ReadFile(p.SettingsFile)
	if errors.Is(err, fs.ErrNotExist) {
		return def, SaveSettings(p, def)
	}
	if err != nil {
		s := safeDefaults(def)
		return s, fmt.Errorf("reading settings: %w; for this run UPnP and local peer discovery are off and no bootstrap contacts are used", err)
	}
	s, broken := parseSettings(data, def)
	if broken == nil {
		return s, nil
	}
	broken.File = p.SettingsFile
	aside, err := moveAside(p.SettingsFile)
	if err != nil {
		broken.KeepErr = err
		return s, broken
	}
	broken.Aside = aside
	if err := SaveSettings(p, s); err != nil {
		broken.KeepErr = err
	}
	return s, broken
}

// moveAside renames the damaged file to FILE.broken-TIME (numbered when
// that exists already) and returns the new name.
func moveAside(file string) (string, error) {
	base := fmt.Sprintf("%s.broken-%s", file, time.Now().Format("20060102-150405"))
	aside := base
	for n := 2; ; n++ {
		if _, err := os.Lstat(aside); errors.Is(err, fs.ErrNotExist) {
			break
		}
		aside = fmt.Sprintf("%s.%d", base, n)
	}
	if err := os.Rename(file, aside); err != nil {
		return "", fmt.Errorf("moving the damaged file aside: %w", err)
	}
	return aside, nil
}

// SaveSettings writes s atomically to the settings file.
func SaveSettings(p Paths, s Settings) error {
	if err := s.Validate(); err != nil {
		return fmt.Errorf("not saving settings: %w", err)
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p.SettingsFile), 0o700); err != nil {
		return fmt.Errorf("saving settings: %w", err)
	}
	return atomicfile.Write(p.SettingsFile, append(data, '\n'), 0o600)
}
