package plot

import (
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// TestSavePNG draws a CDF and a bar chart side by side and checks the
// image: its size follows from the panel size and count, and both halves
// hold drawing (coloured pixels, not only the white background).
func TestSavePNG(t *testing.T) {
	cdf, err := CDF("lookup time", "seconds", []Series{
		{Name: "first peer", Values: []float64{0.3, 0.5, 0.4, 1.2}},
		{Name: "done", Values: []float64{0.8, 1.1, 0.9, 2.5}},
		{Name: "empty"},
	}, CDFOptions{Marks: []Mark{{Name: "goal", X: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	bars, err := Bars("completion", "seconds", []string{"fat link", "mixed"}, []Series{
		{Name: "swarmdrop", Values: []float64{10, 20}},
		{Name: "libtorrent", Values: []float64{12, math.NaN()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "fig.png")
	if err := SavePNG(path, 2, 5, 4, cdf, bars); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	// 10 x 4 inches at 110 dpi, plus the legends' strip (two lines).
	if b.Dx() != 1100 || b.Dy() < 440+30 || b.Dy() > 440+80 {
		t.Errorf("image is %dx%d, want 1100 wide and 470 to 520 high", b.Dx(), b.Dy())
	}
	for half := range 2 {
		coloured := 0
		for y := b.Min.Y; y < b.Max.Y; y += 2 {
			for x := b.Min.X + half*b.Dx()/2; x < b.Min.X+(half+1)*b.Dx()/2; x += 2 {
				r, g, bl, _ := img.At(x, y).RGBA()
				if max(r, g, bl)-min(r, g, bl) > 0x2000 {
					coloured++
				}
			}
		}
		if coloured < 100 {
			t.Errorf("half %d of the image has %d coloured pixels: nothing drawn?", half, coloured)
		}
	}
}

// TestEmpty checks that a panel with nothing to draw is an error, not an
// empty chart.
func TestEmpty(t *testing.T) {
	if _, err := CDF("t", "x", []Series{{Name: "a"}}, CDFOptions{}); err == nil {
		t.Error("CDF of empty series: no error")
	}
	if _, err := Bars("t", "y", []string{"a"}, []Series{{Name: "s", Values: []float64{1, 2}}}); err == nil {
		t.Error("Bars with more values than labels: no error")
	}
	if err := SavePNG(filepath.Join(t.TempDir(), "x.png"), 1, 4, 3); err == nil {
		t.Error("SavePNG without panels: no error")
	}
}
