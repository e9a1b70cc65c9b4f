package ui

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestTray drives the real program's tray menu the way a desktop panel
// does: over a private D-Bus session bus, it finds Swarmdrop's
// StatusNotifierItem, reads its com.canonical.dbusmenu menu, clicks
// "Pause all" and "Resume all" (and sees the saved torrent list follow)
// and then "Quit", after which the program ends cleanly.
func TestTray(t *testing.T) {
	bus := startSessionBus(t)
	display := startXvfb(t)

	root := t.TempDir()
	writeSettings(t, root, map[string]any{"bootstrap": "", "download_dir": filepath.Join(root, "Downloads"),
		"port": 0, "upnp": false, "max_connections": 50, "skip_add_dialog": true})
	// A torrent nobody seeds, so that "Pause all" has something to pause.
	src := filepath.Join(root, "src")
	testpeers.RandomFile(t, filepath.Join(src, "tray-notes.txt"), 200_000, 21)
	mi := mktorrent(t, filepath.Join(src, "tray-notes.txt"), 15)
	tf := filepath.Join(root, "tray-notes.torrent")
	data, err := mi.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tf, data, 0o644); err != nil {
		t.Fatal(err)
	}

	p := startProgram(t, append(xdgEnv(root, display), "DBUS_SESSION_BUS_ADDRESS="+bus), "main", tf)
	list := filepath.Join(root, "state", "swarmdrop", "torrents.json")
	waitPaused(t, p, list, false)

	// The tray: its bus name, its menu's object path, the menu's items.
	name := trayName(t, bus, p)
	reply := dbusSend(t, bus, name, "/StatusNotifierItem",
		"org.freedesktop.DBus.Properties.Get", "string:org.kde.StatusNotifierItem", "string:Menu")
	m := regexp.MustCompile(`^\s*variant\s+object path "(/[^"]*)"`).FindStringSubmatch(reply)
	if m == nil {
		t.Fatalf("the StatusNotifierItem's Menu property is %q, want an object path", reply)
	}
	menuPath := m[1]
	items := menuItems(dbusSend(t, bus, name, menuPath, "com.canonical.dbusmenu.GetLayout", "int32:0", "int32:-1", "array:string:"))
	for _, label := range []string{"Show Swarmdrop", "Pause all", "Resume all", "Quit"} {
		if _, ok := items[label]; !ok {
			t.Fatalf("the tray menu at %s %s has no %q item: %v", name, menuPath, label, items)
		}
	}
	screenshot(t, display, "tray.png")

	click := func(label string) {
		t.Helper()
		dbusSend(t, bus, name, menuPath, "com.canonical.dbusmenu.Event",
			"int32:"+strconv.Itoa(int(items[label])), "string:clicked", "variant:int32:0", "uint32:"+strconv.FormatInt(time.Now().Unix(), 10))
	}
	click("Pause all")
	waitPaused(t, p, list, true)
	click("Resume all")
	waitPaused(t, p, list, false)

	click("Quit")
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			t.Fatalf("the program exited with %v after the tray's Quit: %s", err, lastLines(p.stderr.String(), 10))
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("the tray's Quit did not end the program within 15 s: %s", lastLines(p.stderr.String(), 10))
	}
}

// startSessionBus runs a private D-Bus session bus listening on a unix
// socket in a temporary folder until the test ends, and returns its
// address.
func startSessionBus(t *testing.T) string {
	t.Helper()
	bin := testpeers.Require(t, "dbus-daemon", "dbus-daemon")
	testpeers.Require(t, "dbus-send", "dbus-bin")
	dir, err := os.MkdirTemp("", "swarmdrop-bus")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	conf := filepath.Join(dir, "session.conf")
	err = os.WriteFile(conf, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=`+dir+`</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config-file="+conf, "--nofork", "--nopidfile", "--print-address")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &testpeers.LockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			addr <- strings.TrimSpace(sc.Text())
		}
		close(addr)
	}()
	select {
	case a, ok := <-addr:
		if !ok || !strings.HasPrefix(a, "unix:") {
			t.Fatalf("dbus-daemon printed no address (%q): %s", a, stderr.String())
		}
		return a
	case <-time.After(10 * time.Second):
		t.Fatalf("dbus-daemon printed no address within 10 s: %s", stderr.String())
	}
	return ""
}

// dbusSend calls a method on the bus at addr and returns the reply's
// arguments as dbus-send prints them (without its header line).
func dbusSend(t *testing.T, addr, dest, path, method string, args ...string) string {
	t.Helper()
	cmd := exec.Command("dbus-send", append([]string{"--bus=" + addr, "--print-reply", "--reply-timeout=5000",
		"--dest=" + dest, path, method}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("dbus-send %s %s %s: %v: %s", dest, path, method, err, stderr.String())
	}
	_, body, _ := strings.Cut(string(out), "\n")
	return body
}

// trayName waits for the program's StatusNotifierItem to own its name on
// the bus (org.kde.StatusNotifierItem-PID-1) and returns that name.
func trayName(t *testing.T, addr string, p *program) string {
	t.Helper()
	want := fmt.Sprintf("org.kde.StatusNotifierItem-%d-", p.cmd.Process.Pid)
	var names string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		names = dbusSend(t, addr, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus.ListNames")
		for _, m := range regexp.MustCompile(`string "([^"]+)"`).FindAllStringSubmatch(names, -1) {
			if strings.HasPrefix(m[1], want) {
				return m[1]
			}
		}
	}
	t.Fatalf("no %s* on the session bus within 10 s: %s\n%s", want, names, lastLines(p.stderr.String(), 10))
	return ""
}

var (
	layoutID    = regexp.MustCompile(`^int32 (-?\d+)$`)
	layoutLabel = regexp.MustCompile(`^variant\s+string "(.*)"$`)
)

// menuItems reads a com.canonical.dbusmenu GetLayout reply as dbus-send
// prints it and returns each labelled item's id by label.
func menuItems(reply string) map[string]int32 {
	items := map[string]int32{}
	var id int64
	label := false
	for _, l := range strings.Split(reply, "\n") {
		l = strings.TrimSpace(l)
		if m := layoutID.FindStringSubmatch(l); m != nil {
			id, _ = strconv.ParseInt(m[1], 10, 32)
		}
		if m := layoutLabel.FindStringSubmatch(l); m != nil && label {
			items[m[1]] = int32(id)
		}
		label = l == `string "label"`
	}
	return items
}

// waitPaused polls the engine's saved torrent list until it holds one
// torrent whose paused flag is want; it fails t after 10 s.
func waitPaused(t *testing.T, p *program, path string, want bool) {
	t.Helper()
	var data []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var list []struct {
			Paused bool `json:"paused"`
		}
		var err error
		data, err = os.ReadFile(path)
		if err == nil && json.Unmarshal(data, &list) == nil && len(list) == 1 && list[0].Paused == want {
			return
		}
	}
	t.Fatalf("%s did not list one torrent with paused %v within 10 s: %s\n%s", path, want, data, lastLines(p.stderr.String(), 10))
}
