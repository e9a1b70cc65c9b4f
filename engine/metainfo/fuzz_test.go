package metainfo

import (
	"crypto/sha1"
	"reflect"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	f.Add(torrentOf(f, infoMap(), nil))
	f.Add(torrentOf(f, multiInfoMap(), map[string]any{
		"announce-list": []any{[]any{"http://a/"}},
		"nodes":         []any{[]any{"1.2.3.4", int64(1)}},
		"url-list":      "http://w/",
	}))
	f.Add([]byte("d4:infod6:lengthi5e4:name2:..12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaaee"))
	f.Add([]byte("d4:infod5:filesld6:lengthi1e4:pathl2:..3:CONeed6:lengthi1e4:pathl3:con1:xeee4:name1:/12:piece lengthi2e6:pieces20:aaaaaaaaaaaaaaaaaaaaee"))
	f.Add([]byte("lli1eee"))
	f.Add(torrentOf(f, padInfoMap(), nil))
	f.Add([]byte("d4:infod5:filesld4:attr2:lx6:lengthi9e4:pathl1:le12:symlink pathl2:..eed4:attr1:p6:lengthi1e4:pathl2:..eed6:lengthi1e4:pathl18:_____padding_file_eed6:lengthi1e4:pathl1:aeee4:name1:n12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaaee"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			return
		}
		if m.InfoHash != sha1.Sum(m.InfoBytes) {
			t.Fatal("InfoHash is not the SHA-1 of InfoBytes")
		}
		info, err := ParseInfo(m.InfoBytes)
		if err != nil || !reflect.DeepEqual(*info, m.Info) {
			t.Fatalf("ParseInfo of the info bytes: %v", err)
		}
		enc, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		again, err := Parse(enc)
		if err != nil {
			t.Fatalf("re-parsing the encoding: %v", err)
		}
		if !reflect.DeepEqual(again, m) {
			t.Fatalf("round trip changed the torrent:\n%+v\n%+v", m, again)
		}
		if _, err := New(&m.Info); err != nil {
			t.Fatalf("New of a parsed Info: %v", err)
		}
		paths, err := m.Info.SafePaths()
		if err != nil {
			t.Fatal(err)
		}
		checkSafePaths(t, &m.Info, paths)
		if m.Info.ContentLength() <= 0 || len(m.Info.VisibleFiles()) == 0 {
			t.Fatalf("a parsed torrent without content: %d bytes", m.Info.ContentLength())
		}
		for _, f := range m.Info.Files {
			if f.Length > 0 && m.Info.IsPad(f.Offset, f.Length) != f.Pad {
				t.Fatalf("IsPad over file %q says %v", f.Path, !f.Pad)
			}
		}
		mg, err := ParseMagnet(m.Magnet().String())
		if err != nil || mg.InfoHash != m.InfoHash {
			t.Fatalf("magnet of the torrent: %v", err)
		}
	})
}

func FuzzParseMagnet(f *testing.F) {
	f.Add("magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=x%20y&tr=http://t/&x.pe=1.2.3.4:5")
	f.Add("magnet:?xt=urn:btih:AEBAGBAFAYDQQCIKBMGA2DQPCAIREEYU&xt=urn:btmh:1220&tr=%zz")
	f.Add("magnet:?xt=urn:btmh:1220ab")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMagnet(s)
		if err != nil {
			return
		}
		again, err := ParseMagnet(m.String())
		if err != nil || !reflect.DeepEqual(again, m) {
			t.Fatalf("round trip of %q via %q: %+v, %v", s, m.String(), again, err)
		}
	})
}

// FuzzSafePaths takes a name and paths: files separated by "\n",
// components by "\x01" (both are control characters, which sanitising
// replaces anyway); a path starting with "\x02" is a pad file's.
func FuzzSafePaths(f *testing.F) {
	f.Add("name", "a\x01b\nA\x01B\na\n..\x01..\x01etc\npasswd\nCON\x01aux.txt", true)
	f.Add("../x", "", false)
	f.Add("n", "x (2)\nx\nx\nX (2)\n\x01\n.", true)
	f.Add("n", "a\n\x02a\n\x02..\x01..\x01etc\n\x02.pad\x0116383\na\x01b", true)
	f.Fuzz(func(t *testing.T, name, paths string, multi bool) {
		info := &Info{Name: name, MultiFile: multi}
		if multi {
			for _, p := range strings.Split(paths, "\n") {
				rest, pad := strings.CutPrefix(p, "\x02")
				info.Files = append(info.Files, File{Path: strings.Split(rest, "\x01"), Pad: pad})
			}
		} else {
			info.Files = []File{{Path: []string{name}}}
		}
		got, err := info.SafePaths()
		if err != nil {
			t.Fatal(err)
		}
		checkSafePaths(t, info, got)
		if again, _ := info.SafePaths(); !reflect.DeepEqual(again, got) {
			t.Fatal("SafePaths is not deterministic")
		}
	})
}
