package ui

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/swarmdrop/swarmdrop/engine"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

func newTestSettings(t *testing.T, be Backend) *settingsDialog {
	t.Helper()
	m := newTestWindow(t, be)
	m.onSettings()
	if m.settings == nil {
		t.Fatal("settings did not open")
	}
	return m.settings
}

func rowTexts(c *contactEditor) []string { return c.items() }

func TestContactsTextAndListInSync(t *testing.T) {
	be := newFakeBackend()
	d := newTestSettings(t, be)
	c := d.contacts
	if got := rowTexts(c); !reflect.DeepEqual(got, []string{"127.0.0.1:6881"}) {
		t.Fatalf("initial rows %q", got)
	}
	c.text.SetText("")
	test.Type(c.text, "router.example.org:6881, 127.0.0.1:8080")
	if got := rowTexts(c); !reflect.DeepEqual(got, []string{"router.example.org:6881", "127.0.0.1:8080"}) {
		t.Fatalf("rows after typing %q", got)
	}
	// Editing a row rewrites the text.
	c.rows[1].entry.SetText("")
	test.Type(c.rows[1].entry, "[::1]:9000")
	if c.text.Text != "router.example.org:6881, [::1]:9000" {
		t.Errorf("text after row edit %q", c.text.Text)
	}
	// Adding a row, typing into it, removing another.
	c.onAdd()
	test.Type(c.rows[2].entry, "dht.example.net:25401")
	if c.text.Text != "router.example.org:6881, [::1]:9000, dht.example.net:25401" {
		t.Errorf("text after add %q", c.text.Text)
	}
	c.removeRow(c.rows[0])
	if c.text.Text != "[::1]:9000, dht.example.net:25401" || len(c.rows) != 2 {
		t.Errorf("text after remove %q (%d rows)", c.text.Text, len(c.rows))
	}
	c.reset()
	d.host.top().keys.handle(&fyne.KeyEvent{Name: fyne.KeyReturn}) // confirms
	if c.text.Text != defaultBootstrap() || len(c.rows) != len(splitContacts(defaultBootstrap())) {
		t.Errorf("reset: text %q, %d rows", c.text.Text, len(c.rows))
	}
}

// TestContactsMalformed checks that each malformed contact shows the
// exact problem ParseNode names, in its row and under the text field, and
// that the settings cannot be saved.
func TestContactsMalformed(t *testing.T) {
	for _, bad := range []string{
		"router.example.org", "router.example.org:", ":6881", "host:0", "host:65536", "host:-1",
		"host:port", "::1:6881", "fe80::1", "a b:6881", "host/x:6881", "user@host:6881", "[::1]",
		"host:6881:7", "http://host:6881",
	} {
		be := newFakeBackend()
		d := newTestSettings(t, be)
		c := d.contacts
		_, want := metainfo.ParseNode(bad)
		if want == nil {
			t.Fatalf("%q parses; not a malformed case", bad)
		}
		c.text.SetText("")
		test.Type(c.text, "127.0.0.1:6881, "+bad)
		var row *contactRow
		for _, r := range c.rows {
			if strings.TrimSpace(r.entry.Text) == strings.TrimSpace(bad) {
				row = r
			}
		}
		if row == nil {
			// A bad item with a comma-free form always gives a row.
			t.Fatalf("%q: no row among %q", bad, rowTexts(c))
		}
		if row.status.Text != want.Error() || !row.ping.Disabled() {
			t.Errorf("%q: row says %q (ping enabled %v), want %q", bad, row.status.Text, !row.ping.Disabled(), want)
		}
		if c.note.Text != want.Error() {
			t.Errorf("%q: note %q, want %q", bad, c.note.Text, want)
		}
		d.onSave()
		if !strings.Contains(d.problem.Text, want.Error()) {
			t.Errorf("%q: save problem %q", bad, d.problem.Text)
		}
		for _, call := range be.Calls() {
			if call.Name == "SetSettings" {
				t.Errorf("%q: saved invalid settings", bad)
			}
		}
	}
}

