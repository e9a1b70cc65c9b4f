package app

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// TestInfoHidesPadFiles: `swarmdrop info` lists the files a download
// holds, without the BEP 47 pad files between them.
func TestInfoHidesPadFiles(t *testing.T) {
	m, err := metainfo.New(&metainfo.Info{Name: "d", PieceLength: 16384, Pieces: make([]byte, 40), MultiFile: true,
		Files: []metainfo.File{
			{Path: []string{"a.txt"}, Length: 3},
			{Path: []string{".pad", "16381"}, Length: 16381, Pad: true},
			{Path: []string{"b"}, Length: 2},
		}})
	if err != nil {
		t.Fatal(err)
	}
	data, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "t.torrent")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := runInfo(context.Background(), []string{path, "--json"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	var got infoOutput
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	want := []infoFile{{Path: "d/a.txt", Length: 3}, {Path: "d/b", Length: 2, Offset: 16384}}
	if !reflect.DeepEqual(got.Files, want) {
		t.Fatalf("files %+v, want %+v", got.Files, want)
	}
	out.Reset()
	if err := runInfo(context.Background(), []string{path}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if text := out.String(); strings.Contains(text, ".pad") || !strings.Contains(text, "files:      2\n") {
		t.Fatalf("text output:\n%s", text)
	}
}
