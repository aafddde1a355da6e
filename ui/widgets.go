package ui

import (
	"image"
	"image/color"

	"gioui.org/f32"
	"gioui.org/layout"
	"gioui.org/op"
	"gioui.org/op/clip"
	"gioui.org/op/paint"
	"gioui.org/unit"
	"gioui.org/widget"
	"gioui.org/widget/material"
)

// imageCache keeps one paint.ImageOp per image: images published by the session are never
// modified, so an image's pointer identifies its contents.
type imageCache struct {
	ops map[image.Image]paint.ImageOp
	gen map[image.Image]int
	n   int
}

func (c *imageCache) op(img image.Image) paint.ImageOp {
	if c.ops == nil {
		c.ops, c.gen = map[image.Image]paint.ImageOp{}, map[image.Image]int{}
	}
	c.n++
	if o, ok := c.ops[img]; ok {
		c.gen[img] = c.n
		return o
	}
	o := paint.NewImageOp(img)
	o.Filter = paint.FilterNearest // pixels stay crisp when textures are magnified
	c.ops[img], c.gen[img] = o, c.n
	if len(c.ops) > 64 { // forget images not drawn recently
		for k, g := range c.gen {
			if c.n-g > 200 {
				delete(c.ops, k)
				delete(c.gen, k)
			}
		}
	}
	return o
}

// drawImage draws img scaled to fit a square (or the given size) keeping its aspect ratio.
func (c *imageCache) drawImage(gtx layout.Context, img image.Image, size image.Point) layout.Dimensions {
	if isNil(img) {
		return layout.Dimensions{Size: size}
	}
	b := img.Bounds()
	scale := min(float32(size.X)/float32(b.Dx()), float32(size.Y)/float32(b.Dy()))
	w := widget.Image{Src: c.op(img), Fit: widget.Unscaled, Scale: scale / gtx.Metric.PxPerDp}
	if gtx.Metric.PxPerDp == 0 {
		w.Scale = scale
	}
	return w.Layout(gtx)
}

// fill paints a rectangle.
func fill(gtx layout.Context, col color.NRGBA, size image.Point) layout.Dimensions {
	defer clip.Rect{Max: size}.Push(gtx.Ops).Pop()
	paint.ColorOp{Color: col}.Add(gtx.Ops)
	paint.PaintOp{}.Add(gtx.Ops)
	return layout.Dimensions{Size: size}
}

// panel draws w on a panel background that fills the available space, with padding. (Square
// corners: on software renderers a rounded clip over a large area costs several milliseconds a
// frame.)
func panel(gtx layout.Context, w layout.Widget) layout.Dimensions {
	m := op.Record(gtx.Ops)
	dims := layout.UniformInset(unit.Dp(12)).Layout(gtx, w)
	call := m.Stop()
	dims.Size = gtx.Constraints.Max // panels fill their space
	defer clip.Rect(image.Rectangle{Max: dims.Size}).Push(gtx.Ops).Pop()
	paint.ColorOp{Color: colPanel}.Add(gtx.Ops)
	paint.PaintOp{}.Add(gtx.Ops)
	call.Add(gtx.Ops)
	return dims
}

// texts rasterises the studio's labels (see textCache). The UI is drawn from one goroutine.
var texts textCache

// heading is a section title.
func heading(th *material.Theme, txt string) layout.Widget {
	return func(gtx layout.Context) layout.Dimensions {
		return layout.Inset{Bottom: unit.Dp(6), Top: unit.Dp(4)}.Layout(gtx, func(gtx layout.Context) layout.Dimensions {
			return texts.layout(gtx, txt, 13, colAccent)
		})
	}
}

func label(th *material.Theme, txt string) layout.Widget {
	return func(gtx layout.Context) layout.Dimensions { return texts.layout(gtx, txt, 14, colFg) }
}

func muted(th *material.Theme, txt string) layout.Widget {
	return func(gtx layout.Context) layout.Dimensions { return texts.layout(gtx, txt, 14, colMuted) }
}

// coloured is a label in a given colour and size.
func coloured(txt string, sp unit.Sp, col color.NRGBA) layout.Widget {
	return func(gtx layout.Context) layout.Dimensions { return texts.layout(gtx, txt, sp, col) }
}

// stat is a "name  value" row.
func stat(th *material.Theme, name, value string) layout.Widget {
	return func(gtx layout.Context) layout.Dimensions {
		return layout.Flex{}.Layout(gtx,
			layout.Rigid(func(gtx layout.Context) layout.Dimensions {
				// a fixed name column: the label's own size would ignore the minimum
				w := gtx.Dp(110)
				gtx.Constraints.Min.X = 0
				d := muted(th, name)(gtx)
				d.Size.X = max(d.Size.X, w)
				return d
			}),
			layout.Flexed(1, label(th, value)),
		)
	}
}

