package app

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
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
	if err != nil || !reflect.DeepEqual(s2, s1) {
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
	if err != nil || !reflect.DeepEqual(got, s) {
		t.Fatalf("got %+v, %v", got, err)
	}
	if err := SaveSettings(p, Settings{Bootstrap: "nohost", DownloadDir: "/x"}); err == nil {
		t.Fatal("saved settings with a contact without a port")
	}
}

// userFile is a settings file in which the user chose to stay off UPnP
// and the public routers, with their own contacts.
var userFile = map[string]any{
	"bootstrap": "10.1.2.3:6881, router.lan:7000", "download_dir": "/data/torrents", "port": 51000,
	"upnp": false, "max_download_rate": 1000, "max_upload_rate": 2000, "max_connections": 50,
	"keep_in_tray": true, "window_width": 900, "window_height": 700,
}

// withField returns userFile as JSON with field set to raw JSON (or
// removed when raw is "").
func withField(t *testing.T, field, raw string) string {
	t.Helper()
	m := map[string]json.RawMessage{}
	for k, v := range userFile {
		b, _ := json.Marshal(v)
		m[k] = b
	}
	if raw == "" {
		delete(m, field)
	} else {
		m[field] = json.RawMessage(raw)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSettingsDamaged: a damaged settings file keeps what can be read;
// what cannot falls back to the safe side (UPnP off, never the public
// routers in place of the user's contacts); null and wrong types are
// errors; the damaged file is kept aside, the recovered settings are
// saved, and the message is one line saying what happened.
func TestSettingsDamaged(t *testing.T) {
	full := withField(t, "upnp", "true")
	trunc := full[:strings.Index(full, `"upnp"`)+len(`"upnp": t`)-1] // cut inside the upnp value
	type want struct {
		upnpReset bool
		upnp      bool
		bootstrap string // "" means no contacts
		problems  []string
		kept      []string
	}
	mine := "10.1.2.3:6881, router.lan:7000"
	cases := map[string]struct {
		file string
		want want
	}{
		"empty":            {"", want{upnpReset: true, problems: []string{"bootstrap", "upnp", "port", "download_dir"}}},
		"spaces":           {" \n ", want{upnpReset: true, problems: []string{"bootstrap", "upnp"}}},
		"null":             {"null", want{upnpReset: true, problems: []string{"bootstrap", "upnp"}}},
		"array":            {`["10.1.2.3:6881"]`, want{upnpReset: true, problems: []string{"bootstrap", "upnp"}}},
		"not json":         {"{not json", want{upnpReset: true, problems: []string{"bootstrap", "upnp"}}},
		"truncated":        {trunc, want{upnpReset: true, bootstrap: mine, problems: []string{"upnp"}, kept: []string{"bootstrap contacts"}}},
		"trailing":         {full + " garbage", want{upnp: true, bootstrap: mine, kept: []string{"UPnP", "bootstrap contacts"}}},
		"upnp null":        {withField(t, "upnp", "null"), want{upnpReset: true, bootstrap: mine, problems: []string{"upnp"}, kept: []string{"bootstrap contacts", "port"}}},
		"upnp string":      {withField(t, "upnp", `"true"`), want{upnpReset: true, bootstrap: mine, problems: []string{"upnp"}}},
		"upnp number":      {withField(t, "upnp", `1`), want{upnpReset: true, bootstrap: mine, problems: []string{"upnp"}}},
		"bootstrap null":   {withField(t, "bootstrap", "null"), want{problems: []string{"bootstrap"}, kept: []string{"UPnP"}}},
		"bootstrap number": {withField(t, "bootstrap", "5"), want{problems: []string{"bootstrap"}}},
		"bootstrap list":   {withField(t, "bootstrap", `["10.1.2.3:6881"]`), want{problems: []string{"bootstrap"}}},
		"bootstrap partly": {withField(t, "bootstrap", `"10.1.2.3:6881, nohost, 10.9.9.9:99999, [::1]:6881"`),
			want{bootstrap: "10.1.2.3:6881, [::1]:6881", problems: []string{"bootstrap"}}},
		"port string":      {withField(t, "port", `"51000"`), want{bootstrap: mine, problems: []string{"port"}}},
		"port fraction":    {withField(t, "port", `51000.5`), want{bootstrap: mine, problems: []string{"port"}}},
		"port range":       {withField(t, "port", `70000`), want{bootstrap: mine, problems: []string{"port"}}},
		"dir null":         {withField(t, "download_dir", `null`), want{bootstrap: mine, problems: []string{"download_dir"}}},
		"dir empty":        {withField(t, "download_dir", `""`), want{bootstrap: mine, problems: []string{"download_dir"}}},
		"rate negative":    {withField(t, "max_upload_rate", `-1`), want{bootstrap: mine, problems: []string{"max_upload_rate"}}},
		"rate bool":        {withField(t, "max_download_rate", `true`), want{bootstrap: mine, problems: []string{"max_download_rate"}}},
		"connections null": {withField(t, "max_connections", `null`), want{bootstrap: mine, problems: []string{"max_connections"}}},
		"connections huge": {withField(t, "max_connections", `1e30`), want{bootstrap: mine, problems: []string{"max_connections"}}},
		"tray string":      {withField(t, "keep_in_tray", `"no"`), want{bootstrap: mine, problems: []string{"keep_in_tray"}}},
		"width string":     {withField(t, "window_width", `"wide"`), want{bootstrap: mine, problems: []string{"window_width"}}},
		"height negative":  {withField(t, "window_height", `-5`), want{bootstrap: mine, problems: []string{"window_height"}}},
		"skip add string":  {withField(t, "skip_add_dialog", `"yes"`), want{bootstrap: mine, problems: []string{"skip_add_dialog"}}},
		"quit null":        {withField(t, "quit_without_asking", `null`), want{bootstrap: mine, problems: []string{"quit_without_asking"}}},
	}
	for name, c := range cases {
		p := testPaths(t)
		os.MkdirAll(filepath.Dir(p.SettingsFile), 0o700)
		os.WriteFile(p.SettingsFile, []byte(c.file), 0o600)
		s, err := LoadSettings(p)
		var b *BrokenSettings
		if !errors.As(err, &b) {
			t.Errorf("%s: want a *BrokenSettings, got %v", name, err)
			continue
		}
		if err := s.Validate(); err != nil {
			t.Errorf("%s: invalid settings %+v: %v", name, s, err)
		}
		if s.UPnP != c.want.upnp || b.UPnPReset != c.want.upnpReset {
			t.Errorf("%s: UPnP %v (reset %v), want %v (reset %v)", name, s.UPnP, b.UPnPReset, c.want.upnp, c.want.upnpReset)
		}
		if s.Bootstrap != c.want.bootstrap {
			t.Errorf("%s: contacts %q, want %q", name, s.Bootstrap, c.want.bootstrap)
		}
		var fields []string
		for _, pr := range b.Problems {
			fields = append(fields, pr.Field)
			if pr.Problem == "" || pr.Now == "" || pr.Label == "" {
				t.Errorf("%s: incomplete problem %+v", name, pr)
			}
		}
		for _, f := range c.want.problems {
			if !slices.Contains(fields, f) {
				t.Errorf("%s: %s not among the problems %v", name, f, fields)
			}
		}
		for _, k := range c.want.kept {
			if !slices.Contains(b.Kept, k) {
				t.Errorf("%s: %s not kept (kept %v)", name, k, b.Kept)
			}
		}
		msg := err.Error()
		if strings.ContainsAny(msg, "\n\r") || !strings.Contains(msg, b.Aside) || b.Aside == "" {
			t.Errorf("%s: message %q (aside %q)", name, msg, b.Aside)
		}
		if got, _ := os.ReadFile(b.Aside); string(got) != c.file {
			t.Errorf("%s: kept-aside content %q, want %q", name, got, c.file)
		}
		again, err := LoadSettings(p)
		if err != nil || !reflect.DeepEqual(again, s) {
			t.Errorf("%s: recovered settings not saved: reload %+v, %v; want %+v", name, again, err, s)
		}
	}
}

// TestSettingsReadable: fields a whole file lacks keep their defaults (an
// older version wrote it), field names match without regard to case, and
// unknown fields are ignored; none of these is damage.
func TestSettingsReadable(t *testing.T) {
	p := testPaths(t)
	os.MkdirAll(filepath.Dir(p.SettingsFile), 0o700)
	file := `{"Bootstrap": "10.1.2.3:6881", "UPNP": false, "download_dir": "/d", "future_option": {"x": [1, null]}, "port": 0}`
	os.WriteFile(p.SettingsFile, []byte(file), 0o600)
	s, err := LoadSettings(p)
	if err != nil {
		t.Fatalf("readable file refused: %v", err)
	}
	if s.Bootstrap != "10.1.2.3:6881" || s.UPnP || s.DownloadDir != "/d" || s.Port != 0 || s.MaxConnections != 200 || !s.LSD {
		t.Fatalf("read %+v", s)
	}
	if b, _ := os.ReadFile(p.SettingsFile); string(b) != file {
		t.Fatal("a readable file was rewritten")
	}
	if m, _ := filepath.Glob(p.SettingsFile + ".broken-*"); len(m) != 0 {
		t.Fatalf("a readable file was moved aside: %v", m)
	}
}

// TestSettingsUnreadable: a settings file that cannot be read at all (a
// folder here) is left in place, and the run uses UPnP and local peer
// discovery off and no contacts.
func TestSettingsUnreadable(t *testing.T) {
	p := testPaths(t)
	os.MkdirAll(p.SettingsFile, 0o700)
	s, err := LoadSettings(p)
	if err == nil || s.UPnP || s.LSD || s.Bootstrap != "" || s.Validate() != nil {
		t.Fatalf("got %+v, %v", s, err)
	}
	if fi, err := os.Stat(p.SettingsFile); err != nil || !fi.IsDir() {
		t.Fatalf("the unreadable file was touched: %v", err)
	}
}

// TestAddRecentDir: the recent download folders hold each folder once,
// the latest first, at most maxRecentDirs of them.
func TestAddRecentDir(t *testing.T) {
	var s Settings
	for i := range maxRecentDirs + 3 {
		s.AddRecentDir(filepath.Join("/d", strconv.Itoa(i)))
	}
	s.AddRecentDir("/d/5")
	if len(s.RecentDirs) != maxRecentDirs || s.RecentDirs[0] != "/d/5" || s.RecentDirs[1] != filepath.Join("/d", strconv.Itoa(maxRecentDirs+2)) {
		t.Fatalf("recent %v", s.RecentDirs)
	}
	seen := map[string]bool{}
	for _, d := range s.RecentDirs {
		if seen[d] {
			t.Fatalf("%s twice in %v", d, s.RecentDirs)
		}
		seen[d] = true
	}
}

// TestLayoutDamageIsQuiet: a damaged window layout or recent folder list
// falls back to the default without stopping the rest from loading.
func TestLayoutDamageIsQuiet(t *testing.T) {
	for _, f := range []struct{ field, value string }{{"layout", `"wide"`}, {"layout", `{"columns": [1]}`}, {"recent_dirs", `"/x"`}} {
		p := testPaths(t)
		os.MkdirAll(filepath.Dir(p.SettingsFile), 0o700)
		os.WriteFile(p.SettingsFile, []byte(withField(t, f.field, f.value)), 0o600)
		s, _ := LoadSettings(p)
		if s.Bootstrap == "" || len(s.Layout.Columns) != 0 || s.RecentDirs != nil {
			t.Errorf("%s %s: loaded %+v", f.field, f.value, s)
		}
	}
}

// TestSettingsLSD: local peer discovery is on in new settings and in
// files written before it existed, off when the file says so, and off
// (a problem reported) when its value cannot be read or the damage lost
// it.
func TestSettingsLSD(t *testing.T) {
	p := testPaths(t)
	if s := DefaultSettings(p); !s.LSD {
		t.Fatal("off in new settings")
	}
	for _, c := range []struct {
		name, file string
		want       bool
		problem    bool
	}{
		{"old file", withField(t, "lsd", ""), true, false},
		{"on", withField(t, "lsd", "true"), true, false},
		{"off", withField(t, "lsd", "false"), false, false},
		{"string", withField(t, "lsd", `"yes"`), false, true},
		{"null", withField(t, "lsd", "null"), false, true},
		{"lost", `{"bootstrap": "", "download_dir": "/d", "port": 1, "lsd": tr`, false, true},
	} {
		s, b := parseSettings([]byte(c.file), DefaultSettings(p))
		if s.LSD != c.want {
			t.Errorf("%s: LSD %v, want %v", c.name, s.LSD, c.want)
		}
		hasProblem := false
		if b != nil {
			for _, pr := range b.Problems {
				hasProblem = hasProblem || (pr.Field == "lsd" && pr.Label == "local peer discovery")
			}
		}
		if hasProblem != c.problem {
			t.Errorf("%s: problem with lsd %v, want %v (%v)", c.name, hasProblem, c.problem, b)
		}
	}
}
