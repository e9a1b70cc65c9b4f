package ui

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// startFilesScene selects the first torrent once listed and prints, once
// the Files tab shows the file SWARMDROP_UI_FILE (its path in the
// torrent), "NODE x y": a point on its row in window pixels. Then READY.
func startFilesScene(m *mainWindow) {
	want := os.Getenv("SWARMDROP_UI_FILE")
	printed := false
	var last string // the place seen at the last snapshot: printed once it holds
	m.onSnapshot = func() {
		if len(m.list.rows) > 0 && m.list.current == "" {
			m.list.selectIndex(0)
		}
		n := m.details.files.tree.nodeOf(want)
		if printed || n == nil || n.Size().Width < 1 {
			return
		}
		d := fyne.CurrentApp().Driver()
		pos, tree := d.AbsolutePositionForObject(n), m.details.files.tree
		top, size := d.AbsolutePositionForObject(tree), tree.Size()
		if size.Height < 3*n.Size().Height || pos.Y < top.Y || pos.Y+n.Size().Height > top.Y+size.Height {
			return // not laid out yet, or scrolled out of sight
		}
		scale := m.win.Canvas().Scale()
		at := fmt.Sprintf("NODE %d %d", int((pos.X+n.Size().Width/4)*scale), int((pos.Y+n.Size().Height/2)*scale))
		if at == last {
			fmt.Println(at)
			printed = true
		}
		last = at
	}
	fmt.Println("READY")
}

// sameFile tells whether the files at a and b hold the same bytes.
func sameFile(a, b string) bool {
	x, err := os.ReadFile(a)
	if err != nil {
		return false
	}
	y, err := os.ReadFile(b)
	return err == nil && bytes.Equal(x, y)
}

// TestSkipFileWhileDownloading runs the real window under Xvfb,
// downloading a torrent of three files from a rate-limited libtorrent
// seeder. While it downloads, the user right-clicks c.bin in the Files
// tab (xdotool) and picks "Skip" in its menu with the keyboard: the saved
// list shows c.bin skipped, a.bin and b.bin complete byte for byte, and
// the seeder sends no block of c.bin's pieces once they have (c.bin never
// completes).
func TestSkipFileWhileDownloading(t *testing.T) {
	display := testpeers.StartXvfbScreen(t, "1366x1024x24")
	root := t.TempDir()
	src := filepath.Join(root, "src")
	sizes := map[string]int64{"a.bin": 1 << 20, "b.bin": 1 << 20, "c.bin": 6 << 20}
	for i, name := range []string{"a.bin", "b.bin", "c.bin"} {
		testpeers.RandomFile(t, filepath.Join(src, "Three", name), sizes[name], uint64(71+i))
	}
	const piece = 32 << 10 // 2^15: the files end on piece boundaries
	mi := mktorrent(t, filepath.Join(src, "Three"), 15)
	if mi.Info.PieceLength != piece {
		t.Fatalf("piece length %d", mi.Info.PieceLength)
	}
	firstC := int((sizes["a.bin"] + sizes["b.bin"]) / piece) // c.bin's pieces are [firstC, end)
	inC := func(p int) bool { return p >= firstC }
	tf := filepath.Join(root, "three.torrent")
	data, err := mi.Encode()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(tf, data, 0o644)
	seeder := testpeers.StartLT(t, "seed", tf, src, "--port", "0", "--rate", "250000", "--seconds", "300", "--print-uploads")
	port := seeder.Port(t)
	seeder.Wait(t, "SEEDING", 30*time.Second)
	ups := recordUploads(seeder)
	mag := mi.Magnet()
	mag.Peers = []string{fmt.Sprintf("127.0.0.1:%d", port)}

	dl := filepath.Join(root, "Downloads")
	writeSettings(t, root, map[string]any{"bootstrap": "", "download_dir": dl, "port": 0, "upnp": false,
		"max_connections": 50, "skip_add_dialog": true, "window_width": 1200, "window_height": 960})
	p := startProgram(t, append(xdgEnv(root, display), "SWARMDROP_UI_FILE=Three/c.bin"), "files", mag.String())
	var x, y int
	select {
	case l := <-p.lines:
		if _, err := fmt.Sscanf(l, "NODE %d %d", &x, &y); err != nil {
			t.Fatalf("scene: %q", l)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("c.bin not shown in the Files tab within 60 s: %s", lastLines(p.stderr.String(), 10))
	}
	t.Logf("c.bin's row at %d,%d in the window", x, y)
	ups.waitUploads(t, time.Time{}, 20, 60*time.Second, "downloading")
	if sameFile(filepath.Join(src, "Three", "a.bin"), filepath.Join(dl, "Three", "a.bin")) {
		t.Fatal("a.bin complete before the priority changed: the seeder is too fast for this test")
	}

	// Right-click c.bin, then Down to "Skip" (Open file, High, Normal,
	// Skip) and Return.
	wid, _, _ := strings.Cut(xdotool(t, display, "search", "--sync", "--name", "^Swarmdrop$"), "\n")
	xdotool(t, display, "mousemove", "--window", wid, "--sync", strconv.Itoa(x), strconv.Itoa(y), "click", "3")
	time.Sleep(500 * time.Millisecond)
	screenshot(t, display, "files-menu.png")
	xdotool(t, display, "search", "--sync", "--name", "^Swarmdrop$", "windowfocus", "--sync", "key", "--clearmodifiers", "--delay", "150",
		"Down", "Down", "Down", "Down", "Return")
	list := filepath.Join(root, "state", "swarmdrop", "torrents.json")
	waitList(t, list, "c.bin skipped", func(l []listEntry) bool {
		return len(l) == 1 && reflect.DeepEqual(l[0].Files, []int{0, 0, -1})
	})
	skipped := time.Now()
	cBefore := ups.count(time.Time{}, inC)

	var done time.Time
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if sameFile(filepath.Join(src, "Three", "a.bin"), filepath.Join(dl, "Three", "a.bin")) &&
			sameFile(filepath.Join(src, "Three", "b.bin"), filepath.Join(dl, "Three", "b.bin")) {
			done = time.Now()
			break
		}
		if time.Now().After(deadline) {
			screenshot(t, display, "files-skip-stuck.png")
			t.Fatalf("a.bin and b.bin not complete 90 s after c.bin was skipped")
		}
	}
	time.Sleep(3 * time.Second)
	screenshot(t, display, "files-skipped.png")
	late := ups.count(done, inC)
	total := ups.count(time.Time{}, inC)
	t.Logf("blocks of c.bin sent: %d before the skip was saved, %d after (the last %.1f s after), %d once a.bin and b.bin were complete (%.1f s after); c.bin has %d",
		cBefore, total-cBefore, ups.last(inC).Sub(skipped).Seconds(), late, done.Sub(skipped).Seconds(), sizes["c.bin"]/(16<<10))
	if late > 0 {
		t.Errorf("the seeder sent %d blocks of c.bin after a.bin and b.bin were complete", late)
	}
	if int64(total) >= sizes["c.bin"]/(16<<10) {
		t.Errorf("%d blocks of c.bin sent: all of it, though skipped", total)
	}
	if sameFile(filepath.Join(src, "Three", "c.bin"), filepath.Join(dl, "Three", "c.bin")) {
		t.Error("c.bin is complete on disk though skipped")
	}
	p.quit(t, display)
}