// button is a themed button; primary buttons use the accent colour. (Square, with a cached
// label: see textCache.)
func button(th *material.Theme, c *widget.Clickable, txt string, primary, enabled bool) layout.Widget {
	return func(gtx layout.Context) layout.Dimensions {
		bg, fg := colRaised, colFg
		if primary {
			bg, fg = colAccent, rgb(0x1a1408)
		}
		if !enabled {
			gtx = gtx.Disabled()
			bg, fg = colRaised, colMuted
		}
		return flatButton(gtx, c, txt, 13, bg, fg, layout.Inset{Top: 7, Bottom: 7, Left: 12, Right: 12})
	}
}

// flatButton draws a clickable rectangle with a label; it lightens while hovered or pressed.
func flatButton(gtx layout.Context, c *widget.Clickable, txt string, sp unit.Sp, bg, fg color.NRGBA, in layout.Inset) layout.Dimensions {
	return c.Layout(gtx, func(gtx layout.Context) layout.Dimensions {
		m := op.Record(gtx.Ops)
		gtx.Constraints.Min = image.Point{}
		dims := in.Layout(gtx, func(gtx layout.Context) layout.Dimensions { return texts.layout(gtx, txt, sp, fg) })
		call := m.Stop()
		if gtx.Enabled() && (c.Hovered() || c.Pressed()) {
			bg = lighten(bg)
		}
		fill(gtx, bg, dims.Size)
		call.Add(gtx.Ops)
		return dims
	})
}

func lighten(c color.NRGBA) color.NRGBA {
	l := func(v uint8) uint8 { return uint8(min(255, int(v)+24)) }
	return color.NRGBA{R: l(c.R), G: l(c.G), B: l(c.B), A: c.A}
}

// row lays widgets out horizontally with a gap.
func row(gap unit.Dp, ws ...layout.Widget) layout.Widget {
	return func(gtx layout.Context) layout.Dimensions {
		children := make([]layout.FlexChild, 0, 2*len(ws))
		for i, w := range ws {
			if i > 0 {
				children = append(children, layout.Rigid(layout.Spacer{Width: gap}.Layout))
			}
			children = append(children, layout.Rigid(w))
		}
		return layout.Flex{Alignment: layout.Middle}.Layout(gtx, children...)
	}
}

// column lays widgets out vertically with a gap.
func column(gap unit.Dp, ws ...layout.Widget) layout.Widget {
	return func(gtx layout.Context) layout.Dimensions {
		children := make([]layout.FlexChild, 0, 2*len(ws))
		for i, w := range ws {
			if i > 0 {
				children = append(children, layout.Rigid(layout.Spacer{Height: gap}.Layout))
			}
			children = append(children, layout.Rigid(w))
		}
		return layout.Flex{Axis: layout.Vertical}.Layout(gtx, children...)
	}
}

// editor is a single-line text field on a raised background.
func editor(th *material.Theme, e *widget.Editor, hint string, width unit.Dp) layout.Widget {
	return func(gtx layout.Context) layout.Dimensions {
		gtx.Constraints.Min.X = gtx.Dp(width)
		gtx.Constraints.Max.X = gtx.Dp(width)
		m := op.Record(gtx.Ops)
		dims := layout.Inset{Top: 6, Bottom: 6, Left: 8, Right: 8}.Layout(gtx, func(gtx layout.Context) layout.Dimensions {
			ed := material.Editor(th, e, hint)
			ed.TextSize = 13
			ed.HintColor = colMuted
			return ed.Layout(gtx)
		})
		call := m.Stop()
		defer clip.Rect(image.Rectangle{Max: dims.Size}).Push(gtx.Ops).Pop()
		paint.ColorOp{Color: colRaised}.Add(gtx.Ops)
		paint.PaintOp{}.Add(gtx.Ops)
		call.Add(gtx.Ops)
		return dims
	}
}

// strokeRect outlines a rectangle.
func strokeRect(gtx layout.Context, r image.Rectangle, col color.NRGBA, width float32) {
	var p clip.Path
	p.Begin(gtx.Ops)
	p.MoveTo(f32.Pt(float32(r.Min.X), float32(r.Min.Y)))
	p.LineTo(f32.Pt(float32(r.Max.X), float32(r.Min.Y)))
	p.LineTo(f32.Pt(float32(r.Max.X), float32(r.Max.Y)))
	p.LineTo(f32.Pt(float32(r.Min.X), float32(r.Max.Y)))
	p.Close()
	paint.FillShape(gtx.Ops, col, clip.Stroke{Path: p.End(), Width: width}.Op())
}
