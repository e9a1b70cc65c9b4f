package metainfo

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestSanitizeComponent(t *testing.T) {
	long := strings.Repeat("é", 200) + ".mkv" // 404 bytes
	for _, tc := range []struct{ in, want string }{
		{"normal.txt", "normal.txt"},
		{"..", ""},
		{".", ""},
		{"", ""},
		{"...", ""},
		{" . ", ""},
		{"/etc/passwd", "_etc_passwd"},
		{"..\\..\\x", ".._.._x"},
		{"C:\\x", "C__x"},
		{"C:", "C_"},
		{"a\x00b", "a_b"},
		{"tab\there\n", "tab_here_"},
		{"dot. ", "dot"},
		{"trail...", "trail"},
		{"CON", "_CON"},
		{"con", "_con"},
		{"aux.txt", "_aux.txt"},
		{"nul.tar.gz", "_nul.tar.gz"},
		{"Com1", "_Com1"},
		{"LPT9.log", "_LPT9.log"},
		{"lpt¹", "_lpt¹"},
		{"CONOUT$", "_CONOUT$"},
		{"con .txt", "_con .txt"},
		{"COM10", "COM10"},
		{"console", "console"},
		{"auxiliary.txt", "auxiliary.txt"},
		{"bad\xffutf8", "bad\uFFFDutf8"},
		{"w<h>a:t\"|?*", "w_h_a_t____"},
		{".hidden", ".hidden"},
		{"x\u0085y", "x_y"},
		{long, strings.Repeat("é", 125) + ".mkv"},
		{strings.Repeat("a", 300), strings.Repeat("a", 255)},
		{strings.Repeat("a", 250) + "." + strings.Repeat("b", 100), strings.Repeat("a", 250) + "." + strings.Repeat("b", 4)},
		{strings.Repeat(" ", 250) + "x" + strings.Repeat(" ", 10) + ".txt", strings.Repeat(" ", 250) + "x.txt"},
		{"aux." + strings.Repeat("a", 300), "_aux." + strings.Repeat("a", 250)},
	} {
		got := sanitizeComponent(tc.in)
		if got != tc.want {
			t.Errorf("sanitizeComponent(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if len(got) > MaxPathBytes || !utf8.ValidString(got) {
			t.Errorf("sanitizeComponent(%q) = %q: %d bytes or invalid UTF-8", tc.in, got, len(got))
		}
	}
}

// TestSafePathsHostile gives torrents with hostile names; the results
// must be local paths as wanted.
func TestSafePathsHostile(t *testing.T) {
	j := filepath.Join
	for _, tc := range []struct {
		name  string
		multi bool
		files [][]string
		want  []string
	}{
		{"a/b", false, [][]string{{"a/b"}}, []string{"a_b"}},
		{"..", false, [][]string{{".."}}, []string{"_"}},
		{"/etc/passwd", false, [][]string{{"/etc/passwd"}}, []string{"_etc_passwd"}},
		{"CON", false, [][]string{{"CON"}}, []string{"_CON"}},
		{"top", true, [][]string{
			{"..", "..", "etc", "passwd"},
			{"/etc/passwd"},
			{"C:\\x"},
			{"", ".", "sub", "", "f"},
			{"aux.txt"},
			{"a\x00b"},
			{"dot. "},
			{"..", ".."},
		}, []string{
			j("top", "etc", "passwd"),
			j("top", "_etc_passwd"),
			j("top", "C__x"),
			j("top", "sub", "f"),
			j("top", "_aux.txt"),
			j("top", "a_b"),
			j("top", "dot"),
			j("top", "_"),
		}},
		{"..", true, [][]string{{"x"}}, []string{j("_", "x")}},
		{"dups", true, [][]string{
			{"file.txt"}, {"File.TXT"}, {"file.txt."}, {"file.txt "}, {"file (2).txt"},
		}, []string{
			j("dups", "file.txt"), j("dups", "File (2).TXT"), j("dups", "file (3).txt"), j("dups", "file (4).txt"), j("dups", "file (2) (2).txt"),
		}},
		{"dirfile", true, [][]string{
			{"a"}, {"a", "b"}, {"A", "c"}, {"a", "b", "c"}, {"x", "y"}, {"X"}, {"a (2)"},
		}, []string{
			j("dirfile", "a"),
			j("dirfile", "a (2)", "b"),
			j("dirfile", "a (2)", "c"),
			j("dirfile", "a (2)", "b (2)", "c"),
			j("dirfile", "x", "y"),
			j("dirfile", "X (2)"),
			j("dirfile", "a (2) (2)"),
		}},
	} {
		info := &Info{Name: tc.name, MultiFile: tc.multi}
		for _, f := range tc.files {
			info.Files = append(info.Files, File{Path: f})
		}
		got, err := info.SafePaths()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: SafePaths\n got %q\nwant %q", tc.name, got, tc.want)
		}
		checkSafePaths(t, info, got)
	}
	if _, err := (&Info{Name: "x"}).SafePaths(); err == nil {
		t.Error("SafePaths of an Info without files: no error")
	}
}

