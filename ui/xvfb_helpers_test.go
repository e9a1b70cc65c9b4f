package ui

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// xdndScript is internal/testpeers/xdnd.py, seen from this package's folder
// (where go test runs).
func xdndScript(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "internal", "testpeers", "xdnd.py"))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(testpeers.Python, "-c", "import Xlib").CombinedOutput(); err != nil {
		t.Fatalf("python3-xlib for %s is missing: install the Debian package python3-xlib (make deps): %v: %s", testpeers.Python, err, out)
	}
	return p
}

// xdotool runs xdotool on display and returns its trimmed output; it fails
// t when xdotool fails.
func xdotool(t *testing.T, display string, args ...string) string {
	t.Helper()
	bin := testpeers.Require(t, "xdotool", "xdotool")
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("xdotool %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// windowGeometry returns a window's place on the screen as xdotool
// reports it.
func windowGeometry(t *testing.T, display, wid string) image.Rectangle {
	t.Helper()
	out := xdotool(t, display, "getwindowgeometry", "--shell", wid)
	var x, y, w, h int
	for _, l := range strings.Split(out, "\n") {
		k, v, _ := strings.Cut(l, "=")
		n, _ := strconv.Atoi(v)
		switch k {
		case "X":
			x = n
		case "Y":
			y = n
		case "WIDTH":
			w = n
		case "HEIGHT":
			h = n
		}
	}
	if w <= 0 || h <= 0 {
		t.Fatalf("xdotool getwindowgeometry %s: %q", wid, out)
	}
	return image.Rect(x, y, x+w, y+h)
}

// readPNG decodes a screenshot.
func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// fyneBlue is the default theme's primary colour (#296ff6), the fill of a
// HighImportance button such as the create dialog's "Create and seed".
var fyneBlue = [3]uint8{0x29, 0x6f, 0xf6}

// largestRegion finds the largest 4-connected region of pixels within tol
// of colour c in img and returns its bounds and size in pixels.
func largestRegion(img image.Image, c [3]uint8, tol int) (image.Rectangle, int) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	match := make([]bool, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			match[y*w+x] = near(r>>8, c[0], tol) && near(g>>8, c[1], tol) && near(bl>>8, c[2], tol)
		}
	}
	seen := make([]bool, w*h)
	var best image.Rectangle
	bestN := 0
	for i := range match {
		if !match[i] || seen[i] {
			continue
		}
		r := image.Rect(i%w, i/w, i%w+1, i/w+1)
		n := 0
		stack := []int{i}
		seen[i] = true
		for len(stack) > 0 {
			j := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			n++
			x, y := j%w, j/w
			r = r.Union(image.Rect(x, y, x+1, y+1))
			for _, k := range [4]int{j - 1, j + 1, j - w, j + w} {
				if k < 0 || k >= w*h || seen[k] || !match[k] || (k == j-1 && x == 0) || (k == j+1 && x == w-1) {
					continue
				}
				seen[k] = true
				stack = append(stack, k)
			}
		}
		if n > bestN {
			best, bestN = r.Add(b.Min), n
		}
	}
	return best, bestN
}

func near(v uint32, c uint8, tol int) bool {
	d := int(v) - int(c)
	return d >= -tol && d <= tol
}
