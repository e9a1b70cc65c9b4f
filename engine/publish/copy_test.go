package publish

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCopyInto: files and folders are copied under their names, a
// folder merged into one of the same name; an existing file stops the
// copy before anything is written unless replace; a source inside the
// publication, or holding it, is refused; symbolic links are skipped
// and no temporary file stays.
func TestCopyInto(t *testing.T) {
	pub := filepath.Join(t.TempDir(), "pub")
	write(t, filepath.Join(pub, "a.txt"), "old a")
	write(t, filepath.Join(pub, "sub", "keep.txt"), "keep")
	src := t.TempDir()
	write(t, filepath.Join(src, "a.txt"), "new a")
	write(t, filepath.Join(src, "b.txt"), "b")
	write(t, filepath.Join(src, "sub", "c.txt"), "c")
	if err := os.Symlink("/etc/passwd", filepath.Join(src, "sub", "link")); err != nil {
		t.Fatal(err)
	}
	srcs := []string{filepath.Join(src, "b.txt"), filepath.Join(src, "sub"), filepath.Join(src, "a.txt")}

	if got := Existing(pub, srcs); !slices.Equal(got, []string{"sub", "a.txt"}) {
		t.Fatalf("Existing = %v", got)
	}
	if err := CopyInto(pub, srcs, false); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("copy onto an existing file without replace: %v", err)
	}
	if _, err := os.Stat(filepath.Join(pub, "b.txt")); err == nil || read(t, filepath.Join(pub, "a.txt")) != "old a" {
		t.Fatal("a refused copy wrote something")
	}
	if err := CopyInto(pub, srcs, true); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{"a.txt": "new a", "b.txt": "b", "sub/keep.txt": "keep", "sub/c.txt": "c"} {
		if got := read(t, filepath.Join(pub, filepath.FromSlash(p))); got != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	if _, err := os.Lstat(filepath.Join(pub, "sub", "link")); err == nil {
		t.Error("a symbolic link was copied")
	}
	parts, _ := filepath.Glob(filepath.Join(pub, ".*.part"))
	if len(parts) > 0 {
		t.Errorf("temporary files left: %v", parts)
	}
	for _, bad := range []string{pub, filepath.Join(pub, "sub"), filepath.Dir(pub)} {
		if err := CopyInto(pub, []string{bad}, true); err == nil {
			t.Errorf("copying %s into %s succeeded", bad, pub)
		}
	}
}
