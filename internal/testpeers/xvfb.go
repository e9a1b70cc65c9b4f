package testpeers

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// StartXvfb runs an X server (Debian's xvfb) on a free display, 1280x800,
// until the test ends, and returns the display name (":N").
func StartXvfb(t testing.TB) string {
	t.Helper()
	return StartXvfbScreen(t, "1280x800x24")
}

// StartXvfbScreen is StartXvfb with a screen of the given geometry
// ("1920x1080x24"), for windows larger than the default screen.
func StartXvfbScreen(t testing.TB, geometry string) string {
	t.Helper()
	bin := Require(t, "Xvfb", "xvfb")
	for range 20 {
		n := 97 + rand.IntN(800)
		sock := fmt.Sprintf("/tmp/.X11-unix/X%d", n)
		if _, err := os.Stat(sock); err == nil {
			continue
		}
		cmd := exec.Command(bin, fmt.Sprintf(":%d", n), "-screen", "0", geometry, "-nolisten", "tcp")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		for range 50 {
			if _, err := os.Stat(sock); err == nil {
				return fmt.Sprintf(":%d", n)
			}
			time.Sleep(100 * time.Millisecond)
		}
		cmd.Process.Kill()
		cmd.Wait()
	}
	t.Fatal("Xvfb did not start")
	return ""
}

// ArtifactDir is where tests leave screenshots for people to look at:
// $SWARMDROP_ARTIFACTS, or ui/testdata/artifacts of this checkout.
func ArtifactDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("SWARMDROP_ARTIFACTS")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "..", "ui", "testdata", "artifacts")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// LockedBuffer collects a child process's output; it is safe for
// concurrent use.
type LockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
