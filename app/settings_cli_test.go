package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDamagedSettingsCLI: `swarmdrop download` with a settings file cut
// short inside its upnp value prints one warning line, runs with UPnP off
// (its --json lines say so; no --no-upnp given), and leaves the recovered
// settings, the user's contacts kept, next to the damaged file.
func TestDamagedSettingsCLI(t *testing.T) {
	src, tf, _ := makeTorrent(t, "damaged", []int64{40_000}, 15)
	cmd := swarmdropCmd(t, "download", "--json", "--no-dht", "--port", "0", "--bind", "127.0.0.1", "--dir", src, tf)
	file := filepath.Join(envValue(cmd.Env, "XDG_CONFIG_HOME"), "swarmdrop", "settings.json")
	damaged := `{"bootstrap": "10.1.2.3:6881, router.lan:7000", "download_dir": "` + src + `", "port": 0, "upnp": tr`
	if err := os.WriteFile(file, []byte(damaged), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runIn(t, "", cmd.Env, cmd.Args[1:]...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "swarmdrop: warning: the settings file was damaged") ||
		!strings.Contains(r.stderr, "UPnP (now off until you turn it back on)") {
		t.Fatalf("stderr %q: want one warning line saying UPnP is off", r.stderr)
	}
	for _, l := range jsonLines(t, r.stdout) {
		if l.UPnP != "off" {
			t.Fatalf("UPnP %q while the settings could not say it was on", l.UPnP)
		}
	}
	var saved map[string]any
	b, _ := os.ReadFile(file)
	if err := json.Unmarshal(b, &saved); err != nil || saved["upnp"] != false || saved["bootstrap"] != "10.1.2.3:6881, router.lan:7000" {
		t.Fatalf("recovered settings %s (%v)", b, err)
	}
	aside, _ := filepath.Glob(file + ".broken-*")
	if len(aside) != 1 {
		t.Fatalf("damaged file not kept aside: %v", aside)
	}
	if b, _ := os.ReadFile(aside[0]); string(b) != damaged {
		t.Fatalf("kept-aside content %q", b)
	}
}
