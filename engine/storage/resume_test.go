package storage

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/bitfield"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

func TestResumePath(t *testing.T) {
	ih := metainfo.Hash{0xab, 0x01}
	want := filepath.Join("/state", "resume", "ab01000000000000000000000000000000000000.json")
	if got := ResumePath("/state", ih); got != want {
		t.Fatalf("ResumePath = %q, want %q", got, want)
	}
}

func TestResumeRoundTrip(t *testing.T) {
	have := bitfield.New(13)
	have.Set(0)
	have.Set(12)
	r := &Resume{
		InfoHash: metainfo.Hash{1, 2, 3, 19: 0xff},
		Have:     have,
		Files:    []FileStamp{{Size: 10, ModTime: 1700000000123456789}, {Size: -1}},
		SavedAt:  time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC),
	}
	p := filepath.Join(t.TempDir(), "state", "resume", "x.json")
	if err := SaveResume(p, r); err != nil {
		t.Fatal(err)
	}
	got, err := LoadResume(p)
	if err != nil {
		t.Fatal(err)
	}
	if got.InfoHash != r.InfoHash || !slices.Equal(pieceList(got.Have), []int{0, 12}) || got.Have.Len() != 13 ||
		!slices.Equal(got.Files, r.Files) || !got.SavedAt.Equal(r.SavedAt) {
		t.Fatalf("round trip: %+v", got)
	}
	if err := SaveResume(p, nil); err == nil {
		t.Fatal("SaveResume(nil) succeeded")
	}
}

func TestLoadResumeRejectsDamage(t *testing.T) {
	cases := map[string]string{
		"empty":        ``,
		"truncated":    `{"info_hash":"0101010101010101010101010101010101010101","pieces":8,"ha`,
		"not json":     `hello`,
		"short hash":   `{"info_hash":"0101","pieces":0,"have":""}`,
		"bad hex":      `{"info_hash":"zz01010101010101010101010101010101010101","pieces":0,"have":""}`,
		"bad base64":   `{"info_hash":"0101010101010101010101010101010101010101","pieces":8,"have":"!!"}`,
		"length":       `{"info_hash":"0101010101010101010101010101010101010101","pieces":9,"have":"/w=="}`,
		"spare bits":   `{"info_hash":"0101010101010101010101010101010101010101","pieces":7,"have":"/w=="}`,
		"negative":     `{"info_hash":"0101010101010101010101010101010101010101","pieces":-8,"have":""}`,
		"huge":         `{"info_hash":"0101010101010101010101010101010101010101","pieces":99999999999,"have":""}`,
		"size":         `{"info_hash":"0101010101010101010101010101010101010101","pieces":0,"have":"","files":[{"size":-2}]}`,
		"trailing":     `{"info_hash":"0101010101010101010101010101010101010101","pieces":0,"have":""} x`,
		"wrong type":   `{"info_hash":1,"pieces":0,"have":""}`,
		"files object": `{"info_hash":"0101010101010101010101010101010101010101","pieces":0,"have":"","files":{}}`,
		"partial size": `{"info_hash":"0101010101010101010101010101010101010101","pieces":8,"have":"/w==","partial":"//8="}`,
		"skip count":   `{"info_hash":"0101010101010101010101010101010101010101","pieces":0,"have":"","skip":[true],"files":[]}`,
	}
	dir := t.TempDir()
	for name, data := range cases {
		p := filepath.Join(dir, "r.json")
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		if r, err := LoadResume(p); err == nil {
			t.Errorf("%s: accepted as %+v", name, r)
		}
	}
	if _, err := LoadResume(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("missing file accepted")
	}
	ok := `{"info_hash":"0101010101010101010101010101010101010101","pieces":8,"have":"/w=="}`
	if r, err := parseResume([]byte(ok)); err != nil || r.Have.Count() != 8 {
		t.Fatalf("good resume refused: %v", err)
	}
}

