package metainfo

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"
)

// placeholderName stands for a name that sanitises to nothing.
const placeholderName = "_"

// SafePaths returns, for each entry of Files in order, a relative file
// system path (OS separators) that stays inside any folder it is joined
// to. A single-file torrent's path is its sanitised Name; a multi-file
// torrent's is Name/comp/.../comp. Every component is sanitised (see
// sanitizeComponent); components that are empty, "." or ".." are dropped.
// Paths equal after sanitising (compared case-insensitively), and files
// whose path is also another file's folder, are made distinct by
// numbering: "file (2).txt". A file that does not exist on disk (a pad
// file or a symbolic link: see File.OnDisk) gets "" and takes no name,
// whatever its path says. Only an Info without files is an error.
func (i *Info) SafePaths() ([]string, error) {
	if len(i.Files) == 0 {
		return nil, fmt.Errorf("%w: no files", ErrInvalid)
	}
	name := sanitizeComponent(i.Name)
	if name == "" {
		name = placeholderName
	}
	if !i.MultiFile {
		if !i.Files[0].OnDisk() {
			return []string{""}, nil
		}
		return []string{name}, nil
	}
	root := &folder{}
	out := make([]string, len(i.Files))
	for n, f := range i.Files {
		if !f.OnDisk() {
			continue
		}
		var comps []string
		for _, c := range f.Path {
			if c = sanitizeComponent(c); c != "" {
				comps = append(comps, c)
			}
		}
		if len(comps) == 0 {
			comps = []string{placeholderName}
		}
		out[n] = filepath.Join(root.place(name, comps)...)
	}
	return out, nil
}

// folder is a folder of the paths SafePaths hands out. Names are compared
// lower-cased; the maps are made when first needed. Working folder by
// folder keeps the cost linear in the total length of the paths.
type folder struct {
	name string
	// subs holds the subfolders by lower-cased name.
	subs map[string]*folder
	// files holds the lower-cased names of the files here.
	files map[string]bool
	// wanted maps a lower-cased folder name as the torrent gives it to
	// the subfolder it was placed in, so every file of a renamed folder
	// follows it.
	wanted map[string]*folder
	// next is, per lower-cased wanted name, the number to try next, so
	// that many equal names cost linear time.
	next map[string]int
}

// place returns the path for a file whose sanitised components are comps,
// under the folder root (f itself): a folder that clashes with a file is
// renamed, and a file that clashes with a file or folder is numbered.
func (f *folder) place(root string, comps []string) []string {
	out := append(make([]string, 0, len(comps)+1), root)
	for _, c := range comps[:len(comps)-1] {
		lc := strings.ToLower(c)
		sub, ok := f.wanted[lc]
		if !ok {
			got := f.free(c, func(l string) bool { return f.files[l] })
			lg := strings.ToLower(got)
			if sub = f.subs[lg]; sub == nil {
				sub = &folder{name: got}
				if f.subs == nil {
					f.subs = map[string]*folder{}
				}
				f.subs[lg] = sub
			}
			if f.wanted == nil {
				f.wanted = map[string]*folder{}
			}
			f.wanted[lc] = sub
		}
		out = append(out, sub.name)
		f = sub
	}
	last := f.free(comps[len(comps)-1], func(l string) bool { return f.files[l] || f.subs[l] != nil })
	if f.files == nil {
		f.files = map[string]bool{}
	}
	f.files[strings.ToLower(last)] = true
	return append(out, last)
}

// free returns c, or c numbered "c (2)", "c (3)"... such that the
// lower-cased name is not taken in f.
func (f *folder) free(c string, taken func(lower string) bool) string {
	lc := strings.ToLower(c)
	if !taken(lc) {
		return c
	}
	n := max(f.next[lc], 2)
	for {
		cand := numbered(c, n)
		n++
		if !taken(strings.ToLower(cand)) {
			if f.next == nil {
				f.next = map[string]int{}
			}
			f.next[lc] = n
			return cand
		}
	}
}

// numbered returns "stem (n).ext", shortened to fit MaxPathBytes.
func numbered(c string, n int) string {
	stem, ext := splitExt(c)
	if len(ext) > MaxPathBytes/4 {
		stem, ext = c, ""
	}
	suffix := " (" + strconv.Itoa(n) + ")" + ext
	return truncateUTF8(stem, MaxPathBytes-len(suffix)) + suffix
}

// sanitizeComponent turns one torrent path component into a name that is
// safe as a single component on Linux, macOS and Windows, or "" when
// nothing is left (the component is then dropped): invalid UTF-8 becomes
// U+FFFD; control characters, / \ : * ? " < > | become _; trailing dots
// and spaces are removed ("." and ".." thus vanish); Windows device names
// (CON, aux.txt, nul.tar.gz...) get a leading _; and a name over
// MaxPathBytes bytes is shortened keeping its extension.
func sanitizeComponent(c string) string {
	c = strings.ToValidUTF8(c, "\uFFFD")
	c = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || strings.ContainsRune(`/\:*?"<>|`, r) {
			return '_'
		}
		return r
	}, c)
	c = strings.TrimRight(c, ". ")
	if c == "" {
		return ""
	}
	if len(c) > MaxPathBytes {
		c = shorten(c, MaxPathBytes)
	}
	if isReservedName(c) {
		if len(c) >= MaxPathBytes {
			c = shorten(c, MaxPathBytes-1)
		}
		c = "_" + c
	}
	return c
}

// shorten cuts c to at most limit bytes, keeping an extension of up to a
// quarter of the limit and never ending in a dot or space.
func shorten(c string, limit int) string {
	stem, ext := splitExt(c)
	if len(ext) > limit/4 {
		stem, ext = c, ""
	}
	stem = strings.TrimRight(truncateUTF8(stem, limit-len(ext)), ". ")
	if stem == "" {
		stem = placeholderName
	}
	return stem + ext
}

// splitExt splits c before its last dot; a leading dot is not an
// extension.
func splitExt(c string) (stem, ext string) {
	if i := strings.LastIndexByte(c, '.'); i > 0 {
		return c[:i], c[i:]
	}
	return c, ""
}

// truncateUTF8 returns the longest prefix of s of at most n bytes that
// does not cut a character.
func truncateUTF8(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// isReservedName reports whether Windows treats c as a device: its part
// before the first dot, less trailing spaces, is CON, PRN, AUX, NUL,
// COM0-9, LPT0-9 (also with superscript digits), CONIN$ or CONOUT$.
func isReservedName(c string) bool {
	base := c
	if i := strings.IndexByte(base, '.'); i >= 0 {
		base = base[:i]
	}
	base = strings.ToUpper(strings.TrimRight(base, " "))
	switch base {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(base) > 3 && (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) {
		switch base[3:] {
		case "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³":
			return true
		}
	}
	return false
}
