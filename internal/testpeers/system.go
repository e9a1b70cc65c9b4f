package testpeers

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// CannotRun ends a test whose real counterpart cannot run on this machine
// at all — no root, no network namespaces, no mounting — saying why. In CI
// (SWARMDROP_CI=1), where all of those are there, it is a failure. A
// missing program is not such a case: Require fails for it everywhere.
func CannotRun(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("SWARMDROP_CI") == "1" {
		t.Fatal(msg)
	}
	t.Skip("cannot run here: " + msg + " (it runs in CI)")
}

// RequireRoot ends the test with CannotRun unless it runs as root; what
// says what root is needed for.
func RequireRoot(t testing.TB, what string) {
	t.Helper()
	if uid := os.Geteuid(); uid != 0 {
		CannotRun(t, "%s needs root, and this test runs as user %d", what, uid)
	}
}

// SmallFS mounts a tmpfs of size bytes on a new folder for the test (a
// file system that fills up) and unmounts it at the end.
func SmallFS(t testing.TB, size int) string {
	t.Helper()
	RequireRoot(t, "mounting a small tmpfs")
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		CannotRun(t, "mounting a tmpfs failed: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// WriteSettings writes a swarmdrop settings.json under configHome that
// keeps it on loopback — no bootstrap contacts (the defaults are public
// routers), no UPnP, no local peer discovery (no multicast), any free
// port — with the given fields on top (download_dir at least).
func WriteSettings(t testing.TB, configHome string, fields map[string]any) {
	t.Helper()
	s := map[string]any{"bootstrap": "", "port": 0, "upnp": false, "lsd": false, "max_connections": 200}
	for k, v := range fields {
		s[k] = v
	}
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(configHome, "swarmdrop")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "settings.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
}
