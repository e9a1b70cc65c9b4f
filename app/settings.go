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
}

// DefaultSettings returns the settings of a new install, with a fresh
// random port.
func DefaultSettings(p Paths) Settings {
	return Settings{
		Bootstrap:      DefaultBootstrap,
		DownloadDir:    p.Downloads,
		Port:           49152 + rand.IntN(65536-49152),
		UPnP:           true,
		MaxConnections: 200,
	}
}

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
// which are saved so that the random port is kept. A corrupt or invalid
// file is moved aside (settings.json.broken-TIME) and replaced by defaults;
// the returned error then says so and where the old file went, and the
// returned settings are usable.
func LoadSettings(p Paths) (Settings, error) {
	def := DefaultSettings(p)
	data, err := os.ReadFile(p.SettingsFile)
	if errors.Is(err, fs.ErrNotExist) {
		return def, SaveSettings(p, def)
	}
	if err != nil {
		return def, fmt.Errorf("reading settings: %w", err)
	}
	s, err := parseSettings(data, def)
	if err == nil {
		return s, nil
	}
	aside := fmt.Sprintf("%s.broken-%s", p.SettingsFile, time.Now().Format("20060102-150405"))
	if rerr := os.Rename(p.SettingsFile, aside); rerr != nil {
		return def, fmt.Errorf("settings file %s is broken (%v) and could not be moved aside: %w", p.SettingsFile, err, rerr)
	}
	if serr := SaveSettings(p, def); serr != nil {
		return def, serr
	}
	return def, fmt.Errorf("settings file was broken (%v); defaults restored, old file kept as %s", err, aside)
}

// parseSettings decodes a settings file over the defaults def (fields it
// lacks keep their default) and validates the result.
func parseSettings(data []byte, def Settings) (Settings, error) {
	s := def
	if err := json.Unmarshal(data, &s); err != nil {
		return def, err
	}
	if err := s.Validate(); err != nil {
		return def, err
	}
	return s, nil
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