// TestSafePathsManyEqual checks that many equal names are numbered in
// linear time and all differ.
func TestSafePathsManyEqual(t *testing.T) {
	info := &Info{Name: "n", MultiFile: true}
	for range 20000 {
		info.Files = append(info.Files, File{Path: []string{"same"}})
	}
	got, err := info.SafePaths()
	if err != nil {
		t.Fatal(err)
	}
	checkSafePaths(t, info, got)
	if got[19999] != filepath.Join("n", "same (20000)") {
		t.Fatalf("last path %q", got[19999])
	}
	// A path of 200000 components, and a folder of that name, take
	// linear time too.
	deep := strings.Split(strings.Repeat("a/", 2e5)+"f", "/")
	info = &Info{Name: "n", MultiFile: true, Files: []File{{Path: deep}, {Path: deep[:len(deep)-1]}}}
	start := time.Now()
	if got, err = info.SafePaths(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("SafePaths of a deep path took %v", d)
	}
	checkSafePaths(t, info, got)
	if !strings.HasSuffix(got[1], "a (2)") {
		t.Fatalf("deep folder clash gave %q", got[1][len(got[1])-20:])
	}
}

// checkSafePaths asserts the invariants of SafePaths: one local path per
// file on disk and "" for the others (pad files, links), no ".."
// component, each component short and valid, all distinct
// case-insensitively, and no file path is a folder of another.
func checkSafePaths(t *testing.T, info *Info, paths []string) {
	t.Helper()
	if len(paths) != len(info.Files) {
		t.Fatalf("%d paths for %d files", len(paths), len(info.Files))
	}
	var onDisk []string
	for i, p := range paths {
		if !info.Files[i].OnDisk() {
			if p != "" {
				t.Fatalf("file %d (pad or link) has the path %q", i, p)
			}
			continue
		}
		onDisk = append(onDisk, p)
		if !filepath.IsLocal(p) || filepath.IsAbs(p) || filepath.Clean(p) != p {
			t.Fatalf("path %q is not local and clean", p)
		}
		for _, c := range strings.Split(p, string(filepath.Separator)) {
			if c == "" || c == "." || c == ".." || len(c) > MaxPathBytes || !utf8.ValidString(c) ||
				strings.ContainsAny(c, "/\\:\x00") || strings.HasSuffix(c, ".") || strings.HasSuffix(c, " ") || isReservedName(c) {
				t.Fatalf("path %q has unsafe component %q", p, c)
			}
		}
	}
	// A tree of the lower-cased components: no file may be a folder.
	type node struct {
		file bool
		subs map[string]*node
	}
	root := &node{}
	for _, p := range onDisk {
		n := root
		comps := strings.Split(strings.ToLower(p), string(filepath.Separator))
		for i, c := range comps {
			if n.file {
				t.Fatalf("path %q: a folder of it is also a file", p)
			}
			if n.subs == nil {
				n.subs = map[string]*node{}
			}
			next := n.subs[c]
			if next == nil {
				next = &node{}
				n.subs[c] = next
			}
			n = next
			if i == len(comps)-1 && (n.file || len(n.subs) > 0) {
				t.Fatalf("path %q is given twice or is also a folder", p)
			}
		}
		n.file = true
	}
}
