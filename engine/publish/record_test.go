package publish

import (
	"errors"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestRecordRoundTrip: a record saved loads back the same, and the files
// of two paths differ.
func TestRecordRoundTrip(t *testing.T) {
	state := t.TempDir()
	rf, kf := RecordFiles(state, "/home/me/folder")
	rf2, _ := RecordFiles(state, "/home/me/other")
	if rf == rf2 || !strings.HasSuffix(kf, ".key") || filepath.Dir(rf) != filepath.Join(state, "publications") {
		t.Fatalf("record files %q %q %q", rf, rf2, kf)
	}
	if _, err := LoadRecord(rf); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing record: %v", err)
	}
	r := &Record{Path: "/home/me/folder", KeyFile: kf, Salt: HexBytes("folder"), Seq: 3,
		InfoHash: strings.Repeat("ab", 20), PieceLength: 65536}
	if err := r.Save(rf); err != nil {
		t.Fatal(err)
	}
	back, err := LoadRecord(rf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, r) {
		t.Fatalf("loaded %+v, saved %+v", back, r)
	}
}

// TestBadRecords: records with missing or impossible fields are refused
// with ErrBadRecord.
func TestBadRecords(t *testing.T) {
	for _, s := range []string{
		``, `[]`, `{}`, `{"path":"/a"}`,
		`{"path":"/a","key_file":"/k","seq":-1}`,
		`{"path":"/a","key_file":"/k","piece_length":-5}`,
		`{"path":"/a","key_file":"/k","info_hash":"abc"}`,
		`{"path":"/a","key_file":"/k","salt":"zz"}`,
		`{"path":"/a","key_file":"/k","salt":"` + strings.Repeat("00", 65) + `"}`,
	} {
		if _, err := ParseRecord([]byte(s)); !errors.Is(err, ErrBadRecord) {
			t.Errorf("%s: error %v, want ErrBadRecord", s, err)
		}
	}
}

func FuzzParseRecord(f *testing.F) {
	f.Add([]byte(`{"path":"/a","key_file":"/k","salt":"6162","seq":2,"info_hash":"` + strings.Repeat("00", 20) + `","piece_length":16384}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRecord(data)
		if err != nil {
			return
		}
		if r.Seq < 0 || r.Path == "" || len(r.Salt) > 64 {
			t.Fatalf("accepted %+v", r)
		}
	})
}
