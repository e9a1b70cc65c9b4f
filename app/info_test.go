package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// TestInfoCommand runs `swarmdrop info` on a torrent with hostile names,
// as JSON and as text, on a magnet link, and on bad input.
func TestInfoCommand(t *testing.T) {
	m, err := metainfo.New(&metainfo.Info{Name: "d", PieceLength: 16384, Pieces: make([]byte, 20), MultiFile: true,
		Files: []metainfo.File{{Path: []string{"..", "a.txt"}, Length: 3}, {Path: []string{"CON"}, Length: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	m.Announce = "http://127.0.0.1:1/a"
	m.Comment = "red\x1b[31m"
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
	wantFiles := []infoFile{{Path: "d/a.txt", Length: 3}, {Path: "d/_CON", Length: 2, Offset: 3}}
	if got.InfoHash != m.InfoHash.String() || got.TotalLength != 5 || !reflect.DeepEqual(got.Files, wantFiles) ||
		!reflect.DeepEqual(got.Trackers, [][]string{{"http://127.0.0.1:1/a"}}) || got.Magnet != m.Magnet().String() {
		t.Fatalf("--json printed %s", out.String())
	}
	out.Reset()
	if err := runInfo(context.Background(), []string{path}, &out, &out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{"info hash:  " + m.InfoHash.String(), "d/_CON", "pieces:     1 x 16.0 KiB", "comment:    red\uFFFD[31m"} {
		if !strings.Contains(text, want) || strings.Contains(text, "\x1b") {
			t.Fatalf("text output lacks %q or has an escape:\n%s", want, text)
		}
	}
	out.Reset()
	if err := runInfo(context.Background(), []string{m.Magnet().String()}, &out, &out); err != nil || !strings.Contains(out.String(), m.InfoHash.String()) {
		t.Fatalf("magnet: %v %s", err, out.String())
	}
	os.WriteFile(path, data[:len(data)-1], 0o644)
	if err := runInfo(context.Background(), []string{path}, &out, &out); !errors.Is(err, metainfo.ErrInvalid) {
		t.Fatalf("truncated torrent: %v", err)
	}
	var u usageError
	if err := runInfo(context.Background(), nil, &out, &out); !errors.As(err, &u) {
		t.Fatalf("no argument: %v", err)
	}
}

// TestInfoUpdatableLink: `swarmdrop info` of a BEP 46 link prints its
// public key and salt (as JSON and as text), and no info hash.
func TestInfoUpdatableLink(t *testing.T) {
	link := "magnet:?xs=urn:btpk:" + strings.Repeat("5a", 32) + "&s=6d79&dn=My%20folder&x.pe=127.0.0.1:7"
	var out bytes.Buffer
	if err := runInfo(context.Background(), []string{"--json", link}, &out, &out); err != nil {
		t.Fatal(err)
	}
	var got infoOutput
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if got.Source != "updatable" || got.PublicKey != strings.Repeat("5a", 32) || got.Salt != "6d79" || got.Name != "My folder" ||
		got.InfoHash != "" || !reflect.DeepEqual(got.Peers, []string{"127.0.0.1:7"}) || got.Magnet != link {
		t.Fatalf("--json printed %s", out.String())
	}
	out.Reset()
	if err := runInfo(context.Background(), []string{link}, &out, &out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{"updatable:  yes", "public key: " + strings.Repeat("5a", 32), "salt:       6d79"} {
		if !strings.Contains(text, want) || strings.Contains(text, "info hash") {
			t.Fatalf("text output lacks %q or names an info hash:\n%s", want, text)
		}
	}
}
