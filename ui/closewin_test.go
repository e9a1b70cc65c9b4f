package ui

import (
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// closeWindow asks the window wid to close as a window manager's close
// button does: a WM_DELETE_WINDOW message (Xvfb has no window manager).
func closeWindow(t *testing.T, display, wid string) {
	t.Helper()
	xdndScript(t) // python3-xlib is there
	const send = `import sys
from Xlib import display, X, protocol
d = display.Display(sys.argv[1])
w = d.create_resource_object('window', int(sys.argv[2]))
msg = protocol.event.ClientMessage(window=w, client_type=d.intern_atom('WM_PROTOCOLS'),
    data=(32, [d.intern_atom('WM_DELETE_WINDOW'), X.CurrentTime, 0, 0, 0]))
w.send_event(msg, event_mask=X.NoEventMask)
d.flush()
`
	if out, err := exec.Command(testpeers.Python, "-c", send, display, wid).CombinedOutput(); err != nil {
		t.Fatalf("sending WM_DELETE_WINDOW: %v: %s", err, out)
	}
}

// uploads counts the blocks a libtorrent seeder started with
// --print-uploads sends, by piece, as it reports them.
type uploads struct {
	mu     sync.Mutex
	blocks []upload
}

type upload struct {
	at    time.Time
	piece int
}

// recordUploads reads p's UPLOAD lines until it ends.
func recordUploads(p *testpeers.Proc) *uploads {
	u := &uploads{}
	go func() {
		for l := range p.Lines {
			var piece, block int
			if _, err := fmt.Sscanf(l, "UPLOAD %d %d", &piece, &block); err == nil {
				u.mu.Lock()
				u.blocks = append(u.blocks, upload{time.Now(), piece})
				u.mu.Unlock()
			}
		}
	}()
	return u
}

// count returns how many blocks of pieces accepted by in were sent after
// from.
func (u *uploads) count(from time.Time, in func(piece int) bool) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for _, b := range u.blocks {
		if !b.at.Before(from) && in(b.piece) {
			n++
		}
	}
	return n
}

// last returns when the last block of a piece accepted by in was sent
// (zero: none).
func (u *uploads) last(in func(piece int) bool) time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	var at time.Time
	for _, b := range u.blocks {
		if in(b.piece) {
			at = b.at
		}
	}
	return at
}

func anyPiece(int) bool { return true }

// waitUploads waits until the seeder sent n blocks since from.
func (u *uploads) waitUploads(t *testing.T, from time.Time, n int, timeout time.Duration, what string) {
	t.Helper()
	for deadline := time.Now().Add(timeout); u.count(from, anyPiece) < n; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: the seeder sent %d blocks in %v, want %d", what, u.count(from, anyPiece), timeout, n)
		}
	}
}

// changedFraction is the share of the pixels of rectangle r that differ
// between two screenshots: a modal dialog dims the whole window.
func changedFraction(a, b image.Image, r image.Rectangle) float64 {
	n, changed := 0, 0
	for y := r.Min.Y; y < r.Max.Y; y += 2 {
		for x := r.Min.X; x < r.Max.X; x += 2 {
			n++
			if a.At(x, y) != b.At(x, y) {
				changed++
			}
		}
	}
	return float64(changed) / float64(max(n, 1))
}

// exited waits up to timeout for the program to end and returns its
// error; ok is false when it is still running.
func (p *program) exited(timeout time.Duration) (err error, ok bool) {
	select {
	case err := <-p.done:
		p.done <- err
		return err, true
	case <-time.After(timeout):
		return nil, false
	}
}

