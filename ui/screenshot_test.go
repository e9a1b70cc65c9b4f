package ui

import (
	"bufio"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2/app"

	swapp "github.com/swarmdrop/swarmdrop/app"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// The screenshot test runs the real program (app.Main with ui.Run) in a
// child process of the test binary under Xvfb; TestMain turns the child
// into the program when SWARMDROP_UI_SCENE is set.
func TestMain(m *testing.M) {
	if scene := os.Getenv("SWARMDROP_UI_SCENE"); scene != "" {
		var args []string
		if a := os.Getenv("SWARMDROP_UI_ARGS"); a != "" {
			args = strings.Split(a, "\n")
		}
		os.Exit(swapp.Main(args, func(s *swapp.Session) error {
			return run(app.NewWithID(AppID), s, func(m *mainWindow) { startScene(m, scene) })
		}))
	}
	os.Exit(m.Run())
}

// startScene opens what a screenshot shows, then prints READY.
func startScene(m *mainWindow, scene string) {
	switch scene {
	case "create":
		m.openCreate(strings.Split(os.Getenv("SWARMDROP_UI_CREATE"), "\n"))
	case "settings":
		m.onSettings()
		m.settings.contacts.pingAll()
	case "health":
		m.onHealth()
	case "busyport":
		go reportBusyPort(m)
	case "files":
		startFilesScene(m)
		return
	}
	// Select the first torrent once the engine lists it.
	m.onSnapshot = func() {
		if len(m.list.rows) > 0 && m.list.current == "" {
			m.list.selectIndex(0)
		}
	}
	fmt.Println("READY")
}

// startXvfb runs an X server for the window, with what screenshots need.
func startXvfb(t *testing.T) string {
	t.Helper()
	testpeers.Require(t, "import", "imagemagick")
	return testpeers.StartXvfb(t)
}

// program is one run of the real window in a child process.
type program struct {
	cmd    *exec.Cmd
	lines  chan string
	stderr *testpeers.LockedBuffer
	done   chan error
}

func startProgram(t *testing.T, env []string, scene string, args ...string) *program {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, "SWARMDROP_UI_SCENE="+scene, "SWARMDROP_UI_ARGS="+strings.Join(args, "\n"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &testpeers.LockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &program{cmd: cmd, lines: make(chan string, 64), done: make(chan error, 1), stderr: stderr}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill(); <-p.done })
	deadline := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("%s: program ended before READY: %s", scene, stderr.String())
			}
			if l == "READY" {
				return p
			}
		case <-deadline:
			t.Fatalf("%s: no READY: %s", scene, stderr.String())
		}
	}
}

// screenshot saves the whole screen and checks it is not one colour.
func screenshot(t *testing.T, display, name string) string {
	t.Helper()
	path := filepath.Join(testpeers.ArtifactDir(t), name)
	cmd := exec.Command("import", "-display", display, "-window", "root", path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("import: %v: %s", err, out)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if n := colours(img); n < 16 {
		t.Fatalf("%s has %d colours: the window did not draw", path, n)
	}
	t.Logf("screenshot: %s", path)
	return path
}

func colours(img image.Image) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
		}
	}
	return len(seen)
}

// quit ends the program with Ctrl+Q and checks that it exits cleanly
// within 20 s; if not, the program's goroutines go to the artifacts.
func (p *program) quit(t *testing.T, display string) {
	t.Helper()
	xdotool := testpeers.Require(t, "xdotool", "xdotool")
	// search --sync waits for the window: bounded.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, xdotool, "search", "--sync", "--name", "^Swarmdrop$", "windowfocus", "--sync", "key", "--clearmodifiers", "ctrl+q")
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Logf("xdotool: %v: %s", err, out)
	}
	log := filepath.Join(testpeers.ArtifactDir(t), "program-stderr.log")
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			os.WriteFile(log, []byte(p.stderr.String()), 0o644)
			t.Errorf("program exited with %v (standard error in %s): %s", err, log, lastLines(p.stderr.String(), 10))
		}
	case <-time.After(20 * time.Second):
		// Ask the Go runtime for every goroutine's stack, to see where
		// the program hangs.
		p.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case err := <-p.done:
			p.done <- err
		case <-time.After(5 * time.Second):
		}
		os.WriteFile(log, []byte(p.stderr.String()), 0o644)
		t.Errorf("Ctrl+Q did not quit in 20 s (goroutines in %s)", log)
	}
}