func TestSettingsFieldsRoundTrip(t *testing.T) {
	be := newFakeBackend()
	d := newTestSettings(t, be)
	for _, c := range []struct{ field, port, down, conns, want string }{
		{"port text", "abc", "0", "10", `listening port: "abc" is not a whole number`},
		{"port range", "70000", "0", "10", "port 70000 is outside 0-65535"},
		{"rate", "6881", "-5", "10", "rate limits cannot be negative"},
		{"conns", "6881", "0", "x", `max connections: "x" is not a whole number`},
	} {
		d.port.SetText(c.port)
		d.down.SetText(c.down)
		d.maxConns.SetText(c.conns)
		d.onSave()
		if d.problem.Text != c.want {
			t.Errorf("%s: problem %q, want %q", c.field, d.problem.Text, c.want)
		}
	}
	d.contacts.text.SetText("127.0.0.1:6881,127.0.0.2:6882")
	d.dir.SetText("/tmp/elsewhere")
	d.port.SetText("0")
	d.down.SetText("100")
	d.up.SetText("")
	d.maxConns.SetText("80")
	d.upnp.SetChecked(false)
	// No panel shows tray icons here: keeping running in the tray is not
	// offered (the window could not be brought back).
	if !d.tray.Hidden {
		t.Error("tray offered without a tray host")
	}
	d.ask.SetChecked(false)
	// A folder that cannot be written is refused.
	// (A read-only folder is not tried: root, as tests run here, writes
	// in it anyway. A read-only mount is: /proc.)
	for _, bad := range []string{"relative/dir", "/dev/null", "/dev/null/sub", "/proc/swarmdrop"} {
		d.dir.SetText(bad)
		d.onSave()
		if !strings.HasPrefix(d.problem.Text, "download folder: ") {
			t.Errorf("folder %s: problem %q", bad, d.problem.Text)
		}
	}
	d.dir.SetText("/tmp/elsewhere")
	d.onSave()
	if d.problem.Text != "" {
		t.Fatalf("save failed: %s", d.problem.Text)
	}
	s := be.Settings()
	if s.Bootstrap != "127.0.0.1:6881, 127.0.0.2:6882" || s.DownloadDir != "/tmp/elsewhere" || s.Port != 0 ||
		s.MaxDownloadRate != 100*1024 || s.MaxUploadRate != 0 || s.MaxConnections != 80 || s.UPnP || s.KeepInTray || !s.SkipAddDialog {
		t.Errorf("saved %+v", s)
	}
}

// TestResetContactsAsks: "Reset to defaults" replaces the contacts only
// once confirmed.
func TestResetContactsAsks(t *testing.T) {
	be := newFakeBackend()
	d := newTestSettings(t, be)
	d.contacts.text.SetText("10.9.9.9:6881")
	d.contacts.reset()
	if d.contacts.text.Text != "10.9.9.9:6881" {
		t.Fatal("reset without asking")
	}
	top := d.host.top()
	if top == nil || top == d.dlg {
		t.Fatal("no confirmation shown")
	}
	top.keys.handle(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if d.contacts.text.Text != "10.9.9.9:6881" || d.host.top() != d.dlg {
		t.Fatalf("Escape: contacts %q", d.contacts.text.Text)
	}
	d.contacts.reset()
	d.host.top().keys.handle(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if d.contacts.text.Text != defaultBootstrap() {
		t.Fatalf("Return: contacts %q", d.contacts.text.Text)
	}
}

func TestContactPing(t *testing.T) {
	be := newFakeBackend()
	m := newTestWindow(t, be)
	m.onSettings()
	c := m.settings.contacts
	c.text.SetText("127.0.0.1:6881, 127.0.0.2:7000, bad")
	c.pingAll()
	var ids []int
	for i, call := range be.Calls() {
		if call.Name == "Ping" {
			ids = append(ids, i+1)
		}
	}
	if len(ids) != 2 {
		t.Fatalf("pinged %+v; the invalid contact must not be pinged", be.Calls())
	}
	m.handleEvent(engine.PingResult{Request: ids[0], Contact: "127.0.0.1:6881", RTT: 12300 * time.Microsecond})
	m.handleEvent(engine.PingResult{Request: ids[1], Contact: "127.0.0.2:7000", Err: fmt.Errorf("%w: timeout", engine.ErrNoReply)})
	if c.rows[0].status.Text != "reply in 12.3 ms" || c.rows[1].status.Text != "no reply" {
		t.Errorf("ping results %q, %q", c.rows[0].status.Text, c.rows[1].status.Text)
	}
}

// TestPortCheck finds a port in use and one free.
func TestPortCheck(t *testing.T) {
	be := newFakeBackend()
	d := newTestSettings(t, be)
	d.port.SetText("0")
	if !strings.Contains(d.portNote.Text, "any free port") {
		t.Errorf("port 0: %q", d.portNote.Text)
	}
	l, err := listenTCP()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	d.port.SetText(strconv.Itoa(portOf(l)))
	if !strings.Contains(d.portNote.Text, "in use") {
		t.Errorf("busy port: %q", d.portNote.Text)
	}
}

func FuzzSplitContacts(f *testing.F) {
	for _, s := range []string{"", "a:1", "a:1, b:2", ",,, a:1 ,", "[::1]:80,x", " , "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		items := splitContacts(s)
		for _, it := range items {
			if it == "" || strings.Contains(it, ",") || strings.TrimSpace(it) != it {
				t.Fatalf("item %q of %q", it, s)
			}
		}
		if again := splitContacts(joinContacts(items)); !reflect.DeepEqual(again, items) {
			t.Fatalf("%q: split %q, after join %q", s, items, again)
		}
		_ = contactProblem(s)
	})
}
