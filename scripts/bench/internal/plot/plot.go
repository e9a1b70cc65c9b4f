// Package plot draws the PNG figures of Swarmdrop's benchmarks with
// gonum's plotting library: panels of cumulative distributions and of
// grouped bars, laid side by side in one image. Callers need not import
// gonum: a Panel is built here and only passed to SavePNG.
package plot

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"slices"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Series is a named set of values: one curve of a CDF, or one bar per
// label of a bar chart.
type Series struct {
	Name   string
	Values []float64
}

// Mark is a vertical line across a CDF panel, such as a goal.
type Mark struct {
	Name string
	X    float64
}

// CDFOptions tune a CDF panel; the zero value plots every value on a
// linear axis.
type CDFOptions struct {
	// Marks are drawn as dashed grey vertical lines, named in the legend.
	Marks []Mark
	// XMax cuts the x axis (the curves run off the right edge); 0 fits
	// the largest value and mark.
	XMax float64
	// IntegerX labels the x axis with whole numbers (counts).
	IntegerX bool
}

// Panel is one chart of a figure, with its legend below it.
type Panel struct {
	p      *gplot.Plot
	legend []legendEntry
}

type legendEntry struct {
	name  string
	thumb gplot.Thumbnailer
}

// Sizes of text, in points: larger than gonum's defaults so that a figure
// reads at a glance.
const (
	titleSize  = 15
	labelSize  = 13
	tickSize   = 11
	legendSize = 12
	lineWidth  = 2
)

func newPanel(title, xlabel, ylabel string) *gplot.Plot {
	p := gplot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = titleSize
	p.Title.Padding = 6
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	for _, a := range []*gplot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font.Size = labelSize
		a.Tick.Label.Font.Size = tickSize
	}
	p.Add(plotter.NewGrid())
	return p
}

// CDF returns a panel with, for each series, the fraction of its values
// at most x. Empty series are left out; it fails if all are empty.
func CDF(title, xlabel string, series []Series, opt CDFOptions) (*Panel, error) {
	p := newPanel(title, xlabel, "fraction ≤ x")
	pn := &Panel{p: p}
	p.Y.Min, p.Y.Max = 0, 1
	maxX := 0.0
	drawn := 0
	for i, s := range series {
		if len(s.Values) == 0 {
			continue
		}
		v := slices.Clone(s.Values)
		slices.Sort(v)
		// A step curve: up by 1/n at each value.
		pts := plotter.XYs{{X: min(0, v[0]), Y: 0}}
		for j, x := range v {
			pts = append(pts, plotter.XY{X: x, Y: float64(j) / float64(len(v))})
			pts = append(pts, plotter.XY{X: x, Y: float64(j+1) / float64(len(v))})
		}
		maxX = max(maxX, v[len(v)-1])
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil, fmt.Errorf("plotting %s: %w", s.Name, err)
		}
		l.Color = plotutil.Color(i)
		l.Width = vg.Points(lineWidth)
		l.Dashes = plotutil.Dashes(i)
		p.Add(l)
		pn.legend = append(pn.legend, legendEntry{fmt.Sprintf("%s (n=%d)", s.Name, len(v)), l})
		drawn++
	}
	if drawn == 0 {
		return nil, fmt.Errorf("plotting %q: no values", title)
	}
	for _, m := range opt.Marks {
		l, err := plotter.NewLine(plotter.XYs{{X: m.X, Y: 0}, {X: m.X, Y: 1}})
		if err != nil {
			return nil, err
		}
		l.Color = color.Gray{Y: 90}
		l.Width = vg.Points(1.5)
		l.Dashes = []vg.Length{vg.Points(6), vg.Points(4)}
		p.Add(l)
		pn.legend = append(pn.legend, legendEntry{m.Name, l})
		maxX = max(maxX, m.X)
	}
	p.X.Min = 0
	p.X.Max = maxX * 1.02
	if opt.XMax > 0 {
		p.X.Max = opt.XMax
	}
	if opt.IntegerX {
		p.X.Tick.Marker = integerTicks{}
	}
	return pn, nil
}

// integerTicks marks whole numbers: a step of 1, 2, 5, 10, 20, 50...
// that gives at most 10 labels.
type integerTicks struct{}

