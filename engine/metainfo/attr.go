package metainfo

import (
	"fmt"
	"sort"
	"strings"
)

// bitCometPad is the name part by which BitComet marked its padding files
// before BEP 47; libtorrent treats such files as pad files too.
const bitCometPad = "_____padding_file_"

// fileAttrs holds the BEP 47 attributes of one file.
type fileAttrs struct {
	pad, exec, hidden, link bool
}

// parseAttr reads a BEP 47 `attr` string: p (padding), x (executable),
// h (hidden), l (symbolic link); other characters are ignored.
func parseAttr(s string) fileAttrs {
	return fileAttrs{
		pad:    strings.IndexByte(s, 'p') >= 0,
		exec:   strings.IndexByte(s, 'x') >= 0,
		hidden: strings.IndexByte(s, 'h') >= 0,
		link:   strings.IndexByte(s, 'l') >= 0,
	}
}

// attr returns f's BEP 47 `attr` string ("" when it has none), in the
// order libtorrent writes the characters.
func (f *File) attr() string {
	var b []byte
	if f.Pad {
		b = append(b, 'p')
	}
	if f.Hidden {
		b = append(b, 'h')
	}
	if f.Executable {
		b = append(b, 'x')
	}
	if f.Symlink != nil && !f.Pad {
		b = append(b, 'l')
	}
	return string(b)
}

// parseFileEntry reads one entry of a multi-file `files` list: its path,
// its BEP 47 attributes and its length. A symbolic link (attr "l") takes
// no bytes whatever its `length` says, as in libtorrent; without a
// `symlink path` it is an ordinary empty file.
func parseFileEntry(fd dict, what string) (File, error) {
	var f File
	var err error
	if f.Path, err = filePath(fd, what); err != nil {
		return f, err
	}
	s, _, err := fd.str("attr", what+" attr")
	if err != nil {
		return f, err
	}
	a := parseAttr(s)
	f.Executable, f.Hidden = a.exec, a.hidden
	f.Pad = a.pad
	for _, c := range f.Path {
		if strings.Contains(c, bitCometPad) {
			f.Pad = true
		}
	}
	if a.link {
		if !f.Pad {
			if f.Symlink, err = symlinkPath(fd, what); err != nil {
				return f, err
			}
		}
		return f, nil
	}
	f.Length, err = fileLength(fd, what+" length")
	return f, err
}

// symlinkPath reads a link's `symlink path`: nil when it is missing or
// empty (the file is then no link).
func symlinkPath(fd dict, what string) ([]string, error) {
	raw, ok := fd["symlink path"]
	if !ok {
		return nil, nil
	}
	p, err := stringList(raw, what+" symlink path")
	if err != nil || len(p) == 0 {
		return nil, err
	}
	return p, nil
}

// singleFileAttrs applies the `attr` of a single-file info dictionary to
// its one file. A pad file or a link there would leave no content.
func singleFileAttrs(d dict, f *File) error {
	s, _, err := d.str("attr", "info attr")
	if err != nil {
		return err
	}
	a := parseAttr(s)
	switch {
	case a.pad:
		return fmt.Errorf("%w: the torrent's only file is a pad file", ErrInvalid)
	case a.link:
		return fmt.Errorf("%w: the torrent's only file is a symbolic link", ErrInvalid)
	}
	f.Executable, f.Hidden = a.exec, a.hidden
	return nil
}

// VisibleFiles returns the indexes into Files of the files that exist on
// disk, in torrent order: every file but pad files and symbolic links
// (see File.OnDisk). File lists shown to the user list these only.
func (i *Info) VisibleFiles() []int {
	out := make([]int, 0, len(i.Files))
	for n := range i.Files {
		if i.Files[n].OnDisk() {
			out = append(out, n)
		}
	}
	return out
}

// ContentLength returns the bytes of the torrent that exist on disk once
// downloaded: TotalLength less the pad files.
func (i *Info) ContentLength() int64 {
	n := i.TotalLength
	for _, f := range i.Files {
		if f.Pad {
			n -= f.Length
		}
	}
	return n
}

// IsPad reports whether the n > 0 bytes at offset off of the torrent's
// data lie wholly in pad files: zeros that need not be asked of peers (a
// request for them is still answered, with zeros).
func (i *Info) IsPad(off, n int64) bool {
	if n <= 0 || off < 0 || off > i.TotalLength-n {
		return false
	}
	k := sort.Search(len(i.Files), func(k int) bool { return i.Files[k].Offset+i.Files[k].Length > off })
	for end := off + n; k < len(i.Files) && i.Files[k].Offset < end; k++ {
		if i.Files[k].Length > 0 && !i.Files[k].Pad {
			return false
		}
	}
	return true
}
