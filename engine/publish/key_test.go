package publish

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNewKeyMode: a new key is written with mode 0600 in a folder of mode
// 0700, loads back as the same key, and is never replaced.
func TestNewKeyMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "publications", "k.key")
	key, err := NewKey(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", st.Mode().Perm())
	}
	if dst, _ := os.Stat(filepath.Dir(path)); dst.Mode().Perm() != 0o700 {
		t.Fatalf("key folder mode %v, want 0700", dst.Mode().Perm())
	}
	back, err := LoadKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back, key) {
		t.Fatal("the key loaded is not the key made")
	}
	if _, err := NewKey(path); err == nil {
		t.Fatal("NewKey replaced an existing key")
	}
	again, err := LoadOrNewKey(path)
	if err != nil || !bytes.Equal(again, key) {
		t.Fatalf("LoadOrNewKey did not load the existing key: %v", err)
	}
}

// TestLoadKeyNarrowsMode: an imported key readable by all is narrowed to
// 0600 when loaded.
func TestLoadKeyNarrowsMode(t *testing.T) {
	src := filepath.Join(t.TempDir(), "a.key")
	key, err := NewKey(src)
	if err != nil {
		t.Fatal(err)
	}
	imported := filepath.Join(t.TempDir(), "imported.key")
	if err := os.WriteFile(imported, append([]byte("  "), FormatKey(key)...), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(imported, 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := LoadKey(imported)
	if err != nil || !bytes.Equal(back, key) {
		t.Fatalf("imported key: %v", err)
	}
	if st, _ := os.Stat(imported); st.Mode().Perm() != 0o600 {
		t.Fatalf("imported key left with mode %v", st.Mode().Perm())
	}
}

// TestBadKeyFiles: files that are not keys give one readable error.
func TestBadKeyFiles(t *testing.T) {
	dir := t.TempDir()
	cases := map[string][]byte{
		"empty":  nil,
		"short":  []byte("abcd"),
		"nothex": bytes.Repeat([]byte("z"), 64),
		"long":   bytes.Repeat([]byte("a"), 66),
		"huge":   bytes.Repeat([]byte("a"), 10000),
	}
	for name, data := range cases {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadKey(p); !errors.Is(err, ErrBadKeyFile) {
			t.Errorf("%s: error %v, want ErrBadKeyFile", name, err)
		}
	}
	if _, err := LoadKey(dir); !errors.Is(err, ErrBadKeyFile) {
		t.Errorf("a folder as key: error %v", err)
	}
	if _, err := LoadKey(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing key: error %v", err)
	}
}

func FuzzParseKey(f *testing.F) {
	f.Add([]byte("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		key, err := ParseKey(data)
		if err != nil {
			return
		}
		back, err := ParseKey(FormatKey(key))
		if err != nil || !bytes.Equal(back, key) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// TestImportKey: a key file's content is saved under the state folder,
// named by its public key, mode 0600, whatever white space surrounds it;
// anything else is refused with ErrBadKeyFile and saves nothing.
func TestImportKey(t *testing.T) {
	state := t.TempDir()
	_, key, _ := ed25519.GenerateKey(nil)
	path, err := ImportKey(state, append([]byte("  "), FormatKey(key)...))
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != KeyFileMode || filepath.Dir(filepath.Dir(filepath.Dir(path))) != state {
		t.Fatalf("imported key at %s: %v", path, err)
	}
	got, err := LoadKey(path)
	if err != nil || !got.Equal(key) {
		t.Fatalf("imported key reads back as another key (%v)", err)
	}
	if again, err := ImportKey(state, FormatKey(key)); err != nil || again != path {
		t.Fatalf("importing again: %s %v, want %s", again, err, path)
	}
	for _, bad := range [][]byte{nil, []byte("hello"), make([]byte, 64), bytes.Repeat([]byte("a"), 5000), []byte(strings.Repeat("zz", 32))} {
		if _, err := ImportKey(state, bad); !errors.Is(err, ErrBadKeyFile) {
			t.Errorf("importing %.20q: %v, want ErrBadKeyFile", bad, err)
		}
	}
	if left, _ := os.ReadDir(filepath.Dir(path)); len(left) != 1 {
		t.Fatalf("%d files in the keys folder, want 1", len(left))
	}
}
