package ui

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// listEntry is what the keyboard test reads of the engine's torrent list.
type listEntry struct {
	Paused    bool  `json:"paused"`
	Files     []int `json:"files"`
	WaitFiles bool  `json:"wait_files"`
}

// waitList waits up to 15 s for the saved torrent list to satisfy ok.
func waitList(t *testing.T, path, what string, ok func([]listEntry) bool) {
	t.Helper()
	var data []byte
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var list []listEntry
		data, _ = os.ReadFile(path)
		if json.Unmarshal(data, &list) == nil && ok(list) {
			return
		}
	}
	t.Fatalf("%s: the torrent list did not show it within 15 s: %s", what, data)
}

// TestKeyboardOnly runs the real window under Xvfb, driven by keys alone
// (xdotool): a .torrent given on the command line opens the add dialog,
// where Tab, the arrows and Space uncheck two of three files and Return
// adds it; in the list, Ctrl+L, Down and Space pause and resume it, and
// Delete then Return removes it. Screenshots at 800x600 (the add dialog
// and the window), 1366x768 and 1920x1080 are kept as artifacts.
func TestKeyboardOnly(t *testing.T) {
	display := testpeers.StartXvfbScreen(t, "1920x1080x24")
	root := t.TempDir()
	writeSettings(t, root, map[string]any{"bootstrap": "", "download_dir": filepath.Join(root, "Downloads"),
		"port": 0, "upnp": false, "max_connections": 50, "window_width": 800, "window_height": 600})
	src := filepath.Join(root, "src", "Three")
	testpeers.RandomFile(t, filepath.Join(src, "a.bin"), 100_000, 41)
	testpeers.RandomFile(t, filepath.Join(src, "b.bin"), 70_000, 42)
	testpeers.RandomFile(t, filepath.Join(src, "c.bin"), 50_000, 43)
	mi := mktorrent(t, src, 15)
	tf := filepath.Join(root, "three.torrent")
	data, err := mi.Encode()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(tf, data, 0o644)

	p := startProgram(t, xdgEnv(root, display), "main", tf)
	list := filepath.Join(root, "state", "swarmdrop", "torrents.json")
	keys := func(k ...string) {
		t.Helper()
		args := append([]string{"search", "--sync", "--name", "^Swarmdrop$", "windowfocus", "--sync", "key", "--clearmodifiers", "--delay", "200"}, k...)
		xdotool(t, display, args...)
		time.Sleep(500 * time.Millisecond)
	}
	waitList(t, list, "added, waiting for the choice of files", func(l []listEntry) bool { return len(l) == 1 && l[0].WaitFiles })
	time.Sleep(time.Second)
	screenshot(t, display, "add-dialog-800x600.png")

	// The tree: Three, a.bin, b.bin, c.bin. Add has the focus; Tab goes
	// to the tree.
	keys("Tab", "Down", "space", "Down", "Down", "space")
	time.Sleep(time.Second) // the last Space drawn before the screenshot
	screenshot(t, display, "add-dialog-chosen-800x600.png")
	keys("Return")
	waitList(t, list, "started with a.bin and c.bin skipped", func(l []listEntry) bool {
		return len(l) == 1 && !l[0].WaitFiles && reflect.DeepEqual(l[0].Files, []int{-1, 0, -1})
	})

	keys("ctrl+l", "Down", "space")
	waitList(t, list, "paused with Space", func(l []listEntry) bool { return len(l) == 1 && l[0].Paused })
	screenshot(t, display, "keyboard-800x600.png")
	for _, size := range [][2]string{{"1366", "768"}, {"1920", "1080"}} {
		xdotool(t, display, "search", "--sync", "--name", "^Swarmdrop$", "windowsize", "--sync", size[0], size[1])
		time.Sleep(time.Second)
		screenshot(t, display, "main-"+size[0]+"x"+size[1]+".png")
	}
	keys("space")
	waitList(t, list, "resumed with Space", func(l []listEntry) bool { return len(l) == 1 && !l[0].Paused })
	keys("Delete")
	screenshot(t, display, "remove-dialog.png")
	keys("Return")
	waitList(t, list, "removed with Delete and Return", func(l []listEntry) bool { return len(l) == 0 })
	p.quit(t, display)
}
