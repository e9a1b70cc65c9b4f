package metainfo

import (
	"fmt"
)

// parseInfo validates a raw info dictionary already checked by
// checkBencode and fills an Info.
func parseInfo(raw []byte) (*Info, error) {
	d, err := asDict(raw, "info")
	if err != nil {
		return nil, err
	}
	info := &Info{}
	if info.Name, err = preferUTF8(d, "name"); err != nil {
		return nil, err
	}
	if info.Name == "" {
		if _, ok := d["name"]; !ok {
			return nil, fmt.Errorf("%w: info has no name", ErrInvalid)
		}
		return nil, fmt.Errorf("%w: info name is empty", ErrInvalid)
	}
	pl, ok, err := d.integer("piece length", "info piece length")
	if err != nil {
		return nil, err
	}
	switch {
	case !ok:
		return nil, fmt.Errorf("%w: info has no piece length", ErrInvalid)
	case pl <= 0:
		return nil, fmt.Errorf("%w: piece length %d is not positive", ErrInvalid, pl)
	case pl > MaxPieceLength:
		return nil, fmt.Errorf("%w: piece length %d is over the %d byte limit", ErrInvalid, pl, MaxPieceLength)
	}
	info.PieceLength = pl
	pieces, ok, err := d.str("pieces", "info pieces")
	if err != nil {
		return nil, err
	}
	if !ok {
		if v, _, _ := d.integer("meta version", "meta version"); v == 2 {
			return nil, fmt.Errorf("%w: BitTorrent v2-only torrent (no v1 pieces) is not supported", ErrInvalid)
		}
		return nil, fmt.Errorf("%w: info has no pieces", ErrInvalid)
	}
	if len(pieces)%20 != 0 {
		return nil, fmt.Errorf("%w: pieces length %d is not a multiple of 20", ErrInvalid, len(pieces))
	}
	if len(pieces)/20 > MaxPieces {
		return nil, fmt.Errorf("%w: %d pieces is over the limit of %d", ErrInvalid, len(pieces)/20, MaxPieces)
	}
	info.Pieces = []byte(pieces)
	if info.Files, info.MultiFile, err = parseFiles(d, info.Name); err != nil {
		return nil, err
	}
	for i := range info.Files {
		info.Files[i].Offset = info.TotalLength
		info.TotalLength += info.Files[i].Length
		if info.TotalLength > maxTotalLength {
			return nil, fmt.Errorf("%w: total length is over %d bytes", ErrInvalid, int64(maxTotalLength))
		}
	}
	if info.TotalLength == 0 {
		return nil, fmt.Errorf("%w: total length is 0: the torrent has no content", ErrInvalid)
	}
	if info.ContentLength() == 0 {
		return nil, fmt.Errorf("%w: the torrent has no content besides pad files", ErrInvalid)
	}
	want := (info.TotalLength + pl - 1) / pl
	if got := int64(len(pieces) / 20); got != want {
		return nil, fmt.Errorf("%w: %d piece hashes for %d bytes in pieces of %d; want %d", ErrInvalid, got, info.TotalLength, pl, want)
	}
	if p, ok, err := d.integer("private", "info private"); err != nil {
		return nil, err
	} else if ok {
		info.Private = p != 0
	}
	return info, nil
}

// parseFiles reads `length` (single file) or `files` (multi-file).
func parseFiles(d dict, name string) (files []File, multi bool, err error) {
	_, hasLength := d["length"]
	list, hasFiles, err := d.list("files", "info files")
	if err != nil {
		return nil, false, err
	}
	switch {
	case hasLength && hasFiles:
		return nil, false, fmt.Errorf("%w: info has both length and files", ErrInvalid)
	case !hasLength && !hasFiles:
		return nil, false, fmt.Errorf("%w: info has neither length nor files", ErrInvalid)
	case hasLength:
		n, err := fileLength(d, "info length")
		if err != nil {
			return nil, false, err
		}
		f := File{Path: []string{name}, Length: n}
		if err := singleFileAttrs(d, &f); err != nil {
			return nil, false, err
		}
		return []File{f}, false, nil
	}
	if len(list) == 0 {
		return nil, false, fmt.Errorf("%w: info files list is empty", ErrInvalid)
	}
	files = make([]File, len(list))
	for i, raw := range list {
		what := fmt.Sprintf("info files[%d]", i)
		fd, err := asDict(raw, what)
		if err != nil {
			return nil, false, err
		}
		if files[i], err = parseFileEntry(fd, what); err != nil {
			return nil, false, err
		}
	}
	return files, true, nil
}

// fileLength reads a required, non-negative `length`.
func fileLength(d dict, what string) (int64, error) {
	n, ok, err := d.integer("length", what)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, fmt.Errorf("%w: %s is missing", ErrInvalid, what)
	}
	if n < 0 {
		return 0, fmt.Errorf("%w: %s %d is negative", ErrInvalid, what, n)
	}
	if n > maxTotalLength {
		return 0, fmt.Errorf("%w: %s %d is over %d bytes", ErrInvalid, what, n, int64(maxTotalLength))
	}
	return n, nil
}

// filePath reads a file's path, preferring `path.utf-8`.
func filePath(fd dict, what string) ([]string, error) {
	key := "path.utf-8"
	raw, ok := fd[key]
	if !ok {
		key = "path"
		if raw, ok = fd[key]; !ok {
			return nil, fmt.Errorf("%w: %s has no path", ErrInvalid, what)
		}
	}
	path, err := stringList(raw, what+" "+key)
	if err != nil {
		return nil, err
	}
	if len(path) == 0 {
		return nil, fmt.Errorf("%w: %s %s is empty", ErrInvalid, what, key)
	}
	return path, nil
}
