package packaging

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

const appID = "org.swarmdrop.Swarmdrop"

// tools are the programs the test runs, with the Debian package of each.
var tools = [][2]string{
	{"make", "make"},
	{"Xvfb", "xvfb"},
	{"xdg-open", "xdg-utils"},
	{"xdg-mime", "xdg-utils"},
	{"update-desktop-database", "desktop-file-utils"},
	{"desktop-file-validate", "desktop-file-utils"},
	{"import", "imagemagick"},
	{"mktorrent", "mktorrent"},
	{"xdotool", "xdotool"},
	{"xprop", "x11-utils"},
	// Without a desktop environment xdg-mime finds a file's type with
	// mimetype (by the *.torrent glob); its fallback, file(1), only knows
	// torrents that start with an announce URL, not trackerless ones.
	{"mimetype", "libfile-mimeinfo-perl"},
}

// TestInstallThenXdgOpen installs Swarmdrop into a temporary home with
// `make install`, starts the installed program under Xvfb and checks that
// `xdg-open FILE.torrent` and `xdg-open MAGNET` reach the running window
// (the desktop entry runs a second process that hands them over), then
// quits with Ctrl+Q and checks `make uninstall` removes what was installed.
func TestInstallThenXdgOpen(t *testing.T) {
	for _, tool := range tools {
		if _, err := exec.LookPath(tool[0]); err != nil {
			t.Fatalf("%s not found: install the Debian package %s (make deps)", tool[0], tool[1])
		}
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	h := newHome(t)

	// make install, with the user's Go caches so the build stays warm and
	// offline.
	run(t, 15*time.Minute, h.env(goEnv(t)...), "make", "-C", repo, "install", "PREFIX="+h.prefix())
	bin := filepath.Join(h.prefix(), "bin", "swarmdrop")
	installed := h.installedFiles()
	for _, f := range append(installed, bin) {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("make install did not install %s: %v", f, err)
		}
	}
	desktopFile := filepath.Join(h.dataHome(), "applications", appID+".desktop")
	run(t, time.Minute, h.env(), "desktop-file-validate", desktopFile)
	for _, mime := range []string{"application/x-bittorrent", "x-scheme-handler/magnet"} {
		got := strings.TrimSpace(run(t, time.Minute, h.env(), "xdg-mime", "query", "default", mime))
		if got != appID+".desktop" {
			t.Errorf("xdg-mime query default %s = %q, want %s.desktop", mime, got, appID)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	display := testpeers.StartXvfb(t)
	env := h.env("DISPLAY=" + display)
	app := startApp(t, bin, env, h.socket())

	// A trackerless .torrent of a small random file, opened as a desktop
	// would on a double-click.
	torrent, hash := makeTorrent(t, h.dir)
	if got := strings.TrimSpace(run(t, time.Minute, env, "xdg-mime", "query", "filetype", torrent)); got != "application/x-bittorrent" {
		t.Fatalf("xdg-mime query filetype %s = %q, want application/x-bittorrent", torrent, got)
	}
	run(t, time.Minute, env, "xdg-open", torrent)
	h.waitListed(t, app, hash, "the .torrent opened with xdg-open")

	magnetHash := randomHex(t, 20)
	run(t, time.Minute, env, "xdg-open", "magnet:?xt=urn:btih:"+magnetHash+"&dn=x")
	h.waitListed(t, app, magnetHash, "the magnet link opened with xdg-open")
	if app.exited() {
		t.Fatalf("the running instance exited:\n%s", app.output())
	}

	time.Sleep(2 * time.Second) // let the list show both rows
	shot := filepath.Join(testpeers.ArtifactDir(t), "xdg-open.png")
	run(t, time.Minute, env, "import", "-window", "root", shot)
	t.Logf("screenshot of the window after xdg-open: %s", shot)

	// The window carries the embedded icon (GLFW sets _NET_WM_ICON from it).
	win := strings.Fields(run(t, time.Minute, env, "xdotool", "search", "--name", "^Swarmdrop$"))
	if len(win) == 0 {
		t.Fatal("no window named Swarmdrop")
	}
	// The 512x512 PNG as is; without SetIcon there is no _NET_WM_ICON.
	icon := run(t, time.Minute, env, "xprop", "-id", win[0], "-len", "16", "-f", "_NET_WM_ICON", "32c", "_NET_WM_ICON")
	if !strings.HasPrefix(icon, "_NET_WM_ICON(CARDINAL) = 512, 512") {
		t.Errorf("the window lacks the 512x512 icon: xprop says %.300q", icon)
	}

	app.quit(t, env)
	if _, err := os.Stat(h.socket()); err == nil {
		t.Errorf("the instance socket %s is still there after quitting", h.socket())
	}

	run(t, time.Minute, h.env(), "make", "-C", repo, "uninstall", "PREFIX="+h.prefix())
	for _, f := range append(installed, bin) {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("make uninstall left %s", f)
		}
	}
	for _, mime := range []string{"application/x-bittorrent", "x-scheme-handler/magnet"} {
		if got := strings.TrimSpace(run(t, time.Minute, h.env(), "xdg-mime", "query", "default", mime)); got != "" {
			t.Errorf("after make uninstall xdg-mime query default %s = %q, want nothing", mime, got)
		}
	}
}

// home is a temporary home folder with every XDG folder inside it.
type home struct{ dir string }

func newHome(t *testing.T) home {
	t.Helper()
	h := home{dir: t.TempDir()}
	for _, d := range []string{h.configHome(), h.dataHome(), h.stateHome(), h.runtimeDir(), h.downloads()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// No public DHT contacts and a random port: only loopback.
	testpeers.WriteSettings(t, h.configHome(), map[string]any{"download_dir": h.downloads()})
	return h
}

func (h home) prefix() string     { return filepath.Join(h.dir, ".local") }
func (h home) configHome() string { return filepath.Join(h.dir, ".config") }
func (h home) dataHome() string   { return filepath.Join(h.dir, ".local", "share") }
func (h home) stateHome() string  { return filepath.Join(h.dir, ".local", "state") }
func (h home) runtimeDir() string { return filepath.Join(h.dir, "run") }
func (h home) downloads() string  { return filepath.Join(h.dir, "Downloads") }
func (h home) socket() string     { return filepath.Join(h.runtimeDir(), "swarmdrop.sock") }

// env is a clean environment for the home (no desktop session of the
// machine running the test leaks in), plus extra.
func (h home) env(extra ...string) []string {
	path := filepath.Join(h.prefix(), "bin") + ":" + os.Getenv("PATH") + ":/usr/local/go/bin"
	env := []string{
		"HOME=" + h.dir, "PATH=" + path, "LANG=C.UTF-8",
		"XDG_CONFIG_HOME=" + h.configHome(), "XDG_DATA_HOME=" + h.dataHome(),
		"XDG_STATE_HOME=" + h.stateHome(), "XDG_RUNTIME_DIR=" + h.runtimeDir(),
		"XDG_DOWNLOAD_DIR=" + h.downloads(), "XDG_DATA_DIRS=" + h.dataHome() + ":/usr/share",
		"XDG_CONFIG_DIRS=/etc/xdg", "XDG_CURRENT_DESKTOP=X-Generic",
	}
	return append(env, extra...)
}

// installedFiles are the files make install copies besides the program.
func (h home) installedFiles() []string {
	share := h.dataHome()
	files := []string{
		filepath.Join(share, "applications", appID+".desktop"),
		filepath.Join(share, "metainfo", appID+".metainfo.xml"),
		filepath.Join(share, "icons", "hicolor", "scalable", "apps", appID+".svg"),
	}
	for _, n := range []int{16, 32, 48, 64, 128, 256, 512} {
		files = append(files, filepath.Join(share, "icons", "hicolor", fmt.Sprintf("%dx%d", n, n), "apps", appID+".png"))
	}
	return files
}

// waitListed waits up to 20 s for hash in the running instance's saved
// torrent list (StateDir/torrents.json, written when a torrent is added).
func (h home) waitListed(t *testing.T, a *app, hash, what string) {
	t.Helper()
	path := filepath.Join(h.stateHome(), "swarmdrop", "torrents.json")
	var last string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		data, err := os.ReadFile(path)
		if err != nil {
			last = err.Error()
			continue
		}
		var list []struct {
			InfoHash string `json:"info_hash"`
		}
		if err := json.Unmarshal(data, &list); err != nil {
			last = err.Error()
			continue
		}
		last = string(data)
		for _, e := range list {
			if strings.EqualFold(e.InfoHash, hash) {
				return
			}
		}
	}
	t.Fatalf("%s (%s) did not reach the running instance's list within 20 s; %s: %s\nprogram output:\n%s",
		what, hash, path, last, a.output())
}

// goEnv passes the user's Go settings to make install: a temporary home
// would otherwise mean an empty build cache (minutes of cgo) and module
// downloads; GOPROXY=off keeps the build off the network.
func goEnv(t *testing.T) []string {
	t.Helper()
	names := []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOFLAGS", "GOROOT"}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = "/usr/local/go/bin/go"
	}
	out, err := exec.Command(goBin, append([]string{"env"}, names...)...).Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	vals := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(vals) != len(names) {
		t.Fatalf("go env printed %q", out)
	}
	env := []string{"GOPROXY=off", "GOTOOLCHAIN=local"}
	for i, n := range names {
		env = append(env, n+"="+vals[i])
	}
	return env
}