// TestCloseAsksWhileTransferring runs the real window under Xvfb,
// downloading from a rate-limited libtorrent seeder, and closes it as a
// window manager would (WM_DELETE_WINDOW): the window asks (a modal
// dialog dims it) and the program keeps running; Escape (Cancel) closes
// the dialog and the download goes on; closing again and Return (Quit)
// ends the program cleanly. With nothing transferring, closing quits at
// once without asking.
func TestCloseAsksWhileTransferring(t *testing.T) {
	display := startXvfb(t)
	root := t.TempDir()
	src := filepath.Join(root, "src")
	testpeers.RandomFile(t, filepath.Join(src, "Big.bin"), 24<<20, 61)
	mi := mktorrent(t, filepath.Join(src, "Big.bin"), 16)
	tf := filepath.Join(root, "big.torrent")
	data, err := mi.Encode()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(tf, data, 0o644)
	seeder := testpeers.StartLT(t, "seed", tf, src, "--port", "0", "--rate", "150000", "--seconds", "300", "--print-uploads")
	port := seeder.Port(t)
	seeder.Wait(t, "SEEDING", 30*time.Second)
	ups := recordUploads(seeder)
	mag := mi.Magnet()
	mag.Peers = []string{fmt.Sprintf("127.0.0.1:%d", port)}

	writeSettings(t, root, map[string]any{"bootstrap": "", "download_dir": filepath.Join(root, "Downloads"),
		"port": 0, "upnp": false, "max_connections": 50, "skip_add_dialog": true})
	p := startProgram(t, xdgEnv(root, display), "main", mag.String())
	ups.waitUploads(t, time.Time{}, 10, 60*time.Second, "downloading")
	wid, _, _ := strings.Cut(xdotool(t, display, "search", "--sync", "--name", "^Swarmdrop$"), "\n")
	win := windowGeometry(t, display, wid)
	time.Sleep(time.Second) // the row and the rates drawn
	before := readPNG(t, screenshot(t, display, "close-before.png"))

	closeWindow(t, display, wid)
	if err, ok := p.exited(2 * time.Second); ok {
		t.Fatalf("closing while downloading quit without asking (%v)", err)
	}
	asking := readPNG(t, screenshot(t, display, "close-asks.png"))
	if f := changedFraction(before, asking, win); f < 0.5 {
		t.Fatalf("closing while downloading changed %.0f%% of the window: no dialog dims it (see close-asks.png)", 100*f)
	}

	keys := func(k ...string) {
		t.Helper()
		xdotool(t, display, append([]string{"search", "--sync", "--name", "^Swarmdrop$", "windowfocus", "--sync", "key", "--clearmodifiers", "--delay", "200"}, k...)...)
	}
	keys("Escape") // Cancel
	cancelled := time.Now()
	time.Sleep(time.Second)
	if err, ok := p.exited(time.Second); ok {
		t.Fatalf("Cancel ended the program (%v)", err)
	}
	after := readPNG(t, screenshot(t, display, "close-cancelled.png"))
	if f := changedFraction(before, after, win); f > 0.2 {
		t.Errorf("after Cancel %.0f%% of the window differs from before closing: the dialog stayed? (see close-cancelled.png)", 100*f)
	}
	ups.waitUploads(t, cancelled, 10, 20*time.Second, "after Cancel")

	closeWindow(t, display, wid)
	if err, ok := p.exited(time.Second); ok {
		t.Fatalf("closing again after Cancel quit without asking (%v)", err)
	}
	screenshot(t, display, "close-asks-again.png")
	// Return: Quit, the dialog's default. The window may be gone before
	// the key is released, which xdotool reports as an error.
	ret := exec.Command(testpeers.Require(t, "xdotool", "xdotool"), "search", "--sync", "--name", "^Swarmdrop$", "windowfocus", "--sync", "key", "--clearmodifiers", "Return")
	ret.Env = append(os.Environ(), "DISPLAY="+display)
	ret.Run()
	switch err, ok := p.exited(20 * time.Second); {
	case !ok:
		t.Fatal("Quit in the close dialog did not end the program within 20 s")
	case err != nil:
		t.Fatalf("the program exited with %v: %s", err, lastLines(p.stderr.String(), 10))
	}

	// Nothing transferring: closing quits at once.
	idle := t.TempDir()
	writeSettings(t, idle, map[string]any{"bootstrap": "", "download_dir": filepath.Join(idle, "Downloads"),
		"port": 0, "upnp": false, "max_connections": 50})
	q := startProgram(t, xdgEnv(idle, display), "main")
	wid, _, _ = strings.Cut(xdotool(t, display, "search", "--sync", "--name", "^Swarmdrop$"), "\n")
	time.Sleep(time.Second)
	closeWindow(t, display, wid)
	switch err, ok := q.exited(15 * time.Second); {
	case !ok:
		screenshot(t, display, "close-idle.png")
		t.Fatal("closing an idle window did not quit within 15 s (see close-idle.png)")
	case err != nil:
		t.Fatalf("the idle program exited with %v: %s", err, lastLines(q.stderr.String(), 10))
	}
}
