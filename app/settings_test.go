package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testPaths(t *testing.T) Paths {
	d := t.TempDir()
	return Paths{
		SettingsFile: filepath.Join(d, "config", "swarmdrop", "settings.json"),
		StateDir:     filepath.Join(d, "state", "swarmdrop"),
		Downloads:    filepath.Join(d, "Downloads"),
	}
}

func TestSettingsFirstRunKeepsPort(t *testing.T) {
	p := testPaths(t)
	s1, err := LoadSettings(p)
	if err != nil {
		t.Fatal(err)
	}
	if s1.Port < 49152 || s1.Port > 65535 {
		t.Fatalf("port %d not in 49152-65535", s1.Port)
	}
	s2, err := LoadSettings(p)
	if err != nil || s2 != s1 {
		t.Fatalf("second load %+v, %v; want %+v", s2, err, s1)
	}
}

func TestSettingsRoundTrip(t *testing.T) {
	p := testPaths(t)
	s := DefaultSettings(p)
	s.Bootstrap = "router.example.org:6881, 127.0.0.1:8080"
	s.MaxUploadRate = 1 << 20
	s.UPnP = false
	if err := SaveSettings(p, s); err != nil {
		t.Fatal(err)
	}
	got, err := LoadSettings(p)
	if err != nil || got != s {
		t.Fatalf("got %+v, %v", got, err)
	}
	if err := SaveSettings(p, Settings{Bootstrap: "nohost", DownloadDir: "/x"}); err == nil {
		t.Fatal("saved settings with a contact without a port")
	}
}

func TestSettingsCorruptKeptAside(t *testing.T) {
	for _, content := range []string{"{not json", `{"bootstrap": "a:0", "download_dir": "/x"}`} {
		p := testPaths(t)
		os.MkdirAll(filepath.Dir(p.SettingsFile), 0o700)
		os.WriteFile(p.SettingsFile, []byte(content), 0o600)
		s, err := LoadSettings(p)
		if err == nil || !strings.Contains(err.Error(), "broken") {
			t.Fatalf("%q: want an error saying the file was broken, got %v", content, err)
		}
		if s.Validate() != nil || s.Bootstrap != DefaultBootstrap {
			t.Fatalf("not defaults: %+v", s)
		}
		matches, _ := filepath.Glob(p.SettingsFile + ".broken-*")
		if len(matches) != 1 {
			t.Fatalf("broken file not kept aside: %v", matches)
		}
		if b, _ := os.ReadFile(matches[0]); string(b) != content {
			t.Fatalf("kept-aside content %q", b)
		}
	}
}
