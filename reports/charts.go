package reports

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// maxChartPoints bounds the points drawn per hop; longer series are
// thinned evenly (the tables keep every sample's figures).
const maxChartPoints = 2000

var palette = []color.RGBA{
	{0x1f, 0x77, 0xb4, 0xff}, {0xff, 0x7f, 0x0e, 0xff}, {0x2c, 0xa0, 0x2c, 0xff},
	{0xd6, 0x27, 0x28, 0xff}, {0x94, 0x67, 0xbd, 0xff}, {0x8c, 0x56, 0x4b, 0xff},
}

// chartHops are the hops worth drawing: those with data, without the
// end-to-end copy of the last hop.
func chartHops(t Topic) []Hop {
	var out []Hop
	for _, h := range t.Hops {
		if len(h.Series) > 0 && h.Name != "end-to-end" {
			out = append(out, h)
		}
	}
	return out
}

func thin(pts []Point) []Point {
	if len(pts) <= maxChartPoints {
		return pts
	}
	out := make([]Point, 0, maxChartPoints)
	step := float64(len(pts)) / maxChartPoints
	for i := 0.0; int(i) < len(pts); i += step {
		out = append(out, pts[int(i)])
	}
	return out
}

// timeChart draws latency against send time, one series per hop.
func timeChart(t Topic) (string, error) {
	hops := chartHops(t)
	if len(hops) == 0 {
		return "", nil
	}
	p := plot.New()
	p.Title.Text = "Latency over time: " + t.Name()
	p.X.Label.Text = "seconds since first sample"
	p.Y.Label.Text = "latency (ms)"
	p.Legend.Top = true
	t0 := firstSent(hops)
	for i, h := range hops {
		pts := thin(h.Series)
		xys := make(plotter.XYs, len(pts))
		for j, pt := range pts {
			xys[j].X = float64(pt.At.UnixMicro())/1e6 - t0
			xys[j].Y = pt.LatencyMS
		}
		s, err := plotter.NewScatter(xys)
		if err != nil {
			return "", err
		}
		s.GlyphStyle.Color = palette[i%len(palette)]
		s.GlyphStyle.Radius = vg.Points(1.5)
		s.GlyphStyle.Shape = draw.CircleGlyph{}
		p.Add(s)
		p.Legend.Add(h.Name, s)
	}
	p.Add(plotter.NewGrid())
	return svg(p, 7.5*vg.Inch, 3.2*vg.Inch)
}

// cdfChart draws the cumulative distribution of latency per hop.
func cdfChart(t Topic) (string, error) {
	hops := chartHops(t)
	if len(hops) == 0 {
		return "", nil
	}
	p := plot.New()
	p.Title.Text = "Latency CDF: " + t.Name()
	p.X.Label.Text = "latency (ms)"
	p.Y.Label.Text = "fraction of samples"
	p.Legend.Top = true
	p.Legend.Left = false
	p.Y.Min, p.Y.Max = 0, 1
	for i, h := range hops {
		vals := make([]float64, len(h.Series))
		for j, pt := range h.Series {
			vals[j] = pt.LatencyMS
		}
		sort.Float64s(vals)
		pts := make(plotter.XYs, 0, min(len(vals), maxChartPoints)+1)
		step := max(1, len(vals)/maxChartPoints)
		for j := 0; j < len(vals); j += step {
			pts = append(pts, plotter.XY{X: vals[j], Y: float64(j+1) / float64(len(vals))})
		}
		pts = append(pts, plotter.XY{X: vals[len(vals)-1], Y: 1})
		if err := addLine(p, i, h.Name, pts); err != nil {
			return "", err
		}
	}
	p.Add(plotter.NewGrid())
	return svg(p, 7.5*vg.Inch, 3.2*vg.Inch)
}

// svg renders a plot as an inline <svg> element (no XML prolog).
func svg(p *plot.Plot, w, h vg.Length) (string, error) {
	c := vgsvg.New(w, h)
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return "", fmt.Errorf("render chart: %w", err)
	}
	s := buf.String()
	if i := strings.Index(s, "<svg"); i >= 0 {
		s = s[i:]
	}
	return s, nil
}

// addLine draws the i-th series as a line, in the legend as name.
func addLine(p *plot.Plot, i int, name string, xys plotter.XYs) error {
	l, err := plotter.NewLine(xys)
	if err != nil {
		return err
	}
	l.Color = palette[i%len(palette)]
	l.Width = vg.Points(1.5)
	p.Add(l)
	p.Legend.Add(name, l)
	return nil
}

// firstSent is the send time of the earliest sample drawn, in seconds.
func firstSent(hops []Hop) float64 {
	t0 := math.Inf(1)
	for _, h := range hops {
		for _, pt := range h.Series {
			t0 = math.Min(t0, float64(pt.At.UnixMicro())/1e6)
		}
	}
	return t0
}

// histChart draws the distribution of end-to-end latency: the last hop
// with data, as the reader of the report sees it.
func histChart(t Topic) (string, error) {
	hops := chartHops(t)
	if len(hops) == 0 {
		return "", nil
	}
	last := hops[len(hops)-1]
	vals := make(plotter.Values, len(last.Series))
	for i, pt := range last.Series {
		vals[i] = pt.LatencyMS
	}
	p := plot.New()
	p.Title.Text = "Latency histogram, end to end (" + last.Name + "): " + t.Name()
	p.X.Label.Text = "latency (ms)"
	p.Y.Label.Text = "samples"
	h, err := plotter.NewHist(vals, min(40, max(5, len(vals)/5)))
	if err != nil {
		return "", err
	}
	h.FillColor = palette[0]
	h.LineStyle.Width = 0
	p.Add(h, plotter.NewGrid())
	return svg(p, 7.5*vg.Inch, 2.8*vg.Inch)
}

// throughputChart draws samples per second arriving at each hop, by the
// second they arrived in (send time plus latency).
func throughputChart(t Topic) (string, error) {
	hops := chartHops(t)
	if len(hops) == 0 {
		return "", nil
	}
	t0 := firstSent(hops)
	p := plot.New()
	p.Title.Text = "Throughput: " + t.Name()
	p.X.Label.Text = "seconds since first sample"
	p.Y.Label.Text = "samples/s"
	p.Legend.Top = true
	for i, h := range hops {
		bins := map[int]float64{}
		last := 0
		for _, pt := range h.Series {
			s := int(float64(pt.At.UnixMicro())/1e6 - t0 + pt.LatencyMS/1e3)
			bins[s]++
			last = max(last, s)
		}
		xys := make(plotter.XYs, 0, last+1)
		for s := 0; s <= last; s++ {
			xys = append(xys, plotter.XY{X: float64(s) + 0.5, Y: bins[s]})
		}
		if err := addLine(p, i, h.Name, xys); err != nil {
			return "", err
		}
	}
	p.Add(plotter.NewGrid())
	return svg(p, 7.5*vg.Inch, 2.8*vg.Inch)
}
