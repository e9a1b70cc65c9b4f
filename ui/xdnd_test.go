package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// xdgEnv is the environment of a Swarmdrop whose XDG folders are all under
// root, on display (none when empty).
func xdgEnv(root, display string) []string {
	env := []string{"LANG=C.UTF-8", "HOME=" + root,
		"XDG_CONFIG_HOME=" + filepath.Join(root, "config"), "XDG_STATE_HOME=" + filepath.Join(root, "state"),
		"XDG_DATA_HOME=" + filepath.Join(root, "data"), "XDG_CACHE_HOME=" + filepath.Join(root, "cache"),
		"XDG_RUNTIME_DIR=" + filepath.Join(root, "run")}
	if display != "" {
		env = append(env, "DISPLAY="+display)
	}
	return env
}

// writeSettings writes loopback-only settings (see testpeers.WriteSettings)
// with fields s under root's config folder and creates the runtime folder.
func writeSettings(t *testing.T, root string, s map[string]any) {
	t.Helper()
	testpeers.WriteSettings(t, filepath.Join(root, "config"), s)
	if err := os.MkdirAll(filepath.Join(root, "run"), 0o700); err != nil {
		t.Fatal(err)
	}
}

// TestXdndDropPublishesFolder is issue 9's "done when", for real: under
// Xvfb, a folder dropped on the running Swarmdrop with the X drag-and-drop
// protocol (xdnd.py, as a file manager would) opens the create dialog; its
// "Create and seed" makes a trackerless torrent whose only `nodes` entry is
// the settings' contact (a libtorrent DHT node); and a second Swarmdrop
// with an empty state and no contacts of its own downloads the folder
// through those nodes alone.
func TestXdndDropPublishesFolder(t *testing.T) {
	script := xdndScript(t)
	display := startXvfb(t)

	dht := testpeers.StartLT(t, "dht", "--port", "0", "--ip", "127.0.0.29", "--seconds", "150")
	contact := fmt.Sprintf("127.0.0.29:%d", dht.Port(t))

	root := t.TempDir()
	writeSettings(t, root, map[string]any{"bootstrap": contact, "download_dir": filepath.Join(root, "Downloads"),
		"port": 0, "upnp": false, "max_connections": 50})
	p := startProgram(t, xdgEnv(root, display), "main")

	// The name has a space and a non-ASCII letter: the URI list is
	// percent-encoded on the way.
	pub := filepath.Join(root, "Holiday fotos é")
	files := map[string]int64{"one.bin": 300_000, filepath.Join("two", "three.bin"): 40_000}
	seed := uint64(1)
	for rel, size := range files {
		testpeers.RandomFile(t, filepath.Join(pub, rel), size, seed)
		seed++
	}

	wid, _, _ := strings.Cut(xdotool(t, display, "search", "--sync", "--name", "^Swarmdrop$"), "\n")
	win := windowGeometry(t, display, wid)
	drop := exec.Command(testpeers.Python, script, "--window", wid, "--x", strconv.Itoa(win.Dx()/2), "--y", strconv.Itoa(win.Dy()/2), pub)
	drop.Env = append(os.Environ(), "DISPLAY="+display)
	if out, err := drop.CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "DROPPED") {
		t.Fatalf("xdnd.py: %v: %s", err, out)
	}

	// The create dialog: find its blue "Create and seed" button on the
	// screen and click it.
	var shot string
	var button image.Rectangle
	for i := 0; ; i++ {
		shot = screenshot(t, display, "xdnd-create-dialog.png")
		r, n := largestRegion(readPNG(t, shot), fyneBlue, 8)
		if n > 1500 && r.Dx() > 2*r.Dy() && r.Dy() > 20 {
			button = r
			break
		}
		if i == 20 {
			t.Fatalf("no create dialog with a \"Create and seed\" button after the drop (largest blue area %v, %d pixels): see %s", r, n, shot)
		}
		time.Sleep(250 * time.Millisecond)
	}
	at := button.Min.Add(button.Size().Div(2))
	xdotool(t, display, "mousemove", "--sync", strconv.Itoa(at.X), strconv.Itoa(at.Y), "click", "1")

	// The engine lists the torrent and keeps its .torrent in the state folder.
	state := filepath.Join(root, "state", "swarmdrop")
	var list []struct {
		InfoHash string   `json:"info_hash"`
		Sources  []string `json:"sources"`
	}
	var tf string
	for deadline := time.Now().Add(30 * time.Second); ; {
		data, err := os.ReadFile(filepath.Join(state, "torrents.json"))
		if err == nil && json.Unmarshal(data, &list) == nil && len(list) == 1 {
			tf = filepath.Join(state, "torrents", list[0].InfoHash+".torrent")
			if _, err := os.Stat(tf); err == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no torrent in %s 30 s after clicking \"Create and seed\" at %v (dialog: %s): %s", state, at, shot, lastLines(p.stderr.String(), 10))
		}
		time.Sleep(100 * time.Millisecond)
	}
	// One source per file of the torrent; a pad file (BEP 47) names the
	// file it follows, so count each path once.
	seen := map[string]bool{}
	for _, src := range list[0].Sources {
		seen[src] = true
	}
	if len(seen) != len(files) {
		t.Errorf("the torrent seeds from %q, want the %d dropped files where they are", list[0].Sources, len(files))
	}
	for _, src := range list[0].Sources {
		if !strings.HasPrefix(src, pub+string(filepath.Separator)) {
			t.Errorf("the torrent seeds from %q, not from the dropped folder %q", src, pub)
		}
	}
	data, err := os.ReadFile(tf)
	if err != nil {
		t.Fatal(err)
	}
	mi, err := metainfo.Parse(data)
	if err != nil {
		t.Fatalf("%s: %v", tf, err)
	}
	if mi.Announce != "" || len(mi.AnnounceList) != 0 {
		t.Errorf("the dropped folder's torrent has trackers: %q %q", mi.Announce, mi.AnnounceList)
	}
	if got := metainfo.FormatNodes(mi.Nodes); got != contact {
		t.Errorf("the torrent's nodes are %q, want only the settings' contact %q", got, contact)
	}
	if mi.Info.Name != filepath.Base(pub) {
		t.Errorf("the torrent is named %q, want %q", mi.Info.Name, filepath.Base(pub))
	}

	// A second Swarmdrop, empty state, no contacts of its own: only the
	// torrent's nodes lead it to the publisher.
	root2 := t.TempDir()
	dl := filepath.Join(root2, "Downloads")
	writeSettings(t, root2, map[string]any{"bootstrap": "", "download_dir": dl, "port": 0, "upnp": false, "max_connections": 50})
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	cli := exec.CommandContext(ctx, os.Args[0])
	cli.Env = append(append(os.Environ(), xdgEnv(root2, "")...), "SWARMDROP_UI_SCENE=cli",
		"SWARMDROP_UI_ARGS="+strings.Join([]string{"download", "--json", "--no-upnp", "--port", "0", "--bind", "127.0.0.1", "--dir", dl, tf}, "\n"))
	var stdout, stderr bytes.Buffer
	cli.Stdout, cli.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cli.Run(); err != nil {
		t.Fatalf("swarmdrop download through the torrent's nodes: %v after %.1f s\n%s%s", err, time.Since(start).Seconds(), lastLines(stdout.String(), 5), stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var last struct {
		Event, State string
		Downloaded   int64
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Event != "complete" {
		t.Fatalf("the download's last line is %q (%v), want a complete event", lines[len(lines)-1], err)
	}
	t.Logf("downloaded %d bytes through %s in %.1f s", last.Downloaded, contact, time.Since(start).Seconds())
	for rel := range files {
		a, _ := os.ReadFile(filepath.Join(pub, rel))
		b, err := os.ReadFile(filepath.Join(dl, filepath.Base(pub), rel))
		if err != nil || !bytes.Equal(a, b) {
			t.Fatalf("%s differs after the download (%v)", rel, err)
		}
	}

	// The dialog now shows its result; Shift+Tab focuses its last button,
	// "Close", and Space presses it. Then the list shows the seeding row.
	done := screenshot(t, display, "xdnd-created.png")
	bar, _ := largestRegion(readPNG(t, done), fyneBlue, 8) // the dialog's 100% bar
	xdotool(t, display, "windowfocus", "--sync", wid, "key", "--clearmodifiers", "shift+Tab")
	xdotool(t, display, "windowfocus", "--sync", wid, "key", "--clearmodifiers", "space")
	mid := bar.Min.Add(bar.Size().Div(2))
	for i := 0; ; i++ {
		time.Sleep(500 * time.Millisecond)
		shot = screenshot(t, display, "xdnd-seeding.png")
		r, g, b, _ := readPNG(t, shot).At(mid.X, mid.Y).RGBA()
		if !near(r>>8, fyneBlue[0], 8) || !near(g>>8, fyneBlue[1], 8) || !near(b>>8, fyneBlue[2], 8) {
			break
		}
		if i == 10 {
			t.Fatalf("Shift+Tab, Space did not close the create dialog (its bar is still at %v): see %s", mid, shot)
		}
	}
	p.quit(t, display)
}
