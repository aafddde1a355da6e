package data

import (
	"image"
	"math"
)

// plane is an 8-bit image with c interleaved channels (1 = gray, 3 = RGB).
type plane struct {
	w, h, c int
	pix     []uint8 // len w*h*c, row-major
}

func newPlane(w, h, c int) plane {
	return plane{w: w, h: h, c: c, pix: make([]uint8, w*h*c)}
}

func (p plane) row(y int) []uint8 { return p.pix[y*p.w*p.c : (y+1)*p.w*p.c] }

// workImage is a working copy: level 0 plus its mipmap pyramid, each level
// half the size of the previous one (rounded down).
type workImage struct {
	levels []plane
}

// minLevelSide stops the pyramid: no level has a short side below it.
const minLevelSide = 4

// newWorkImage builds the pyramid over base.
func newWorkImage(base plane) *workImage {
	wi := &workImage{levels: []plane{base}}
	var s resampler
	for {
		p := wi.levels[len(wi.levels)-1]
		nw, nh := p.w/2, p.h/2
		if min(nw, nh) < minLevelSide {
			break
		}
		wi.levels = append(wi.levels, s.scalePlane(p, nw, nh))
	}
	return wi
}

// pyramidBytes is the memory newWorkImage uses for a w x h x c base.
func pyramidBytes(w, h, c int) int64 {
	total := int64(w) * int64(h) * int64(c)
	for {
		w, h = w/2, h/2
		if min(w, h) < minLevelSide {
			return total
		}
		total += int64(w) * int64(h) * int64(c)
	}
}

// level picks the smallest pyramid level on which a region of rw x rh
// level-0 pixels still covers at least ow x oh pixels, and returns it with
// its scale relative to level 0.
func (wi *workImage) level(rw, rh float64, ow, oh int) (p plane, sx, sy float64) {
	base := wi.levels[0]
	p, sx, sy = base, 1, 1
	for _, l := range wi.levels[1:] {
		lx, ly := float64(l.w)/float64(base.w), float64(l.h)/float64(base.h)
		if rw*lx < float64(ow) || rh*ly < float64(oh) {
			break
		}
		p, sx, sy = l, lx, ly
	}
	return p, sx, sy
}

// thumbnail resamples the whole image to long side size.
func (wi *workImage) thumbnail(size int) image.Image {
	base := wi.levels[0]
	tw, th := fitLong(base.w, base.h, size)
	p, _, _ := wi.level(float64(base.w), float64(base.h), tw, th)
	var s resampler
	small := s.scalePlane(p, tw, th)
	img := image.NewRGBA(image.Rect(0, 0, tw, th))
	for i := 0; i < tw*th; i++ {
		if small.c == 1 {
			v := small.pix[i]
			img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2] = v, v, v
		} else {
			copy(img.Pix[4*i:4*i+3], small.pix[3*i:3*i+3])
		}
		img.Pix[4*i+3] = 255
	}
	return img
}

// fitLong scales w x h so that its long side is size (short side >= 1).
func fitLong(w, h, size int) (int, int) {
	if w >= h {
		return size, max(1, int(math.Round(float64(h)*float64(size)/float64(w))))
	}
	return max(1, int(math.Round(float64(w)*float64(size)/float64(h)))), size
}

// weights are the taps of a 1-D resampling: output i is the weighted sum of
// source samples start[i], start[i]+1, ... with weights w[off[i]:off[i+1]].
type weights struct {
	start []int
	off   []int
	w     []float32
}

