package ui

import (
	"fmt"
	"image/draw"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
	"image"
	"image/color"
	"math"

	"gioui.org/f32"
	"gioui.org/layout"
	"gioui.org/op/clip"
	"gioui.org/op/paint"
	"gioui.org/widget/material"
)

// series is one line of a chart.
type series struct {
	name  string
	col   color.NRGBA
	x, y  []float64
	marks bool // draw points (sparse series such as evaluations)
}

// chart draws line series against images seen, with labelled axes.
type chart struct {
	title string
	data  []series
}

func niceRange(lo, hi float64) (float64, float64) {
	if math.IsInf(lo, 0) || math.IsNaN(lo) || lo == hi {
		return lo - 1, hi + 1
	}
	pad := (hi - lo) * 0.08
	return lo - pad, hi + pad
}

func fmtAxis(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case a >= 1e3:
		return fmt.Sprintf("%.0fk", v/1e3)
	case a >= 10 || a == 0:
		return fmt.Sprintf("%.0f", v)
	case a >= 1:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// plotCache keeps a chart's rendering between frames. On a software renderer (Mesa llvmpipe under
// Xvfb) stroking hundreds of line segments and drawing a few dozen labels costs tens of
// milliseconds a frame; drawing one cached image costs almost nothing. The chart is rasterised
// again only when its data or size change.
type plotCache struct {
	key string
	op  paint.ImageOp // one op per image, so the GPU keeps its texture
}

func (c chart) key(size image.Point, scale float32) string {
	k := fmt.Sprint(size, scale, len(c.data))
	for _, s := range c.data {
		k += fmt.Sprint(len(s.x))
		if n := len(s.x); n > 0 {
			k += fmt.Sprint(s.x[n-1], s.y[n-1], s.y[0])
		}
	}
	return k
}

func (c chart) layout(gtx layout.Context, th *material.Theme, size image.Point, cache *plotCache) layout.Dimensions {
	if size.X < 1 || size.Y < 1 {
		return layout.Dimensions{Size: size}
	}
	if key := c.key(size, gtx.Metric.PxPerDp); cache.key != key {
		cache.op = paint.NewImageOp(c.render(size, gtx.Metric.PxPerDp))
		cache.key = key
	}
	defer clip.Rect(image.Rectangle{Max: size}).Push(gtx.Ops).Pop()
	cache.op.Add(gtx.Ops)
	paint.PaintOp{}.Add(gtx.Ops)
	return layout.Dimensions{Size: size}
}

var (
	chartFontOnce sync.Once
	chartFont     *opentype.Font
)

func labelFace(px float64) font.Face {
	chartFontOnce.Do(func() { chartFont, _ = opentype.Parse(goregular.TTF) })
	if chartFont == nil {
		return nil
	}
	f, err := opentype.NewFace(chartFont, &opentype.FaceOptions{Size: px, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil
	}
	return f
}

// render draws the whole chart (background, frame, series, labels) into an image of size px.
func (c chart) render(size image.Point, dp float32) *image.RGBA {
	if dp <= 0 {
		dp = 1
	}
	d := func(v float32) float32 { return v * dp }
	img := image.NewRGBA(image.Rectangle{Max: size})
	draw.Draw(img, img.Bounds(), image.NewUniform(colPanel), image.Point{}, draw.Src)
	face := labelFace(float64(d(11)))
	text := func(x, y float32, s string, col color.NRGBA) { // y is the top of the text
		if face == nil {
			return
		}
		dr := font.Drawer{Dst: img, Src: image.NewUniform(col), Face: face,
			Dot: fixed.P(int(x), int(y)+face.Metrics().Ascent.Ceil())}
		dr.DrawString(s)
	}
	width := func(s string) float32 {
		if face == nil {
			return 0
		}
		return float32(font.MeasureString(face, s).Ceil())
	}
	text(d(10), d(6), c.title, colFg)
	lx := float32(size.X) - d(8)
	for i := len(c.data) - 1; i >= 0; i-- {
		s := "- " + c.data[i].name
		lx -= width(s) + d(10)
		text(lx, d(6), s, c.data[i].col)
	}
	x0, y0 := d(46), d(26)
	x1, y1 := float32(size.X)-d(10), float32(size.Y)-d(22)
	if x1-x0 < 10 || y1-y0 < 10 {
		return img
	}
	r := vector.NewRasterizer(size.X, size.Y)
	line := func(r *vector.Rasterizer, a, b f32.Point, w float32) {
		v := b.Sub(a)
		l := float32(math.Hypot(float64(v.X), float64(v.Y)))
		if l == 0 {
			return
		}
		n := f32.Pt(-v.Y/l*w/2, v.X/l*w/2)
		r.MoveTo(a.X+n.X, a.Y+n.Y)
		r.LineTo(b.X+n.X, b.Y+n.Y)
		r.LineTo(b.X-n.X, b.Y-n.Y)
		r.LineTo(a.X-n.X, a.Y-n.Y)
		r.ClosePath()
	}
	paintWith := func(r *vector.Rasterizer, col color.NRGBA) {
		r.Draw(img, img.Bounds(), image.NewUniform(col), image.Point{})
	}
	// the plot's frame
	line(r, f32.Pt(x0, y0), f32.Pt(x1, y0), 1)
	line(r, f32.Pt(x0, y1), f32.Pt(x1, y1), 1)
	line(r, f32.Pt(x0, y0), f32.Pt(x0, y1), 1)
	line(r, f32.Pt(x1, y0), f32.Pt(x1, y1), 1)

	xlo, xhi, ylo, yhi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	n := 0
	for _, s := range c.data {
		for i := range s.x {
			if math.IsNaN(s.y[i]) || math.IsInf(s.y[i], 0) {
				continue
			}
			xlo, xhi = math.Min(xlo, s.x[i]), math.Max(xhi, s.x[i])
			ylo, yhi = math.Min(ylo, s.y[i]), math.Max(yhi, s.y[i])
			n++
		}
	}
	if n == 0 {
		paintWith(r, colBorder)
		text(x0+d(8), y0+d(8), "no data yet", colMuted)
		return img
	}
	if xlo == xhi {
		xhi = xlo + 1
	}
	ylo, yhi = niceRange(ylo, yhi)
	px := func(x float64) float32 { return x0 + float32((x-xlo)/(xhi-xlo))*(x1-x0) }
	py := func(y float64) float32 { return y1 - float32((y-ylo)/(yhi-ylo))*(y1-y0) }
	if ylo < 0 && yhi > 0 {
		line(r, f32.Pt(x0, py(0)), f32.Pt(x1, py(0)), 1)
	}
	paintWith(r, colBorder)
	for i := 0; i <= 2; i++ { // three ticks on each axis
		yv := ylo + (yhi-ylo)*float64(i)/2
		text(d(4), py(yv)-d(7), fmtAxis(yv), colMuted)
		xv := xlo + (xhi-xlo)*float64(i)/2
		text(px(xv)-d(12), y1+d(4), fmtAxis(xv), colMuted)
	}
	for _, s := range c.data {
		r := vector.NewRasterizer(size.X, size.Y)
		var prev f32.Point
		started := false
		for i := range s.x {
			if math.IsNaN(s.y[i]) || math.IsInf(s.y[i], 0) {
				continue
			}
			pt := f32.Pt(px(s.x[i]), py(s.y[i]))
			if started {
				line(r, prev, pt, d(1.5))
			}
			if s.marks {
				line(r, pt.Sub(f32.Pt(d(2.5), 0)), pt.Add(f32.Pt(d(2.5), 0)), d(5))
			}
			prev, started = pt, true
		}
		paintWith(r, s.col)
	}
	return img
}