func (integerTicks) Ticks(lo, hi float64) []gplot.Tick {
	step := 1.0
	for i := 0; (hi-lo)/step > 10; i++ {
		step *= [3]float64{2, 2.5, 2}[i%3]
	}
	var ticks []gplot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		ticks = append(ticks, gplot.Tick{Value: v, Label: fmt.Sprintf("%.0f", v)})
	}
	return ticks
}

// Bars returns a panel of grouped bars: one group per label, and in each
// group one bar per series (series i's Values[j] belongs to labels[j]).
// NaN values leave a gap.
func Bars(title, ylabel string, labels []string, series []Series) (*Panel, error) {
	p := newPanel(title, "", ylabel)
	pn := &Panel{p: p}
	p.Y.Min = 0
	if len(series) == 0 {
		return nil, fmt.Errorf("plotting %q: no series", title)
	}
	width := vg.Points(60 / float64(len(series)))
	for i, s := range series {
		if len(s.Values) != len(labels) {
			return nil, fmt.Errorf("plotting %s: %d values for %d labels", s.Name, len(s.Values), len(labels))
		}
		vals := make(plotter.Values, len(s.Values))
		for j, v := range s.Values {
			if math.IsNaN(v) {
				v = 0
			}
			vals[j] = v
		}
		b, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return nil, fmt.Errorf("plotting %s: %w", s.Name, err)
		}
		b.Color = plotutil.Color(i)
		b.LineStyle.Width = 0
		b.Offset = width * (vg.Length(i) - vg.Length(len(series)-1)/2)
		p.Add(b)
		pn.legend = append(pn.legend, legendEntry{s.Name, b})
	}
	p.NominalX(labels...)
	return pn, nil
}

// SavePNG draws the panels in a grid of cols columns, each panel
// panelWidth by panelHeight inches plus its legend below, into the PNG
// file path.
func SavePNG(path string, cols int, panelWidth, panelHeight float64, panels ...*Panel) error {
	if len(panels) == 0 || cols < 1 {
		return fmt.Errorf("writing %s: nothing to draw", path)
	}
	cols = min(cols, len(panels))
	rows := (len(panels) + cols - 1) / cols
	grid := make([][]*gplot.Plot, rows)
	for i := range grid {
		grid[i] = make([]*gplot.Plot, cols)
	}
	for i, pn := range panels {
		grid[i/cols][i%cols] = pn.p
	}
	// Each panel's legend goes in two columns below it, in a strip as
	// high as the tallest legend (so that the charts stay aligned).
	lines := 0
	for _, pn := range panels {
		lines = max(lines, (len(pn.legend)+1)/2)
	}
	entry := gplot.NewLegend()
	entry.TextStyle.Font.Size = legendSize
	strip := vg.Length(lines)*(entry.TextStyle.Rectangle("Xg").Size().Y+entry.Padding) + vg.Points(10)
	w := vg.Length(panelWidth*float64(cols)) * vg.Inch
	h := vg.Length(panelHeight*float64(rows))*vg.Inch + strip*vg.Length(rows)
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(110))
	dc := draw.New(img)
	pad := vg.Points(12)
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadTop: pad, PadBottom: pad, PadLeft: pad, PadRight: pad, PadX: 2 * pad, PadY: 2 * pad}
	canvases := gplot.Align(grid, tiles, dc)
	for i, pn := range panels {
		c := canvases[i/cols][i%cols]
		chart, below := c, c
		chart.Min.Y += strip
		below.Max.Y = c.Min.Y + strip
		pn.p.Draw(chart)
		data := pn.p.DataCanvas(chart)
		half := (len(pn.legend) + 1) / 2
		for col, entries := range [][]legendEntry{pn.legend[:half], pn.legend[half:]} {
			l := gplot.NewLegend()
			l.TextStyle.Font.Size = legendSize
			l.Top, l.Left = true, true
			l.ThumbnailWidth = vg.Points(28)
			for _, e := range entries {
				l.Add(e.name, e.thumb)
			}
			area := below
			area.Min.X = data.Min.X + vg.Length(col)*(data.Max.X-data.Min.X)/2
			l.Draw(area)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}
