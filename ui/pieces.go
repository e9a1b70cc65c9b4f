package ui

import (
	"image"
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// pieceStrip draws which pieces of a torrent are done: one column per
// pixel, coloured by the share of its pieces that are verified.
type pieceStrip struct {
	widget.BaseWidget
	have  []byte // wire bitfield
	count int    // pieces
	img   *canvas.Raster
}

func newPieceStrip() *pieceStrip {
	p := &pieceStrip{}
	p.img = canvas.NewRaster(p.draw)
	p.ExtendBaseWidget(p)
	return p
}

// set shows a new bitfield of count pieces.
func (p *pieceStrip) set(have []byte, count int) {
	p.have, p.count = have, count
	p.img.Refresh()
}

func (p *pieceStrip) CreateRenderer() fyne.WidgetRenderer {
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	return &stripRenderer{p: p, objs: []fyne.CanvasObject{bg, p.img}}
}

func (p *pieceStrip) draw(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	if w <= 0 || h <= 0 {
		return img
	}
	done := toRGBA(theme.Color(theme.ColorNamePrimary))
	empty := toRGBA(theme.Color(theme.ColorNameInputBackground))
	for x := 0; x < w; x++ {
		share := 0.0
		if p.count > 0 {
			lo, hi := x*p.count/w, (x+1)*p.count/w
			if hi <= lo {
				hi = lo + 1
			}
			n := 0
			for i := lo; i < hi; i++ {
				if i/8 < len(p.have) && p.have[i/8]&(0x80>>(i%8)) != 0 {
					n++
				}
			}
			share = float64(n) / float64(hi-lo)
		}
		c := mix(empty, done, share)
		for y := 0; y < h; y++ {
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func toRGBA(c color.Color) color.RGBA {
	r, g, b, a := c.RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
}

func mix(a, b color.RGBA, f float64) color.RGBA {
	m := func(x, y uint8) uint8 { return uint8(float64(x)*(1-f) + float64(y)*f) }
	return color.RGBA{m(a.R, b.R), m(a.G, b.G), m(a.B, b.B), 255}
}

type stripRenderer struct {
	p    *pieceStrip
	objs []fyne.CanvasObject
}

func (r *stripRenderer) Layout(s fyne.Size) {
	for _, o := range r.objs {
		o.Resize(s)
	}
}
func (r *stripRenderer) MinSize() fyne.Size           { return fyne.NewSize(100, 14) }
func (r *stripRenderer) Refresh()                     { r.p.img.Refresh() }
func (r *stripRenderer) Objects() []fyne.CanvasObject { return r.objs }
func (r *stripRenderer) Destroy()                     {}
