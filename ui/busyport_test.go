package ui

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// reportBusyPort prints, from the program of the "busyport" scene, one
// BUSYPORT line once the window shows that it cannot listen (status bar
// and dialog) and lists the torrent it was given (the engine still
// serves commands), or BUSYPORT timeout.
func reportBusyPort(m *mainWindow) {
	for range 150 {
		time.Sleep(100 * time.Millisecond)
		var line string
		fyne.DoAndWait(func() {
			if m.notListening != nil && len(m.list.rows) > 0 && strings.HasPrefix(m.status.port.Text, "Not listening") {
				line = fmt.Sprintf("BUSYPORT rows=%d state=%q status=%q", len(m.list.rows), m.list.rows[0].view.State, m.status.port.Text)
			}
		})
		if line != "" {
			fmt.Println(line)
			return
		}
	}
	fmt.Println("BUSYPORT timeout")
}

// TestBusyPortWindow runs the real window under Xvfb with its port held by
// another program: the status bar and a dialog say so and how to fix it,
// and the torrent given on the command line is still added.
func TestBusyPortWindow(t *testing.T) {
	display := startXvfb(t)
	root := t.TempDir()
	env := []string{"DISPLAY=" + display, "LANG=C.UTF-8", "HOME=" + root,
		"XDG_CONFIG_HOME=" + filepath.Join(root, "config"), "XDG_STATE_HOME=" + filepath.Join(root, "state"),
		"XDG_DATA_HOME=" + filepath.Join(root, "data"), "XDG_CACHE_HOME=" + filepath.Join(root, "cache"),
		"XDG_RUNTIME_DIR=" + filepath.Join(root, "run")}
	os.MkdirAll(filepath.Join(root, "run"), 0o700)
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	port := held.Addr().(*net.TCPAddr).Port
	src := filepath.Join(root, "src")
	testpeers.RandomFile(t, filepath.Join(src, "Field recordings", "rain.flac"), 3<<20, 21)
	mi := mktorrent(t, filepath.Join(src, "Field recordings"), 16)
	tf := filepath.Join(root, "field.torrent")
	data, _ := mi.Encode()
	os.WriteFile(tf, data, 0o644)
	testpeers.WriteSettings(t, filepath.Join(root, "config"), map[string]any{
		"download_dir": filepath.Join(root, "Downloads"), "port": port, "skip_add_dialog": true})

	p := startProgram(t, env, "busyport", tf)
	deadline := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("program ended: %s", p.stderr.String())
			}
			if !strings.HasPrefix(l, "BUSYPORT") {
				continue
			}
			if l == "BUSYPORT timeout" {
				t.Fatal("the window did not show the taken port and the torrent within 15 s")
			}
			t.Log(l)
			if !strings.Contains(l, fmt.Sprint(port)) || !strings.Contains(l, "already in use") {
				t.Errorf("status bar does not name the port and the cause: %s", l)
			}
			time.Sleep(time.Second) // let the dialog draw
			screenshot(t, display, "busy-port.png")
			p.quit(t, display)
			return
		case <-deadline:
			t.Fatal("no BUSYPORT line within 30 s")
		}
	}
}