// build computes the taps mapping source interval [x0, x0+span) of a
// source of length srcLen onto n outputs. When shrinking (span >= n) each
// output is the exact area average of the source it covers (a box filter
// with fractional coverage at the ends); when enlarging it is bilinear.
// Taps outside the source are clamped to the edge.
func (wt *weights) build(srcLen int, x0, span float64, n int) {
	wt.start = wt.start[:0]
	wt.off = append(wt.off[:0], 0)
	wt.w = wt.w[:0]
	step := span / float64(n)
	last := srcLen - 1
	for i := 0; i < n; i++ {
		a := x0 + float64(i)*step
		if step >= 1 {
			b := a + step
			j0 := int(math.Floor(a))
			j1 := int(math.Ceil(b)) - 1
			j0 = min(max(j0, 0), last)
			j1 = min(max(j1, j0), last)
			var sum float32
			first := len(wt.w)
			for j := j0; j <= j1; j++ {
				cover := math.Min(b, float64(j+1)) - math.Max(a, float64(j))
				cover = max(cover, 0)
				wt.w = append(wt.w, float32(cover))
				sum += float32(cover)
			}
			if sum <= 0 { // degenerate (clamped) interval: take the edge pixel
				wt.w = wt.w[:first]
				wt.w = append(wt.w, 1)
				j1 = j0
				sum = 1
			}
			for k := first; k < len(wt.w); k++ {
				wt.w[k] /= sum
			}
			wt.start = append(wt.start, j0)
		} else {
			c := a + step/2 - 0.5
			j := math.Floor(c)
			t := float32(c - j)
			j0 := int(j)
			switch {
			case j0 < 0:
				wt.start = append(wt.start, 0)
				wt.w = append(wt.w, 1)
			case j0 >= last:
				wt.start = append(wt.start, last)
				wt.w = append(wt.w, 1)
			default:
				wt.start = append(wt.start, j0)
				wt.w = append(wt.w, 1-t, t)
			}
		}
		wt.off = append(wt.off, len(wt.w))
	}
}

// span returns the range [lo, hi] of source indices the taps read.
func (wt *weights) span() (lo, hi int) {
	lo, hi = wt.start[0], wt.start[0]
	for i, s := range wt.start {
		lo = min(lo, s)
		hi = max(hi, s+wt.off[i+1]-wt.off[i]-1)
	}
	return lo, hi
}

// resampler holds reusable buffers for separable resampling.
type resampler struct {
	hw, vw weights
	tmp    []float32
	out    []float32
	rowBuf []uint8
}

// resample runs a separable resampling with the taps in s.hw and s.vw over a
// source of c channels whose row y is returned by src (len srcW*c; it may
// reuse its buffer between calls). emit receives each output row in order
// (len n*c, values in 0..255); the slice is reused between calls.
func (s *resampler) resample(c int, src func(y int) []uint8, emit func(y int, row []float32)) {
	nx := len(s.hw.start)
	ny := len(s.vw.start)
	lo, hi := s.vw.span()
	rowLen := nx * c
	need := (hi - lo + 1) * rowLen
	if cap(s.tmp) < need {
		s.tmp = make([]float32, need)
	}
	tmp := s.tmp[:need]
	// Horizontal pass over the rows the vertical taps read.
	for y := lo; y <= hi; y++ {
		in := src(y)
		t := tmp[(y-lo)*rowLen : (y-lo+1)*rowLen]
		for x := 0; x < nx; x++ {
			ws := s.hw.w[s.hw.off[x]:s.hw.off[x+1]]
			j := s.hw.start[x] * c
			if c == 1 {
				var a float32
				for k, w := range ws {
					a += w * float32(in[j+k])
				}
				t[x] = a
				continue
			}
			var r, g, b float32
			px := in[j : j+3*len(ws)]
			for k, w := range ws {
				q := px[3*k : 3*k+3 : 3*k+3]
				r += w * float32(q[0])
				g += w * float32(q[1])
				b += w * float32(q[2])
			}
			t[3*x], t[3*x+1], t[3*x+2] = r, g, b
		}
	}
	// Vertical pass.
	if cap(s.out) < rowLen {
		s.out = make([]float32, rowLen)
	}
	out := s.out[:rowLen]
	for y := 0; y < ny; y++ {
		clear(out)
		ws := s.vw.w[s.vw.off[y]:s.vw.off[y+1]]
		r0 := s.vw.start[y] - lo
		for k, w := range ws {
			t := tmp[(r0+k)*rowLen : (r0+k+1)*rowLen]
			for i, v := range t {
				out[i] += w * v
			}
		}
		emit(y, out)
	}
}

// scalePlane resamples all of p to w x h.
func (s *resampler) scalePlane(p plane, w, h int) plane {
	s.hw.build(p.w, 0, float64(p.w), w)
	s.vw.build(p.h, 0, float64(p.h), h)
	out := newPlane(w, h, p.c)
	s.resample(p.c, p.row, func(y int, row []float32) {
		toBytes(out.row(y), row)
	})
	return out
}

// toBytes rounds values in 0..255 to bytes, clamping.
func toBytes(dst []uint8, src []float32) {
	for i, v := range src {
		switch {
		case v <= 0:
			dst[i] = 0
		case v >= 255:
			dst[i] = 255
		default:
			dst[i] = uint8(v + 0.5)
		}
	}
}