// TestScreenshots runs the real window under Xvfb: downloading from a
// local libtorrent seeder (the magnet link names the seeder with x.pe),
// then the create dialog, the settings with contacts (one of them a real
// libtorrent DHT node) and the DHT health panel.
func TestScreenshots(t *testing.T) {
	display := startXvfb(t)
	root := t.TempDir()
	env := []string{"DISPLAY=" + display, "LANG=C.UTF-8", "HOME=" + root,
		"XDG_CONFIG_HOME=" + filepath.Join(root, "config"), "XDG_STATE_HOME=" + filepath.Join(root, "state"),
		"XDG_DATA_HOME=" + filepath.Join(root, "data"), "XDG_CACHE_HOME=" + filepath.Join(root, "cache"),
		"XDG_RUNTIME_DIR=" + filepath.Join(root, "run")}
	os.MkdirAll(filepath.Join(root, "run"), 0o700)

	// A real DHT node and a real seeder, on loopback.
	dht := testpeers.StartLT(t, "dht", "--port", "0", "--seconds", "300")
	dhtPort := dht.Port(t)
	seedDir := filepath.Join(root, "seed")
	testpeers.RandomFile(t, filepath.Join(seedDir, "Holiday photos", "beach.jpg"), 30<<20, 7)
	testpeers.RandomFile(t, filepath.Join(seedDir, "Holiday photos", "mountains.jpg"), 12<<20, 8)
	testpeers.RandomFile(t, filepath.Join(seedDir, "Holiday photos", "notes.txt"), 3000, 9)
	mi := mktorrent(t, filepath.Join(seedDir, "Holiday photos"), 16)
	tf := filepath.Join(root, "holiday.torrent")
	data, _ := mi.Encode()
	os.WriteFile(tf, data, 0o644)
	seeder := testpeers.StartLT(t, "seed", tf, seedDir, "--port", "0", "--rate", "300000", "--seconds", "300")
	seedPort := seeder.Port(t)
	mag := mi.Magnet()
	mag.Peers = []string{fmt.Sprintf("127.0.0.1:%d", seedPort)}

	// A second torrent nobody seeds, given as a file.
	other := filepath.Join(root, "other")
	testpeers.RandomFile(t, filepath.Join(other, "debian-notes.txt"), 700<<10, 10)
	omi := mktorrent(t, filepath.Join(other, "debian-notes.txt"), 15)
	otf := filepath.Join(root, "debian-notes.torrent")
	odata, _ := omi.Encode()
	os.WriteFile(otf, odata, 0o644)

	dl := filepath.Join(root, "Downloads")
	testpeers.WriteSettings(t, filepath.Join(root, "config"), map[string]any{
		"bootstrap":    fmt.Sprintf("127.0.0.1:%d, 127.0.0.2:6881, localhost:25401, [::1]:6881", dhtPort),
		"download_dir": dl, "port": testpeers.FreePort(t, "127.0.0.1"), "max_connections": 100,
		"skip_add_dialog": true, // the add dialog has its own test (TestKeyboardOnly)
	})

	p := startProgram(t, env, "main", mag.String(), otf)
	time.Sleep(8 * time.Second)
	screenshot(t, display, "main-window.png")
	p.quit(t, display)
	saved, _ := os.ReadFile(filepath.Join(root, "config", "swarmdrop", "settings.json"))
	if !strings.Contains(string(saved), "window_width") {
		t.Errorf("the window size was not saved on quit: %s", saved)
	}

	pub := filepath.Join(root, "To publish")
	testpeers.RandomFile(t, filepath.Join(pub, "talk.mp4"), 9<<20, 11)
	testpeers.RandomFile(t, filepath.Join(pub, "slides.pdf"), 2<<20, 12)
	for _, sc := range []struct{ scene, file string }{
		{"create", "create-dialog.png"}, {"settings", "settings-contacts.png"}, {"health", "dht-health.png"},
	} {
		p := startProgram(t, append(env, "SWARMDROP_UI_CREATE="+pub), sc.scene)
		time.Sleep(4 * time.Second)
		screenshot(t, display, sc.file)
		p.quit(t, display)
	}
}

// lastLines returns the end of a long output.
func lastLines(s string, n int) string {
	l := strings.Split(s, "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}
