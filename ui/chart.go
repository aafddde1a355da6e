package ui

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"gioui.org/f32"
	"gioui.org/layout"
	"gioui.org/op"
	"gioui.org/op/clip"
	"gioui.org/op/paint"
	"gioui.org/unit"
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

func (c chart) layout(gtx layout.Context, th *material.Theme, size image.Point) layout.Dimensions {
	defer clip.UniformRRect(image.Rectangle{Max: size}, gtx.Dp(6)).Push(gtx.Ops).Pop()
	paint.ColorOp{Color: colPanel}.Add(gtx.Ops)
	paint.PaintOp{}.Add(gtx.Ops)

	text := func(x, y int, s string, col color.NRGBA) {
		defer op.Offset(image.Pt(x, y)).Push(gtx.Ops).Pop()
		g := gtx
		g.Constraints = layout.Constraints{Max: size}
		l := material.Label(th, 11, s)
		l.Color = col
		l.Layout(g)
	}
	text(gtx.Dp(10), gtx.Dp(6), c.title, colFg)
	// legend
	lx := size.X - gtx.Dp(8)
	for i := len(c.data) - 1; i >= 0; i-- {
		s := c.data[i]
		lx -= gtx.Dp(unit.Dp(18 + 7*len(s.name)))
		text(lx, gtx.Dp(6), "- "+s.name, s.col)
	}

	x0, y0 := gtx.Dp(46), gtx.Dp(26)
	x1, y1 := size.X-gtx.Dp(10), size.Y-gtx.Dp(22)
	if x1-x0 < 10 || y1-y0 < 10 {
		return layout.Dimensions{Size: size}
	}
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
	strokeRect(gtx, image.Rect(x0, y0, x1, y1), colBorder, 1)
	if n == 0 {
		text(x0+gtx.Dp(8), y0+gtx.Dp(8), "no data yet", colMuted)
		return layout.Dimensions{Size: size}
	}
	if xlo == xhi {
		xhi = xlo + 1
	}
	ylo, yhi = niceRange(ylo, yhi)
	px := func(x float64) float32 { return float32(x0) + float32((x-xlo)/(xhi-xlo))*float32(x1-x0) }
	py := func(y float64) float32 { return float32(y1) - float32((y-ylo)/(yhi-ylo))*float32(y1-y0) }
	// axes labels: 3 ticks each
	for i := 0; i <= 2; i++ {
		yv := ylo + (yhi-ylo)*float64(i)/2
		text(gtx.Dp(4), int(py(yv))-gtx.Dp(7), fmtAxis(yv), colMuted)
		xv := xlo + (xhi-xlo)*float64(i)/2
		text(int(px(xv))-gtx.Dp(12), y1+gtx.Dp(4), fmtAxis(xv), colMuted)
	}
	if ylo < 0 && yhi > 0 { // zero line
		var p clip.Path
		p.Begin(gtx.Ops)
		p.MoveTo(f32.Pt(float32(x0), py(0)))
		p.LineTo(f32.Pt(float32(x1), py(0)))
		paint.FillShape(gtx.Ops, colBorder, clip.Stroke{Path: p.End(), Width: 1}.Op())
	}
	for _, s := range c.data {
		var p clip.Path
		p.Begin(gtx.Ops)
		started := false
		for i := range s.x {
			if math.IsNaN(s.y[i]) || math.IsInf(s.y[i], 0) {
				continue
			}
			pt := f32.Pt(px(s.x[i]), py(s.y[i]))
			if !started {
				p.MoveTo(pt)
				started = true
			} else {
				p.LineTo(pt)
			}
		}
		paint.FillShape(gtx.Ops, s.col, clip.Stroke{Path: p.End(), Width: float32(gtx.Dp(1.5))}.Op())
		if s.marks {
			for i := range s.x {
				r := float32(gtx.Dp(2.5))
				c := f32.Pt(px(s.x[i]), py(s.y[i]))
				e := clip.Ellipse{Min: image.Pt(int(c.X-r), int(c.Y-r)), Max: image.Pt(int(c.X+r), int(c.Y+r))}
				paint.FillShape(gtx.Ops, s.col, e.Op(gtx.Ops))
			}
		}
	}
	return layout.Dimensions{Size: size}
}
