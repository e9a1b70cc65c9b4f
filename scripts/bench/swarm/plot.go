package main

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// clientColor and clientShape tell the clients apart in the plot.
var (
	clientColor = [2]color.Color{color.RGBA{0x1f, 0x6f, 0xc0, 0xff}, color.RGBA{0xe0, 0x70, 0x10, 0xff}}
	clientShape = [2]draw.GlyphDrawer{draw.CircleGlyph{}, draw.PyramidGlyph{}}
)

// writePlot draws the completion times: on the left every run of each
// case (each leecher of the flash crowd) per client, with the median as
// a bar; on the right the flash crowd's leechers as a CDF.
func writePlot(path string, reps []caseReport) error {
	var measured []caseReport
	for _, r := range reps {
		if len(r.runs[swarmdrop])+len(r.runs[libtorrent]) > 0 {
			measured = append(measured, r)
		}
	}
	if len(measured) == 0 {
		return fmt.Errorf("nothing measured")
	}
	left, err := timesPlot(measured)
	if err != nil {
		return err
	}
	row := []*plot.Plot{left}
	if flash := findCase(measured, "flash"); flash != nil {
		right, err := cdfPlot(*flash)
		if err != nil {
			return err
		}
		row = append(row, right)
	}
	w, h := vg.Length(len(row))*6*vg.Inch, 4.5*vg.Inch
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(110))
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	tiles := draw.Tiles{Rows: 1, Cols: len(row), PadX: vg.Inch / 3, PadTop: vg.Inch / 8, PadBottom: vg.Inch / 8, PadLeft: vg.Inch / 8, PadRight: vg.Inch / 4}
	canvases := plot.Align([][]*plot.Plot{row}, tiles, dc)
	for i, p := range row {
		p.Draw(canvases[0][i])
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// findCase returns the report of the named case, or nil.
func findCase(reps []caseReport, name string) *caseReport {
	for i := range reps {
		if reps[i].c.name == name {
			return &reps[i]
		}
	}
	return nil
}

// completionTimes lists a client's completion times in a case: one per
// run, or one per leecher and run for the flash crowd (NaNs left out).
func completionTimes(rep caseReport, c client) []float64 {
	var xs []float64
	for _, r := range rep.runs[c] {
		for _, l := range r.leechers {
			if !math.IsNaN(l.total) {
				xs = append(xs, l.total)
			}
		}
	}
	return xs
}

// timesPlot is the left panel.
func timesPlot(reps []caseReport) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Completion times (points: runs; flash crowd: leechers; bar: median)"
	p.Y.Label.Text = "seconds from launch to complete"
	p.Y.Min = 0
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())
	var names []string
	var inLegend [2]bool
	for k, rep := range reps {
		names = append(names, shortName(rep.c))
		for _, c := range clients {
			xs := completionTimes(rep, c)
			if len(xs) == 0 {
				continue
			}
			x0 := float64(k) + 0.2*float64(2*int(c)-1)
			pts := make(plotter.XYs, len(xs))
			for i, v := range xs {
				// spread the points sideways, deterministically
				pts[i] = plotter.XY{X: x0 + 0.12*(float64(i%7)/6-0.5), Y: v}
			}
			sc, err := plotter.NewScatter(pts)
			if err != nil {
				return nil, err
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: clientColor[c], Shape: clientShape[c], Radius: vg.Points(3)}
			med := median(xs)
			bar, err := plotter.NewLine(plotter.XYs{{X: x0 - 0.13, Y: med}, {X: x0 + 0.13, Y: med}})
			if err != nil {
				return nil, err
			}
			bar.Color, bar.Width = clientColor[c], vg.Points(2.5)
			p.Add(sc, bar)
			if !inLegend[c] {
				inLegend[c] = true
				p.Legend.Add(c.String(), sc)
			}
			p.Y.Max = max(p.Y.Max, slices.Max(xs)*1.25) // room for the legend
		}
	}
	p.NominalX(names...)
	p.Y.Tick.Marker = stepTicks{}
	p.X.Min, p.X.Max = -0.6, float64(len(reps))-0.4
	return p, nil
}

// shortName is a case's axis label.
func shortName(c benchCase) string {
	switch c.name {
	case "longfat":
		return "long fat link\n(libtorrent seeder)"
	case "longfat-sd":
		return "long fat link\n(swarmdrop seeder)"
	case "mixed":
		return "mixed swarm\n(16 seeders)"
	}
	return fmt.Sprintf("flash crowd\n(%d leechers)", len(c.hosts)-1)
}

// cdfPlot is the right panel: the share of flash-crowd leechers complete
// over time, all runs pooled.
func cdfPlot(rep caseReport) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Flash crowd: %d leechers, seeder at 20 Mbit/s (all runs)", len(rep.c.hosts)-1)
	p.X.Label.Text = "seconds from launch"
	p.Y.Label.Text = "share of leechers complete"
	p.X.Min, p.Y.Min, p.Y.Max = 0, 0, 1
	p.Legend.Top = true
	p.Legend.Left = true
	p.X.Tick.Marker = stepTicks{}
	p.Y.Tick.Marker = plot.ConstantTicks([]plot.Tick{{Value: 0, Label: "0"}, {Value: 0.25, Label: "25 %"},
		{Value: 0.5, Label: "50 %"}, {Value: 0.75, Label: "75 %"}, {Value: 1, Label: "100 %"}})
	p.Add(plotter.NewGrid())
	for _, c := range clients {
		xs := completionTimes(rep, c)
		total := 0
		for _, r := range rep.runs[c] {
			total += len(r.leechers)
		}
		if len(xs) == 0 || total == 0 {
			continue
		}
		slices.Sort(xs)
		pts := plotter.XYs{{X: 0, Y: 0}}
		for i, v := range xs {
			pts = append(pts, plotter.XY{X: v, Y: float64(i+1) / float64(total)})
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil, err
		}
		l.StepStyle = plotter.PostStep
		l.Color, l.Width = clientColor[c], vg.Points(2)
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s (mean %.1f s)", c, mean(xs)), l)
		p.X.Max = max(p.X.Max, xs[len(xs)-1]*1.05)
	}
	return p, nil
}

// stepTicks marks an axis of seconds every 1, 2, 5, 10, 20... units,
// about eight labels in all.
type stepTicks struct{}

// Ticks implements plot.Ticker.
func (stepTicks) Ticks(lo, hi float64) []plot.Tick {
	step := 1.0
	for k := 0; (hi-lo)/step > 8; k++ {
		step *= [3]float64{2, 2.5, 2}[k%3]
	}
	var ts []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		ts = append(ts, plot.Tick{Value: v, Label: fmt.Sprintf("%g", v)})
	}
	return ts
}

// median is the median of xs (not empty).
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// mean is the mean of xs (not empty).
func mean(xs []float64) float64 {
	var sum float64
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}