// run runs a command to completion within timeout and returns its
// standard output; it fails t on an error.
func run(t *testing.T, timeout time.Duration, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v (timeout %v)\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, timeout, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// makeTorrent makes a trackerless torrent of a small random file with
// mktorrent and returns its path and info hash (hex).
func makeTorrent(t *testing.T, dir string) (string, string) {
	t.Helper()
	data := make([]byte, 100_000)
	rand.Read(data)
	file := filepath.Join(dir, "random.bin")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	torrent := filepath.Join(dir, "random.torrent")
	run(t, time.Minute, os.Environ(), "mktorrent", "-o", torrent, file)
	raw, err := os.ReadFile(torrent)
	if err != nil {
		t.Fatal(err)
	}
	var mi struct {
		Info bencode.Bytes `bencode:"info"`
	}
	if err := bencode.Unmarshal(raw, &mi); err != nil {
		t.Fatalf("decoding %s: %v", torrent, err)
	}
	sum := sha1.Sum(mi.Info)
	return torrent, hex.EncodeToString(sum[:])
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// app is the installed program running as the first instance.
type app struct {
	cmd  *exec.Cmd
	out  *testpeers.LockedBuffer
	done chan struct{}
	err  error
}

// startApp starts the installed program with no arguments and waits for
// its single-instance socket.
func startApp(t *testing.T, bin string, env []string, socket string) *app {
	t.Helper()
	a := &app{cmd: exec.Command(bin), out: &testpeers.LockedBuffer{}, done: make(chan struct{})}
	a.cmd.Env = env
	a.cmd.Stdout, a.cmd.Stderr = a.out, a.out
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { a.err = a.cmd.Wait(); close(a.done) }()
	t.Cleanup(func() {
		if !a.exited() {
			a.cmd.Process.Kill()
			<-a.done
		}
	})
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if a.exited() {
			t.Fatalf("%s exited (%v) before listening on %s:\n%s", bin, a.err, socket, a.output())
		}
		if _, err := os.Stat(socket); err == nil {
			return a
		}
	}
	t.Fatalf("%s did not create %s within 30 s:\n%s", bin, socket, a.output())
	return nil
}

func (a *app) exited() bool {
	select {
	case <-a.done:
		return true
	default:
		return false
	}
}

func (a *app) output() string { return a.out.String() }

// quit sends SIGTERM, as a desktop session ending does, and waits for
// the program to quit cleanly (exit 0, state saved, socket removed). The
// window's own Ctrl+Q is tested by the ui package's screenshot test.
func (a *app) quit(t *testing.T, env []string) {
	t.Helper()
	a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.done:
		if a.err != nil {
			t.Errorf("the program ended with %v after SIGTERM:\n%s", a.err, a.output())
		}
	case <-time.After(20 * time.Second):
		t.Errorf("the program did not quit within 20 s of SIGTERM:\n%s", a.output())
		a.cmd.Process.Kill()
		<-a.done
	}
}
