package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestInfoMatchesOtherTools: `swarmdrop info` prints the info hash that
// mktorrent's and libtorrent's own torrents carry, as libtorrent reads it.
func TestInfoMatchesOtherTools(t *testing.T) {
	src := t.TempDir()
	testpeers.RandomFile(t, filepath.Join(src, "set", "a.bin"), 123_456, 1)
	testpeers.RandomFile(t, filepath.Join(src, "set", "b", "c.bin"), 7, 2)
	mk, _ := testpeers.Mktorrent(t, filepath.Join(src, "set"), 15)
	lt := filepath.Join(t.TempDir(), "lt.torrent")
	testpeers.LT(t, "create", filepath.Join(src, "set"), lt, "--nodes", "127.0.0.1:6881")
	for _, tf := range []string{mk, lt} {
		want := ""
		for _, l := range strings.Split(testpeers.LT(t, "info", tf), "\n") {
			if h, ok := strings.CutPrefix(l, "infohash "); ok {
				want = h
			}
		}
		if len(want) != 40 {
			t.Fatalf("libtorrent gave no info hash for %s", tf)
		}
		r := runSwarmdrop(t, "info", tf)
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Fatalf("info %s: exit %d, want hash %s in:\n%s%s", filepath.Base(tf), r.code, want, r.stdout, r.stderr)
		}
	}
}

// TestInfoHostile: every malformed input gives exit 1 and exactly one
// error line starting "swarmdrop: ".
func TestInfoHostile(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"empty":           "",
		"not bencode":     "<html>hello</html>",
		"truncated":       "d8:announce3:abc4:infod6:lengthi5e",
		"pieces not x20":  "d4:infod6:lengthi5e4:name1:a12:piece lengthi16384e6:pieces3:abcee",
		"negative length": "d4:infod6:lengthi-5e4:name1:a12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaaee",
		"deep nesting":    strings.Repeat("l", 5000) + strings.Repeat("e", 5000),
		"no info":         "d8:announce3:abce",
	}
	for name, body := range cases {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".torrent")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		r := runSwarmdrop(t, "info", p)
		lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
		if r.code != 1 || len(lines) != 1 || !strings.HasPrefix(lines[0], "swarmdrop: ") || r.stdout != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", name, r.code, r.stdout, r.stderr)
		}
	}
	for _, bad := range []string{"magnet:?dn=nohash", "magnet:?xt=urn:btih:123", filepath.Join(dir, "missing.torrent")} {
		r := runSwarmdrop(t, "info", bad)
		if r.code != 1 || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q", bad, r.code, r.stderr)
		}
	}
}