// FuzzLoadResume: any bytes either fail to parse or round-trip.
func FuzzLoadResume(f *testing.F) {
	f.Add([]byte(`{"info_hash":"0101010101010101010101010101010101010101","pieces":8,"have":"/w==","files":[{"size":3,"mtime":4}],"saved_at":"2025-01-02T03:04:05Z"}`))
	f.Add([]byte(`{"info_hash":"0101010101010101010101010101010101010101","pieces":0,"have":null}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"info_hash":"0101010101010101010101010101010101010101","pieces":8,"have":"8A==","partial":"Dw==","skip":[true,false],"files":[{"size":-1,"mtime":0},{"size":3,"mtime":4}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := parseResume(data)
		if err != nil {
			return
		}
		enc, err := encodeResume(r)
		if err != nil {
			t.Fatalf("encoding a parsed resume: %v", err)
		}
		r2, err := parseResume(enc)
		if err != nil {
			t.Fatalf("re-parsing %s: %v", enc, err)
		}
		if r2.InfoHash != r.InfoHash || r2.Have.Len() != r.Have.Len() || !slices.Equal(pieceList(r2.Have), pieceList(r.Have)) ||
			!slices.Equal(pieceList(r2.Partial), pieceList(r.Partial)) || !slices.Equal(r2.Skip, r.Skip) ||
			!slices.Equal(r2.Files, r.Files) || !r2.SavedAt.Equal(r.SavedAt) {
			t.Fatalf("round trip changed %+v into %+v", r, r2)
		}
	})
}

// TestResumeSaverDebounces: many Updates give saves at least delay apart,
// each after the data was written, holding the latest pieces; ending the
// context saves once more. Saves are observed through Report, called on
// Serve's goroutine right after each one, so none is missed however late
// the test's goroutine runs on a loaded machine.
func TestResumeSaverDebounces(t *testing.T) {
	fx := newFixture(t, "saver", []int64{300, 200}, 50, 15)
	dir := t.TempDir()
	st := fx.open(t, dir)
	p := ResumePath(t.TempDir(), metainfo.Hash{7})
	const delay = 150 * time.Millisecond
	saved := make(chan time.Time, 1000)
	report := func(err error) {
		if err != nil {
			t.Errorf("save failed: %v", err)
			return
		}
		r, err := LoadResume(p)
		if err != nil {
			t.Errorf("loading what was just saved: %v", err)
			return
		}
		// What is saved is on disk, with the stamps of now.
		for _, k := range pieceList(r.Have) {
			if h, err := st.HashPiece(k); err != nil || h != fx.info.PieceHash(k) {
				t.Errorf("resume claims piece %d which is not on disk", k)
			}
		}
		saved <- r.SavedAt
	}
	s := NewResumeSaver(SaverConfig{Path: p, Torrent: st, InfoHash: metainfo.Hash{7}, Delay: delay, Report: report})
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan struct{})
	go func() { s.Serve(ctx); close(served) }()

	have := bitfield.New(fx.info.NumPieces())
	start := time.Now()
	var saves []time.Time
	collect := func() {
		for {
			select {
			case at := <-saved:
				saves = append(saves, at)
			default:
				return
			}
		}
	}
	for i := range fx.info.NumPieces() - 1 {
		if err := st.WritePiece(i, fx.piece(i), nil); err != nil {
			t.Fatal(err)
		}
		have.Set(i)
		updated := time.Now()
		s.Update(have, bitfield.Bitfield{}, nil)
		if i == 0 {
			// Only meaningful while the delay has not passed: a loaded
			// machine may run this line later than that.
			if _, err := os.Stat(p); err == nil && time.Since(updated) < delay {
				t.Fatal("saved before the delay")
			}
		}
		time.Sleep(60 * time.Millisecond)
		collect()
	}
	// Updates keep coming until two saves were seen (a starved saver may
	// have folded all of the above into one), for at most 20 s.
	for deadline := time.Now().Add(20 * time.Second); len(saves) < 2 && time.Now().Before(deadline); {
		s.Update(have, bitfield.Bitfield{}, nil)
		time.Sleep(60 * time.Millisecond)
		collect()
	}
	if len(saves) < 2 {
		t.Fatalf("%d saves in %v with a delay of %v", len(saves), time.Since(start), delay)
	}
	if saves[0].Sub(start) < delay*9/10 {
		t.Fatalf("first save after %v, before the delay %v", saves[0].Sub(start), delay)
	}
	for k := 1; k < len(saves); k++ {
		if gap := saves[k].Sub(saves[k-1]); gap < delay*9/10 {
			t.Fatalf("saves %v apart, delay %v", gap, delay)
		}
	}

	// The last piece, then an immediate stop: the final save has it.
	last := fx.info.NumPieces() - 1
	if err := st.WritePiece(last, fx.piece(last), nil); err != nil {
		t.Fatal(err)
	}
	have.Set(last)
	s.Update(have, bitfield.Bitfield{}, nil)
	have.Clear(0) // Update copied: this must not show up
	cancel()
	select {
	case <-served:
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after ctx ended")
	}
	r, err := LoadResume(p)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Have.Full() || r.InfoHash != (metainfo.Hash{7}) {
		t.Fatalf("final save: %v of %d, %x", pieceList(r.Have), fx.info.NumPieces(), r.InfoHash)
	}
	if !slices.Equal(r.Files, st.Stamps()) {
		t.Fatalf("saved stamps %v, files now %v", r.Files, st.Stamps())
	}
	// The saved data is trusted on reopening.
	st.Close()
	st2 := fx.open(t, dir)
	got, err := st2.Verify(t.Context(), 1, r, nil)
	if err != nil || !got.Full() {
		t.Fatalf("Verify with the saved resume: %v, %v", pieceList(got), err)
	}
}

// TestResumeSaverIdle: with no Update nothing is written, even at the end.
func TestResumeSaverIdle(t *testing.T) {
	fx := newFixture(t, "idle", []int64{10}, 4, 16)
	st := fx.open(t, t.TempDir())
	p := filepath.Join(t.TempDir(), "r.json")
	s := NewResumeSaver(SaverConfig{Path: p, Torrent: st, Delay: time.Millisecond})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	s.Serve(ctx)
	if _, err := os.Stat(p); err == nil {
		t.Fatal("resume written without any Update")
	}
}

// TestResumeSaverReportsAndRetries: a save that fails (the state folder
// cannot be made) is reported and tried again after the delay, and the
// first save that works reports nil.
func TestResumeSaverReportsAndRetries(t *testing.T) {
	fx := newFixture(t, "failing", []int64{100}, 50, 17)
	st := fx.open(t, t.TempDir())
	state := t.TempDir()
	blocker := filepath.Join(state, "resume")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil { // a file where the folder goes
		t.Fatal(err)
	}
	p := ResumePath(state, metainfo.Hash{9})
	results := make(chan error, 100)
	s := NewResumeSaver(SaverConfig{Path: p, Torrent: st, InfoHash: metainfo.Hash{9}, Delay: 20 * time.Millisecond,
		Report: func(err error) { results <- err }})
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan struct{})
	go func() { s.Serve(ctx); close(served) }()
	have := bitfield.New(fx.info.NumPieces())
	have.Set(0)
	s.Update(have, bitfield.Bitfield{}, nil)
	next := func() error {
		t.Helper()
		select {
		case err := <-results:
			return err
		case <-time.After(5 * time.Second):
			t.Fatal("no save reported")
			return nil
		}
	}
	for i := range 3 {
		if err := next(); err == nil {
			t.Fatalf("save %d into a blocked folder reported no error", i)
		}
	}
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	for {
		if err := next(); err == nil {
			break
		}
	}
	r, err := LoadResume(p)
	if err != nil || !r.Have.Has(0) {
		t.Fatalf("after the retry: %v %+v", err, r)
	}
	cancel()
	<-served
}
