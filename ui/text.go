package ui

import (
	"image"
	"image/color"
	"image/draw"
	"strings"

	"gioui.org/layout"
	"gioui.org/op/paint"
	"gioui.org/unit"
	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"
)

// textCache draws static labels as images rasterised once on the CPU with the Go font (the
// typeface of the theme). Gio draws each glyph as a vector path every frame; on a GPU that is
// free, but under Xvfb with Mesa's software renderer each glyph costs about 15 microseconds, and a
// pane of labels alone would take 10-15 ms a frame. A cached label is one textured quad.
type textCache struct {
	faces map[int]font.Face
	items map[textKey]*textImage
	frame int
}

type textKey struct {
	s     string
	px    int
	col   color.NRGBA
	width int // wrapping width in pixels (0: no wrapping)
}

type textImage struct {
	op   paint.ImageOp
	size image.Point
	used int
}

func (c *textCache) face(px int) font.Face {
	if c.faces == nil {
		c.faces = map[int]font.Face{}
	}
	if f, ok := c.faces[px]; ok {
		return f
	}
	f := labelFace(float64(px))
	c.faces[px] = f
	return f
}

// wrap splits s into lines no wider than width (words longer than a line are split anywhere).
func wrap(f font.Face, s string, width int) []string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		if width <= 0 || font.MeasureString(f, para).Ceil() <= width {
			out = append(out, para)
			continue
		}
		line := ""
		for _, word := range strings.Fields(para) {
			try := word
			if line != "" {
				try = line + " " + word
			}
			if font.MeasureString(f, try).Ceil() <= width {
				line = try
				continue
			}
			if line != "" {
				out = append(out, line)
			}
			line = word
			for font.MeasureString(f, line).Ceil() > width && len(line) > 1 { // a very long word
				cut := len(line) - 1
				for cut > 1 && font.MeasureString(f, line[:cut]).Ceil() > width {
					cut--
				}
				out = append(out, line[:cut])
				line = line[cut:]
			}
		}
		out = append(out, line)
	}
	return out
}

// layout draws s at size sp in colour col, wrapped to the maximum width.
func (c *textCache) layout(gtx layout.Context, s string, sp unit.Sp, col color.NRGBA) layout.Dimensions {
	px := gtx.Sp(sp)
	if c.items == nil {
		c.items = map[textKey]*textImage{}
	}
	c.frame++
	k := textKey{s: s, px: px, col: col, width: gtx.Constraints.Max.X}
	t, ok := c.items[k]
	if !ok {
		t = c.render(k)
		c.items[k] = t
		if len(c.items) > 2000 { // forget labels not drawn for a while
			for key, it := range c.items {
				if c.frame-it.used > 5000 {
					delete(c.items, key)
				}
			}
		}
	}
	t.used = c.frame
	if t.size.X > 0 && t.size.Y > 0 {
		t.op.Add(gtx.Ops)
		paint.PaintOp{}.Add(gtx.Ops)
	}
	return layout.Dimensions{Size: t.size, Baseline: 0}
}

func (c *textCache) render(k textKey) *textImage {
	f := c.face(k.px)
	if f == nil {
		return &textImage{}
	}
	m := f.Metrics()
	lines := wrap(f, k.s, k.width)
	lh := m.Height.Ceil()
	w := 0
	for _, l := range lines {
		w = max(w, font.MeasureString(f, l).Ceil())
	}
	h := lh * len(lines)
	if w == 0 || h == 0 {
		return &textImage{size: image.Pt(w, h)}
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	d := font.Drawer{Dst: img, Src: image.NewUniform(k.col), Face: f}
	for i, l := range lines {
		d.Dot = fixed.P(0, i*lh+m.Ascent.Ceil())
		d.DrawString(l)
	}
	_ = draw.Over
	return &textImage{op: paint.NewImageOp(img), size: img.Bounds().Size()}
}
